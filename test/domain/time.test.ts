// Reading instants from text (src/domain/time.ts): providers' timestamps strictly as RFC 3339,
// what an operator types as a date or date-time, UTC when no offset is given. Neither depends on
// the machine's time zone or on Date.parse's looser forms.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseOperatorInstant, parseRfc3339Millis } from "../../src/domain/time.js";

describe("RFC 3339 (providers)", () => {
  it("reads any number of fractional digits and any offset, and nothing looser", () => {
    expect(parseRfc3339Millis("2023-01-17T12:26:23.000000Z")).toBe(Date.UTC(2023, 0, 17, 12, 26, 23));
    expect(parseRfc3339Millis("2024-04-12T10:18:49.334150Z")).toBe(Date.UTC(2024, 3, 12, 10, 18, 49, 334));
    expect(parseRfc3339Millis("2024-04-12T12:18:49+02:00")).toBe(Date.UTC(2024, 3, 12, 10, 18, 49));
    for (const loose of ["2024-04-12", "2024-04-12T10:18:49", "2024-04-12 10:18:49Z", "2024-04-12T10:18:49+0200", "2023-02-29T00:00:00Z", " 2024-04-12T10:18:49Z"]) {
      expect(parseRfc3339Millis(loose), loose).toBeNull();
    }
  });
});

describe("operator input (CLI flags, export lines, the API's since)", () => {
  it("reads a date as midnight UTC and a date-time without an offset as UTC", () => {
    expect(parseOperatorInstant("2026-01-31")).toBe(Date.UTC(2026, 0, 31));
    expect(parseOperatorInstant("2026-01-31T12:00")).toBe(Date.UTC(2026, 0, 31, 12));
    expect(parseOperatorInstant("2026-01-31 12:00:00.5")).toBe(Date.UTC(2026, 0, 31, 12, 0, 0, 500));
    expect(parseOperatorInstant("2026-01-31T12:00:00+0200")).toBe(Date.UTC(2026, 0, 31, 10));
    expect(parseOperatorInstant(" 2026-01-31T12:00:00z ")).toBe(Date.UTC(2026, 0, 31, 12));
  });

  it("refuses numbers, words and dates that do not exist", () => {
    for (const text of ["1", "2001", "yesterday", "2026-02-30", "2026-13-01", "2026-01-31T24:00", "31/01/2026", ""]) expect(parseOperatorInstant(text), text).toBeNull();
  });

  it("agrees with RFC 3339 on every instant written with Z", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }), (d) => {
        const text = d.toISOString();
        expect(parseOperatorInstant(text)).toBe(d.getTime());
        expect(parseRfc3339Millis(text)).toBe(d.getTime());
      }),
    );
  });
});
