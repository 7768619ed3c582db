// The pure rules of metering: which units a meter accepts (exactly, at its declared precision) and
// which period a usage counts in.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countersOf, decideQuota, maxUnits, scaledLimit, scaleUnits, unscaleUnits, usagePeriod } from "../../src/domain/usage.js";

const runs = { numRuns: Number(process.env["FC_NUM_RUNS"] ?? 500) };
const decimals = fc.integer({ min: 0, max: 6 });

describe("scaleUnits", () => {
  it("accepts any number with at most the meter's digits after the point, as the exact whole number of its smallest unit", () => {
    fc.assert(
      fc.property(decimals, fc.integer({ min: 1, max: 1_000_000_000_000 }), (d, k) => {
        const units = Number(`${k}e-${d}`);
        expect(scaleUnits(units, d)).toEqual({ _tag: "Scaled", scaled: k });
        expect(unscaleUnits(k, d)).toBe(units);
      }),
      runs,
    );
  });

  it("refuses a number with more digits after the point than the meter declares", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 1_000_000_000 }).filter((k) => k % 10 !== 0), (d, k) => {
        expect(scaleUnits(Number(`${k}e-${d + 1}`), d)).toEqual({ _tag: "TooPrecise", decimals: d });
      }),
      runs,
    );
  });

  it.each([
    [0, 0, "NotPositive"],
    [-1, 0, "NotPositive"],
    [-0.5, 3, "NotPositive"],
    [Number.NaN, 0, "NotANumber"],
    [Number.POSITIVE_INFINITY, 0, "NotANumber"],
    ["5", 0, "NotANumber"],
    [null, 0, "NotANumber"],
    [1.5, 0, "TooPrecise"],
    [1e-7, 6, "TooPrecise"],
    [Number.MAX_SAFE_INTEGER + 2, 0, "TooLarge"],
  ])("refuses %s units at %i decimals (%s)", (units, d, tag) => {
    expect(scaleUnits(units, d)._tag).toBe(tag);
  });

  it("keeps the largest accepted record exact at every precision", () => {
    for (let d = 0; d <= 6; d++) {
      const r = scaleUnits(maxUnits(d), d);
      expect(r._tag).toBe("Scaled");
      expect(Number.isSafeInteger((r as { scaled: number }).scaled)).toBe(true);
      expect(scaleUnits(maxUnits(d) + 1, d)._tag).toBe("TooLarge");
    }
  });
});

describe("usagePeriod", () => {
  const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });

  it("puts a usage in the UTC calendar month and year that contain it", () => {
    fc.assert(
      fc.property(instant, (at) => {
        const month = usagePeriod("month", at, null);
        const d = new Date(at);
        expect(month.start).toBe(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
        expect(month.start <= at && at < month.end!).toBe(true);
        const year = usagePeriod("year", at, null);
        expect(year).toEqual({ start: Date.UTC(d.getUTCFullYear(), 0, 1), end: Date.UTC(d.getUTCFullYear() + 1, 0, 1) });
      }),
      runs,
    );
  });

  it("follows the subscription's billing period for per: period, the calendar month without one", () => {
    const start = Date.UTC(2026, 0, 17, 9);
    const end = Date.UTC(2026, 1, 17, 9);
    expect(usagePeriod("period", Date.UTC(2026, 1, 3), { start, end })).toEqual({ start, end });
    expect(usagePeriod("period", Date.UTC(2026, 1, 3), { start, end: null })).toEqual({ start, end: null });
    expect(usagePeriod("period", Date.UTC(2026, 1, 3), null)).toEqual({ start: Date.UTC(2026, 1, 1), end: Date.UTC(2026, 2, 1) });
    // Past the stated end (the renewal not seen yet), it counts in the period that began at that end.
    expect(usagePeriod("period", Date.UTC(2026, 1, 20), { start, end })).toEqual({ start: end, end: null });
    expect(usagePeriod("period", end, { start, end })).toEqual({ start: end, end: null });
    // A usage before the period the latest snapshot states (a late record) counts in its calendar month.
    expect(usagePeriod("period", Date.UTC(2026, 0, 3), { start, end })).toEqual({ start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 1, 1) });
  });
});

describe("decideQuota and countersOf", () => {
  const quota = fc.record({ limit: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: null }), overage: fc.constantFrom("block" as const, "allow" as const), decimals: fc.integer({ min: 0, max: 3 }) });

  it("never lets a block quota pass its limit, and lets an allow quota count everything", () => {
    fc.assert(
      fc.property(quota, fc.array(fc.integer({ min: 1, max: 5_000 }), { maxLength: 60 }), (q, units) => {
        let used = 0;
        let accepted = 0;
        for (const u of units) {
          const d = decideQuota(q, used, u);
          if (d._tag === "Within") (used = d.usedAfter), (accepted += u);
          else expect(used + u).toBeGreaterThan(scaledLimit(q));
        }
        expect(used).toBe(accepted);
        if (q.limit !== null && q.overage === "block") expect(used).toBeLessThanOrEqual(scaledLimit(q));
        else expect(used).toBe(units.reduce((a, b) => a + b, 0));
      }),
      runs,
    );
  });

  it("sums records to the same counters in any order (conservation: a counter is its records' sum)", () => {
    const record = fc.record({ subject: fc.constantFrom("a", "b"), feature: fc.constantFrom("x", "y"), month: fc.integer({ min: 0, max: 2 }), units: fc.integer({ min: 1, max: 1_000 }) });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), fc.integer(), (rows, seed) => {
        const records = rows.map((r, i) => ({
          subject: r.subject,
          userId: r.subject,
          feature: r.feature,
          units: r.units,
          decimals: 0,
          at: Date.UTC(2026, r.month, 2),
          period: { start: Date.UTC(2026, r.month, 1), end: Date.UTC(2026, r.month + 1, 1) },
          usedAfter: 0,
          limit: null,
          overage: "allow" as const,
          source: "p",
          idempotencyKey: `k${i}`,
          keyId: "k",
          requestId: "r",
        }));
        const shuffled = fc.sample(fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }), { seed, numRuns: 1 })[0]!;
        const counters = countersOf(records);
        expect(countersOf(shuffled)).toEqual(counters);
        for (const c of counters.values()) {
          const mine = records.filter((r) => r.subject === c.subject && r.feature === c.feature && r.period.start === c.periodStart);
          expect(c.used).toBe(mine.reduce((s, r) => s + r.units, 0));
          expect(c.records).toBe(mine.length);
        }
      }),
      runs,
    );
  });
});
