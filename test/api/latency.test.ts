// The quota-check latency window: percentiles by nearest rank over the durations recorded since an
// instant, and only the last 10,000 are kept.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LatencyWindow } from "../../src/api/latency.js";

describe("latency window", () => {
  it("gives nearest-rank percentiles of the durations recorded since an instant", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ms: fc.double({ min: 0, max: 1000, noNaN: true }), at: fc.integer({ min: 0, max: 100 }) }), { maxLength: 300 }), fc.integer({ min: 0, max: 100 }), (samples, since) => {
        const w = new LatencyWindow();
        for (const s of samples) w.record(s.ms, s.at);
        const kept = samples.filter((s) => s.at >= since).map((s) => s.ms).sort((a, b) => a - b);
        const rank = (p: number) => (kept.length === 0 ? null : kept[Math.ceil(p * kept.length) - 1]);
        expect(w.summary(since)).toEqual({ count: kept.length, p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) });
      }),
    );
  });

  it("keeps only the last 10,000 durations", () => {
    const w = new LatencyWindow();
    for (let i = 0; i < 10_000; i++) w.record(1000, 0);
    for (let i = 0; i < 10_000; i++) w.record(1, 0);
    expect(w.summary(0)).toEqual({ count: 10_000, p50: 1, p95: 1, p99: 1 });
  });
});
