// Paddle notification envelopes and RFC 3339 timestamps: what ingest decodes before storing, with
// errors that name the path, and timestamps read to the digit whatever their precision.
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { decodePaddleEnvelope, paddleDerivedEventId } from "../../src/providers/paddle/envelope.js";
import { instant } from "../../src/providers/paddle/read.js";
import { parseRfc3339 } from "../../src/domain/time.js";

const base = { event_id: "evt_01unit", event_type: "subscription.updated", occurred_at: "2023-08-11T08:07:38.334150Z", notification_id: "ntf_01unit", data: { id: "sub_01unit" } };

const without = (key: keyof typeof base): Record<string, unknown> => {
  const copy: Record<string, unknown> = { ...base };
  delete copy[key];
  return copy;
};

const errorOf = (payload: unknown): string => {
  const result = decodePaddleEnvelope(payload);
  if (Either.isRight(result)) throw new Error("expected the envelope to be refused");
  return result.left;
};

describe("decodePaddleEnvelope", () => {
  it("takes id, type and occurred_at (to the millisecond) from the body", () => {
    expect(decodePaddleEnvelope(base)).toEqual(
      Either.right({ providerEventId: "evt_01unit", type: "subscription.updated", occurredAt: Date.UTC(2023, 7, 11, 8, 7, 38, 334) }),
    );
  });

  it("accepts a missing or null notification_id (events API items) and simulator ids", () => {
    const { notification_id: _n, ...withoutNotification } = base;
    expect(Either.isRight(decodePaddleEnvelope(withoutNotification))).toBe(true);
    expect(Either.isRight(decodePaddleEnvelope({ ...base, notification_id: null }))).toBe(true);
    expect(decodePaddleEnvelope({ ...base, event_id: "ntfsimevt_01h8bkdwm5ewz4zyfr7n4bpc6n" })).toMatchObject({ right: { providerEventId: "ntfsimevt_01h8bkdwm5ewz4zyfr7n4bpc6n" } });
  });

  it.each([
    ["a non-object body", [], /must be a JSON object, got an array/],
    ["null", null, /must be a JSON object, got null/],
    ["no event_type", without("event_type"), /event_type: is missing/],
    ["a blank event_type", { ...base, event_type: "  " }, /event_type:/],
    ["a numeric event_id", { ...base, event_id: 42 }, /event_id: /],
    ["a blank event_id", { ...base, event_id: "" }, /event_id: /],
    ["no occurred_at", without("occurred_at"), /occurred_at: is missing/],
    ["a date that is not RFC 3339", { ...base, occurred_at: "11/08/2023 08:07" }, /occurred_at: expected an RFC 3339 timestamp .* got "11\/08\/2023 08:07"/],
    ["a timestamp without a zone", { ...base, occurred_at: "2023-08-11T08:07:38.334150" }, /occurred_at: expected an RFC 3339/],
    ["an impossible date", { ...base, occurred_at: "2023-02-29T00:00:00Z" }, /occurred_at: expected an RFC 3339/],
    ["unix seconds", { ...base, occurred_at: 1691741258 }, /occurred_at: Expected string/],
    ["no data", without("data"), /data: is missing/],
    ["an array as data", { ...base, data: [] }, /data: Expected/],
  ])("refuses %s, naming the path", (_name, payload, message) => {
    const error = errorOf(payload);
    expect(error).toMatch(message);
  });

  it("reports every problem at once", () => {
    const error = errorOf({ event_type: 5, occurred_at: "soon", data: null });
    expect(error).toMatch(/^invalid Paddle notification envelope: /);
    for (const path of ["event_type", "occurred_at", "data"]) expect(error).toContain(`${path}:`);
  });

  it("derives a stable id from the body's content when event_id is absent or null", () => {
    const { event_id: _e, ...withoutId } = base;
    const derived = paddleDerivedEventId(withoutId);
    expect(derived).toMatch(/^derived_[0-9a-f]{16}$/);
    expect(decodePaddleEnvelope(withoutId)).toMatchObject({ right: { providerEventId: derived } });
    expect(decodePaddleEnvelope({ ...base, event_id: null })).toMatchObject({ right: { providerEventId: derived } });
    // Key order and notification_id do not matter; data, type and time do.
    const reordered = JSON.parse(JSON.stringify({ data: base.data, occurred_at: base.occurred_at, event_type: base.event_type })) as unknown;
    expect(paddleDerivedEventId(reordered)).toBe(derived);
    expect(decodePaddleEnvelope({ ...withoutId, notification_id: "ntf_other" })).toMatchObject({ right: { providerEventId: derived } });
    expect(paddleDerivedEventId({ ...withoutId, data: { id: "sub_01other" } })).not.toBe(derived);
    expect(paddleDerivedEventId({ ...withoutId, event_type: "subscription.created" })).not.toBe(derived);
    expect(paddleDerivedEventId({ ...withoutId, occurred_at: "2023-08-11T08:07:38.334151Z" })).not.toBe(derived);
  });
});

describe("parseRfc3339", () => {
  const at = (iso: string) => parseRfc3339(iso);

  it.each([
    ["2024-04-12T10:18:48.831Z", 831, 0],
    ["2023-08-11T08:07:38.334150Z", 334, 150_000],
    ["2024-04-12T10:30:27.584874645Z", 584, 874_645],
    ["2023-08-22T07:15:37.09387Z", 93, 870_000],
    ["2023-08-22T07:15:37.1Z", 100, 0],
    ["2023-08-22T07:15:37Z", 0, 0],
    ["2023-08-22T07:15:37.123456789123Z", 123, 456_789],
  ])("reads %s as a decimal fraction of a second", (iso, millis, nanos) => {
    const parsed = at(iso)!;
    expect(parsed.epochMs % 1000).toBe(millis);
    expect(parsed.subMillisecondNanos).toBe(nanos);
    expect(parsed.epochMs - millis).toBe(Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10)), Number(iso.slice(11, 13)), Number(iso.slice(14, 16)), Number(iso.slice(17, 19))));
  });

  it("applies offsets and accepts lower-case separators", () => {
    expect(at("2023-08-11T10:07:38.5+02:00")!.epochMs).toBe(Date.UTC(2023, 7, 11, 8, 7, 38, 500));
    expect(at("2023-08-11T03:37:38-04:30")!.epochMs).toBe(Date.UTC(2023, 7, 11, 8, 7, 38));
    expect(at("2023-08-11t08:07:38z")!.epochMs).toBe(Date.UTC(2023, 7, 11, 8, 7, 38));
  });

  it("reads years below 100 as themselves (not 1900 + year) and knows leap years", () => {
    expect(at("0001-01-01T00:00:00Z")!.epochMs).toBe(-62135596800000);
    expect(at("0099-12-31T23:59:59Z")!.epochMs).toBe(new Date("0099-12-31T23:59:59Z").getTime());
    expect(at("2024-02-29T00:00:00Z")).not.toBeNull();
    expect(at("2000-02-29T00:00:00Z")).not.toBeNull();
    expect(at("1900-02-29T00:00:00Z")).toBeNull();
    expect(at("2023-04-31T00:00:00Z")).toBeNull();
  });

  it.each(["", "2023-08-11", "2023-08-11T08:07Z", "2023-08-11T24:00:00Z", "2023-08-11T08:60:00Z", "2023-08-11T08:07:60Z", "2023-13-01T00:00:00Z", "2023-08-11T08:07:38.Z", "2023-08-11T08:07:38+2:00", "2023-08-11T08:07:38+24:00", " 2023-08-11T08:07:38Z"])(
    "refuses %j",
    (value) => expect(at(value)).toBeNull(),
  );

  it("treats Go's zero time (Paddle's never-set timestamp) as absent in entities", () => {
    expect(instant("0001-01-01T00:00:00Z")).toBeNull();
    expect(instant("2023-08-21T14:10:08.42549Z")).toBe(Date.UTC(2023, 7, 21, 14, 10, 8, 425));
    expect(instant(1692626408)).toBeNull();
  });
});
