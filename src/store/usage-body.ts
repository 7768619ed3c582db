// The stored body of a usage record (source "app", type "usage.recorded"): Verity's own versioned
// JSON, kept byte for byte like a provider's event. It states the decision as it was made (the
// period, the counter after it, the quota), so replay and verify sum the log without the catalog
// or the clock, and a repeated idempotency key is answered from it.
import { Either, ParseResult, Schema } from "effect";
import type { Instant } from "../domain/time.js";
import { scaleUnits, unscaleUnits, type UsageRecord } from "../domain/usage.js";

export const USAGE_EVENT_TYPE = "usage.recorded";

/** The event id a record is stored under: one per subject and idempotency key, so a key counts once. */
export const usageEventId = (subject: string, idempotencyKey: string): string => `usage:${subject}:${idempotencyKey}`;

const iso = (t: Instant): string => new Date(t).toISOString();

export const Time = Schema.String.pipe(
  Schema.transformOrFail(Schema.Number, {
    strict: true,
    decode: (s, _, ast) => {
      const t = Date.parse(s);
      return Number.isNaN(t) ? ParseResult.fail(new ParseResult.Type(ast, s, "expected an ISO time")) : ParseResult.succeed(t);
    },
    encode: (t) => ParseResult.succeed(iso(t)),
  }),
);

const Body = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal("usage"),
  subject: Schema.String,
  userId: Schema.String,
  feature: Schema.String,
  units: Schema.Number,
  decimals: Schema.Int,
  at: Time,
  periodStart: Time,
  periodEnd: Schema.NullOr(Time),
  usedAfter: Schema.Number,
  limit: Schema.NullOr(Schema.Number),
  overage: Schema.Literal("block", "allow"),
  source: Schema.String,
  idempotencyKey: Schema.String,
  keyId: Schema.String,
  requestId: Schema.String,
  credits: Schema.optional(
    Schema.Struct({
      cost: Schema.Int,
      takes: Schema.Array(Schema.Struct({ lot: Schema.String, bucket: Schema.Literal("subscription", "oneTime"), amount: Schema.Int })),
      balances: Schema.Struct({ subscription: Schema.Int, oneTime: Schema.Int }),
    }),
  ),
});

/** The record as the JSON stored for it (units in the API's numbers, times in ISO). */
export const usageBody = (r: UsageRecord) => ({
  v: 1,
  kind: "usage",
  subject: r.subject,
  userId: r.userId,
  feature: r.feature,
  units: unscaleUnits(r.units, r.decimals),
  decimals: r.decimals,
  at: iso(r.at),
  periodStart: iso(r.period.start),
  periodEnd: r.period.end === null ? null : iso(r.period.end),
  usedAfter: unscaleUnits(r.usedAfter, r.decimals),
  limit: r.limit,
  overage: r.overage,
  source: r.source,
  idempotencyKey: r.idempotencyKey,
  keyId: r.keyId,
  requestId: r.requestId,
  ...(r.credits ? { credits: { cost: r.credits.cost, takes: r.credits.takes.map((t) => ({ lot: t.lot, bucket: t.bucket, amount: t.amount })), balances: r.credits.balances } } : {}),
});

const decodeBody = Schema.decodeUnknownEither(Body, { errors: "all" });

/** The scaled value of a stored number, which was written at `decimals` (a failure means the body was altered). */
const scaled = (units: number, decimals: number, name: string): Either.Either<number, string> => {
  if (units === 0) return Either.right(0);
  const s = scaleUnits(units, decimals);
  return s._tag === "Scaled" ? Either.right(s.scaled) : Either.left(`${name}: ${units} is not a count at ${decimals} decimals`);
};

/** A stored usage body read back, or what is wrong with it (with the path). */
export const decodeUsageBody = (payload: unknown): Either.Either<UsageRecord, string> =>
  Either.gen(function* () {
    const b = yield* Either.mapLeft(decodeBody(payload), (e) => ParseResult.TreeFormatter.formatErrorSync(e));
    const units = yield* scaled(b.units, b.decimals, "units");
    const usedAfter = yield* scaled(b.usedAfter, b.decimals, "usedAfter");
    return {
      subject: b.subject,
      userId: b.userId,
      feature: b.feature,
      units,
      decimals: b.decimals,
      at: b.at,
      period: { start: b.periodStart, end: b.periodEnd },
      usedAfter,
      limit: b.limit,
      overage: b.overage,
      source: b.source,
      idempotencyKey: b.idempotencyKey,
      keyId: b.keyId,
      requestId: b.requestId,
      ...(b.credits ? { credits: { cost: b.credits.cost, takes: b.credits.takes, balances: b.credits.balances } } : {}),
    };
  });

/** A stored usage event's record; a body that does not decode was altered after it was written. */
export const usageRecordOf = (rawBody: Uint8Array | string): UsageRecord => {
  const decoded = decodeUsageBody(JSON.parse(typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8")));
  if (decoded._tag === "Left") throw new Error(`a stored usage record does not decode: ${decoded.left}`);
  return decoded.right;
};
