// Usage thresholds: as a counter grows record by record, each threshold of its limit is crossed
// exactly once, by the record that brings it from below to at or above it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crossedThresholds } from "../../src/domain/usage.js";

describe("usage thresholds", () => {
  it("are each crossed once, in order, by the record that reaches them", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 150 }), { minLength: 1, maxLength: 4 }),
        (limit, decimals, units, thresholds) => {
          let used = 0;
          const crossed: number[] = [];
          for (const u of units) {
            used += u;
            crossed.push(...crossedThresholds({ limit, decimals, usedAfter: used, units: u }, thresholds));
          }
          const scaled = limit * 10 ** decimals;
          expect([...crossed].sort((a, b) => a - b)).toEqual(thresholds.filter((p) => used * 100 >= p * scaled).sort((a, b) => a - b));
        },
      ),
    );
  });

  it("says nothing for a feature without a limit", () => {
    expect(crossedThresholds({ limit: null, decimals: 0, usedAfter: 1_000_000, units: 1_000_000 }, [80, 100])).toEqual([]);
    expect(crossedThresholds({ limit: 10, decimals: 0, usedAfter: 8, units: 1 }, [80, 100])).toEqual([80]);
    expect(crossedThresholds({ limit: 10, decimals: 0, usedAfter: 12, units: 5 }, [80, 100])).toEqual([80, 100]);
    expect(crossedThresholds({ limit: 10, decimals: 0, usedAfter: 9, units: 1 }, [80, 100])).toEqual([]);
  });
});
