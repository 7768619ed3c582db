// Usage metering, the pure rules: which units a metered feature accepts, and in which calendar
// period a usage falls. Counters keep units scaled to whole numbers (units × 10^decimals), so sums
// are exact whatever the meter's precision.
import type { Period } from "./catalog.js";
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
