// What an event is stored with: a parsed copy when one fits (NUL replaced, key order kept), raw
// only otherwise; ids and types in a form both databases hold. All of it at any input depth.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_PARSED_COPY_DEPTH, nestingDepth, parsedCopy, storedEventId, storedEventType, withoutNul } from "../../src/store/parsed-copy.js";

const NUL = String.fromCharCode(0);

describe("parsed copy", () => {
  it("is the value itself when it holds no NUL, and otherwise the same value with U+FFFD for each NUL, keys in order", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const copy = parsedCopy(value);
        return copy._tag === "Copy" && copy.copy === value;
      }),
      { numRuns: 200 },
    );
    const withNul = JSON.parse(`{"b":"x\\u0000y","a\\u0000":[1,"\\u0000"],"__proto__":{"k":"v"}}`) as unknown;
    const cleaned = withoutNul(withNul) as Record<string, unknown>;
    expect(JSON.stringify(cleaned)).toBe('{"b":"x\uFFFDy","a\uFFFD":[1,"\uFFFD"],"__proto__":{"k":"v"}}');
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
    expect(Object.keys(cleaned)).toEqual(["b", "a\uFFFD", "__proto__"]);
  });

  it("keeps values up to 64 levels and refuses a copy beyond, with the reason; any depth is safe", () => {
    const nested = (depth: number): unknown => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`);
    expect(nestingDepth(nested(MAX_PARSED_COPY_DEPTH))).toBe(MAX_PARSED_COPY_DEPTH);
    expect(parsedCopy(nested(MAX_PARSED_COPY_DEPTH))._tag).toBe("Copy");
    const deep = parsedCopy(nested(MAX_PARSED_COPY_DEPTH + 1));
    expect(deep).toEqual({ _tag: "RawOnly", reason: expect.stringContaining(`deeper than ${MAX_PARSED_COPY_DEPTH} levels`) });
    expect(parsedCopy(nested(300_000))._tag).toBe("RawOnly");
    expect(nestingDepth(withoutNul(nested(300_000)))).toBe(300_000);
    expect(nestingDepth({ a: [1, { b: [] }], c: 2 })).toBe(4);
    expect(nestingDepth("scalar")).toBe(0);
  });

  it("stores plain ids as they are and hashes the rest, keeping distinct ids distinct", () => {
    expect(storedEventId("evt_1NG8Du2eZvKYlo2C")).toBe("evt_1NG8Du2eZvKYlo2C");
    const odd = [`evt${NUL}1`, `evt${NUL}2`, "evt\uD800", "evt\uDC00", "e".repeat(256)];
    const stored = odd.map(storedEventId);
    expect(stored.every((id) => /^sha256_[0-9a-f]{64}$/.test(id))).toBe(true);
    expect(new Set(stored).size).toBe(odd.length);
    expect(storedEventId(`evt${NUL}1`)).toBe(stored[0]);
    expect(storedEventType(`customer.created${NUL}\uD800`)).toBe("customer.created\uFFFD\uFFFD");
    expect(storedEventType("t".repeat(1000))).toHaveLength(255);
  });
});
