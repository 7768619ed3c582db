// Canonical JSON is iterative now (no depth can overflow it); ids already derived from stored
// events depend on its exact text, so it must write what the recursive definition writes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/providers/canonical-json.js";
import { record } from "../../src/providers/json.js";

/** The definition, recursively: keys sorted at every depth, members at left-out paths skipped. */
const reference = (value: unknown, leaveOut: ReadonlySet<string>, path = ""): string => {
  if (Array.isArray(value)) return `[${value.map((v) => reference(v, leaveOut, `${path}[]`)).join(",")}]`;
  const object = record(value);
  if (object === null) return JSON.stringify(value) ?? "null";
  const members = Object.keys(object)
    .sort()
    .map((key) => [key, path === "" ? key : `${path}.${key}`] as const)
    .filter(([, full]) => !leaveOut.has(full))
    .map(([key, full]) => `${JSON.stringify(key)}:${reference(object[key], leaveOut, full)}`);
  return `{${members.join(",")}}`;
};

const keys = fc.constantFrom("a", "b", "meta", "webhook_id", "urls", "attributes", "data", "items", "id", "[]", "__proto__", "é");

describe("canonicalJson", () => {
  it("writes exactly what the recursive definition writes, with and without left-out paths", () => {
    const leaveOuts = fc.constantFrom(
      new Set<string>(),
      new Set(["meta.webhook_id", "data.attributes.urls"]),
      new Set(["id"]),
      new Set(["items[].id", "a.b"]),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie("value"), { maxLength: 4 }), fc.dictionary(keys, tie("value"), { maxKeys: 5 })),
    })).value;
    fc.assert(fc.property(json, leaveOuts, (value, leaveOut) => canonicalJson(value, leaveOut) === reference(value, leaveOut)), { numRuns: 500 });
  });

  it("is the same for any key order and canonicalizes values nested 200,000 deep", () => {
    expect(canonicalJson(JSON.parse('{"b":1,"a":{"d":[1,{"z":0,"y":1}],"c":null}}'))).toBe('{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}');
    const depth = 200_000;
    const deep = JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`) as unknown;
    expect(canonicalJson({ meta: { webhook_id: "w" }, x: deep }, new Set(["meta.webhook_id"]))).toBe(`{"meta":{},"x":${"[".repeat(depth)}${"]".repeat(depth)}}`);
  });
});
