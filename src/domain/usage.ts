// Usage metering, the pure rules: which units a metered feature accepts, and in which calendar
// period a usage falls. Counters keep units scaled to whole numbers (units × 10^decimals), so sums
// are exact whatever the meter's precision.
import type { Period } from "./catalog.js";
import type { Balances, CreditTake } from "./credits.js";
import { startOfNextMonthUtc, startOfNextYearUtc, type Instant } from "./time.js";

/** Why a number of units was refused: what the caller sends back as a 400. */
export type UnitsRefused =
  | { readonly _tag: "NotANumber" }
  | { readonly _tag: "NotPositive" }
  | { readonly _tag: "TooPrecise"; readonly decimals: number }
  | { readonly _tag: "TooLarge"; readonly max: number };

export type ScaledUnits = { readonly _tag: "Scaled"; readonly scaled: number };

/** The largest number of units one record may carry, at `decimals`: its scaled value stays an exact integer. */
export const maxUnits = (decimals: number): number => Math.floor(Number.MAX_SAFE_INTEGER / 10 ** decimals);

/**
 * `units` as the whole number a counter adds (units × 10^decimals), or why it is refused: not a
 * finite number, zero or negative, more digits after the point than the meter declares, or more
 * than one record may carry.
 */
export const scaleUnits = (units: unknown, decimals: number): ScaledUnits | UnitsRefused => {
  if (typeof units !== "number" || !Number.isFinite(units)) return { _tag: "NotANumber" };
  if (units <= 0) return { _tag: "NotPositive" };
  if (units > maxUnits(decimals)) return { _tag: "TooLarge", max: maxUnits(decimals) };
  // The decimal text of the number decides its precision (0.1 × 1000 is not exactly 100 in binary).
  const scaled = Math.round(units * 10 ** decimals);
  if (Number(`${scaled}e-${decimals}`) !== units) return { _tag: "TooPrecise", decimals };
  return { _tag: "Scaled", scaled };
};

/** Scaled units back as the number the API shows. */
export const unscaleUnits = (scaled: number, decimals: number): number => Number(`${scaled}e-${decimals}`);

const startOfMonthUtc = (t: Instant): Instant => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

const startOfYearUtc = (t: Instant): Instant => Date.UTC(new Date(t).getUTCFullYear(), 0, 1);

/** A usage period: from `start` (inclusive) to `end` (exclusive); a billing period's end may not be known. */
export type UsagePeriod = { readonly start: Instant; readonly end: Instant | null };

/**
 * The period a usage at `at` counts in: the UTC calendar month or year, or, for `per: "period"`,
 * the subscription's own billing period as its latest snapshot states it (`billing`; null when
 * the feature is not granted by a subscription, e.g. a lifetime plan: then the calendar month; a
 * usage past the stated end counts in the period that began there, whose end is not known yet).
 */
export const usagePeriod = (per: Period, at: Instant, billing: { readonly start: Instant | null; readonly end: Instant | null } | null): UsagePeriod => {
  switch (per) {
    case "month":
      return { start: startOfMonthUtc(at), end: startOfNextMonthUtc(at) };
    case "year":
      return { start: startOfYearUtc(at), end: startOfNextYearUtc(at) };
    case "period":
      if (billing?.start == null || at < billing.start) return { start: startOfMonthUtc(at), end: startOfNextMonthUtc(at) };
      // Past the stated end, the renewal has not been seen yet: the next period began when this one ended.
      return billing.end !== null && at >= billing.end ? { start: billing.end, end: null } : { start: billing.start, end: billing.end };
    default: {
      const unreachable: never = per;
      return unreachable;
    }
  }
};

// ── the quota decision and the records it leaves ─────────────────────────────────────────────

/**
 * A meter as the user's plan states it when a usage arrives: `limit` units per period (null: a
 * plan grants the feature without a limit), blocked or allowed past it, at `decimals` precision.
 */
export type Quota = { readonly limit: number | null; readonly overage: "block" | "allow"; readonly decimals: number };

/**
 * What a quota says of `scaled` more units on a counter at `used` (both scaled): within it (the
 * counter after them), or over a `block` limit, or more than a counter can hold exactly.
 */
export type QuotaDecision =
  | { readonly _tag: "Within"; readonly usedAfter: number }
  | { readonly _tag: "QuotaExceeded"; readonly used: number }
  | { readonly _tag: "CounterFull"; readonly used: number };

export const decideQuota = (quota: Quota, used: number, scaled: number): QuotaDecision => {
  const usedAfter = used + scaled;
  if (!Number.isSafeInteger(usedAfter)) return { _tag: "CounterFull", used };
  if (quota.limit !== null && quota.overage === "block" && usedAfter > scaledLimit(quota)) return { _tag: "QuotaExceeded", used };
  return { _tag: "Within", usedAfter };
};

/** The limit in the counter's scaled units. */
export const scaledLimit = (quota: Quota): number => (quota.limit === null ? Infinity : Math.round(quota.limit * 10 ** quota.decimals));

/**
 * One accepted usage, as its stored event states it: everything the answer and the counter need,
 * so replay sums the log without asking the catalog or the clock. `subject` is the billing subject
 * the counter belongs to (the user's app id, or Verity's id for a user that has none); `units` and
 * `usedAfter` are scaled (units × 10^decimals); `usedAfter` is the counter once this record counted,
 * as it was answered.
 */
export type UsageRecord = {
  readonly subject: string;
  /** Verity's id of the user when it was recorded (the live feed is filtered by it). */
  readonly userId: string;
  readonly feature: string;
  readonly units: number;
  readonly decimals: number;
  readonly at: Instant;
  readonly period: UsagePeriod;
  readonly usedAfter: number;
  readonly limit: number | null;
  readonly overage: "block" | "allow";
  /** The plan whose quota decided it. */
  readonly source: string;
  readonly idempotencyKey: string;
  /** The API key that sent it and the request's correlation id: the audit trail. */
  readonly keyId: string;
  readonly requestId: string;
  /** For a feature priced in credits: what the use cost and which lots it drew from. */
  readonly credits?: { readonly cost: number; readonly takes: readonly CreditTake[]; readonly balances: Balances } | null;
};

/**
 * The thresholds (percents of the limit) a record's counter crossed: below before it, at or above
 * after. None for a feature without a limit.
 */
export const crossedThresholds = (r: Pick<UsageRecord, "limit" | "decimals" | "usedAfter" | "units">, thresholds: readonly number[]): number[] => {
  if (r.limit === null) return [];
  const limit = r.limit * 10 ** r.decimals;
  const before = r.usedAfter - r.units;
  return thresholds.filter((p) => before * 100 < p * limit && r.usedAfter * 100 >= p * limit);
};

/** A counter: the sum of one subject's usage of one feature in one period (scaled). */
export type UsageCounter = {
  readonly subject: string;
  readonly feature: string;
  readonly periodStart: Instant;
  readonly periodEnd: Instant | null;
  readonly used: number;
  readonly records: number;
};

export const counterKey = (subject: string, feature: string, periodStart: Instant): string => `${subject}\u0000${feature}\u0000${periodStart}`;

/**
 * The counters a set of records sums to: each record adds its units to its period's counter. A
 * sum commutes, so any order of the same records gives the same counters (replay, verify and a
 * rebuild all use this one definition). A period's end is the latest any of its records states.
 */
export const countersOf = (records: Iterable<UsageRecord>): Map<string, UsageCounter> => {
  const counters = new Map<string, UsageCounter>();
  for (const r of records) countRecord(counters, r);
  return counters;
};

/** Adds one record to its counter in `counters` (a fold step of countersOf, for callers that stream). */
export const countRecord = (counters: Map<string, UsageCounter>, r: UsageRecord): void => {
  const key = counterKey(r.subject, r.feature, r.period.start);
  const held = counters.get(key);
  counters.set(key, {
    subject: r.subject,
    feature: r.feature,
    periodStart: r.period.start,
    periodEnd: held === undefined ? r.period.end : laterEnd(held.periodEnd, r.period.end),
    used: (held?.used ?? 0) + r.units,
    records: (held?.records ?? 0) + 1,
  });
};

/** The later of two period ends, an unknown end (null) giving way to a known one. */
export const laterEnd = (a: Instant | null, b: Instant | null): Instant | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** What an accepted usage is answered with (also when its idempotency key is sent again). */
export type UsageAnswer = {
  readonly feature: string;
  readonly limit: number | null;
  readonly used: number;
  readonly remaining: number | null;
  readonly resetsAt: Instant | null;
  /** Units past the limit (an `allow` meter), else 0; null without a limit. */
  readonly overage: number | null;
};

/** The counter at `used` (scaled) against `quota`, in the units the API shows. */
export const meterAnswer = (feature: string, quota: Quota, used: number, resetsAt: Instant | null): UsageAnswer => {
  const limit = quota.limit;
  const shown = unscaleUnits(used, quota.decimals);
  return {
    feature,
    limit,
    used: shown,
    remaining: limit === null ? null : Math.max(0, unscaleUnits(scaledLimit(quota) - Math.min(used, scaledLimit(quota)), quota.decimals)),
    resetsAt,
    overage: limit === null ? null : unscaleUnits(Math.max(0, used - scaledLimit(quota)), quota.decimals),
  };
};

export const recordAnswer = (r: UsageRecord): UsageAnswer => meterAnswer(r.feature, { limit: r.limit, overage: r.overage, decimals: r.decimals }, r.usedAfter, r.period.end);
