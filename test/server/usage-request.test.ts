// The bodies of POST /v1/usage and /v1/check: what is accepted, and every bad input refused with the
// path of what was wrong.
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { decodeCheckRequest, decodeUsageRequest, MAX_BATCH } from "../../src/server/usage-request.js";

const one = { userId: "user_1", feature: "api_calls", units: 1, idempotencyKey: "req-1" };

const refusedWith = (r: Either.Either<unknown, { readonly code: string; readonly message: string }>): string => {
  if (Either.isRight(r)) throw new Error(`expected a refusal, got ${JSON.stringify(r.right)}`);
  expect(r.left.code).toBe("invalid_parameter");
  return r.left.message;
};

describe("POST /v1/usage body", () => {
  it("reads one record, its time when given", () => {
    expect(decodeUsageRequest(one)).toEqual(Either.right({ _tag: "One", record: { ...one, at: null } }));
    expect(decodeUsageRequest({ ...one, units: 0.125, at: "2026-12-01T10:00:00.5+01:00" })).toEqual(
      Either.right({ _tag: "One", record: { ...one, units: 0.125, at: Date.UTC(2026, 11, 1, 9, 0, 0, 500) } }),
    );
  });

  it("reads a batch, record by record", () => {
    const records = [one, { ...one, idempotencyKey: "req-2", units: 3 }];
    expect(decodeUsageRequest({ records })).toEqual(Either.right({ _tag: "Batch", records: records.map((r) => ({ ...r, at: null })) }));
  });

  it.each([
    [{ ...one, userId: "" }, "userId"],
    [{ ...one, userId: "   " }, "userId"],
    [{ ...one, feature: 5 }, "feature"],
    [{ ...one, units: "5" }, "units"],
    [{ ...one, idempotencyKey: undefined }, "idempotencyKey"],
    [{ ...one, idempotencyKey: "k".repeat(256) }, "idempotencyKey"],
    [{ ...one, idempotencyKey: "a\u0000b" }, "idempotencyKey"],
    [{ ...one, at: "yesterday" }, "at"],
    [{ ...one, at: "2026-12-01T10:00:00" }, "at"],
    [{ ...one, extra: true }, "extra"],
    [{ records: [] }, "records"],
    [{ records: [one, { ...one, units: null }] }, "records.1.units"],
    [{ records: Array.from({ length: MAX_BATCH + 1 }, () => one) }, "records"],
    [[one], "(body)"],
    [null, "(body)"],
  ])("refuses %j, naming %s", (body, path) => {
    expect(refusedWith(decodeUsageRequest(body))).toContain(`${path}:`);
  });
});

describe("POST /v1/check body", () => {
  it("reads a check, one unit unless told", () => {
    expect(decodeCheckRequest({ userId: "user_1", feature: "api_calls" })).toEqual(Either.right({ userId: "user_1", feature: "api_calls", units: 1 }));
    expect(decodeCheckRequest({ userId: "user_1", feature: "api_calls", units: 40 })).toEqual(Either.right({ userId: "user_1", feature: "api_calls", units: 40 }));
  });

  it.each([
    [{ feature: "api_calls" }, "userId"],
    [{ userId: "user_1", feature: "api_calls", idempotencyKey: "k" }, "idempotencyKey"],
    [{ userId: "user_1", feature: "api_calls", units: "1" }, "units"],
  ])("refuses %j, naming %s", (body, path) => {
    expect(refusedWith(decodeCheckRequest(body))).toContain(`${path}:`);
  });
});
