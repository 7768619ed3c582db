// The export line format: raw bodies round-trip byte for byte (base64 only when the bytes are not
// UTF-8), and malformed lines are refused with their line number and what is wrong.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeLine, encodeLine, ExportFormatError } from "../../src/offline/ndjson.js";
import type { StoredEvent } from "../../src/store/events.js";

const event = (rawBody: Uint8Array): StoredEvent => ({
  seq: 7,
  provider: "stripe",
  providerEventId: "evt_1",
  type: "customer.created",
  occurredAt: Date.parse("2026-01-02T03:04:05.678Z"),
  receivedAt: Date.parse("2026-01-02T03:04:06Z"),
  origin: "webhook",
  rawBody,
  payload: null,
});

describe("export lines", () => {
  it("round-trip any raw body byte for byte", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const line = encodeLine(event(bytes));
        expect(line.endsWith("\n")).toBe(true);
        expect(line.slice(0, -1)).not.toContain("\n");
        const back = decodeLine(line, 1)!;
        expect(Buffer.from(back.rawBody).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("carry valid UTF-8 (byte order mark, NUL, astral characters) as text only", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const bytes = new TextEncoder().encode(`\uFEFF{"a":"${text}\u0000"}`);
        const record = JSON.parse(encodeLine(event(bytes)));
        expect(record.bodyBase64).toBeUndefined();
        expect(Buffer.from(decodeLine(JSON.stringify(record))!.rawBody).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it("carry the envelope: provider, ids, times, origin, seq", () => {
    const record = JSON.parse(encodeLine(event(new Uint8Array([0xff, 0x7b]))));
    expect(record).toEqual({
      provider: "stripe",
      providerEventId: "evt_1",
      type: "customer.created",
      occurredAt: "2026-01-02T03:04:05.678Z",
      receivedAt: "2026-01-02T03:04:06.000Z",
      origin: "webhook",
      seq: 7,
      body: "\uFFFD{",
      bodyBase64: "/3s=",
    });
    expect(decodeLine(JSON.stringify(record))).toEqual({ ...event(new Uint8Array([0xff, 0x7b])) });
  });

  it("accept hand-written lines without seq, receivedAt or origin", () => {
    const e = decodeLine(`{"provider":"stripe","providerEventId":"evt_x","type":"t","occurredAt":"2026-01-01","body":"{}"}`)!;
    expect(e).toMatchObject({ seq: 0, occurredAt: Date.parse("2026-01-01"), receivedAt: Date.parse("2026-01-01"), origin: "webhook" });
  });

  it.each([
    ["{not json", /line 3: not valid JSON/],
    ["[1,2]", /line 3: expected a JSON object/],
    [`{"provider":"paypal","providerEventId":"e","type":"t","occurredAt":"2026-01-01","body":"{}"}`, /line 3: unknown provider "paypal"/],
    [`{"provider":"stripe","type":"t","occurredAt":"2026-01-01","body":"{}"}`, /line 3: "providerEventId" must be a non-empty string, got nothing/],
    [`{"provider":"stripe","providerEventId":"e","type":"t","occurredAt":"yesterday","body":"{}"}`, /line 3: "occurredAt" is not a date/],
    [`{"provider":"stripe","providerEventId":"e","type":"t","occurredAt":"2026-01-01"}`, /line 3: "body" must be a string/],
    [`{"provider":"stripe","providerEventId":"e","type":"t","occurredAt":"2026-01-01","bodyBase64":"***"}`, /line 3: "bodyBase64" must be a base64 string/],
  ])("refuse %s with the line number", (text, message) => {
    expect(() => decodeLine(text, 3)).toThrow(ExportFormatError);
    expect(() => decodeLine(text, 3)).toThrow(message);
  });

  it("skip blank lines", () => {
    expect(decodeLine("   ", 4)).toBeNull();
  });
});
