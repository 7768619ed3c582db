// What a user may use at an instant, for every feature kind the catalog knows, and which plan wins
// when two grant one feature.
import { describe, expect, it } from "vitest";
import type { Catalog, FeatureSpec, Plan } from "../../src/domain/catalog.js";
import { entitlementsAt, type Grant } from "../../src/domain/entitlements.js";

const T = Date.UTC(2026, 0, 15);
const PERIOD_END = Date.UTC(2026, 1, 1);

const plan = (code: string, features: Record<string, FeatureSpec>): Plan => ({ code, name: code, prices: {}, features, credits: null, lifetime: false, price: null });

const catalog: Catalog = {
  plans: {
    small: plan("small", {
      tasks: { _tag: "Concurrent", concurrent: 1, leaseSeconds: 60 },
      max_duration_seconds: { _tag: "Value", value: 60 },
      cpu_seconds: { _tag: "Metered", limit: 100, per: "period", overage: "allow", decimals: 3 },
    }),
    big: plan("big", {
      tasks: { _tag: "Concurrent", concurrent: 3, leaseSeconds: 300 },
      max_duration_seconds: { _tag: "Value", value: 300 },
    }),
  },
  grace: { pastDueDays: 0 },
  userIdKeys: ["user_id"],
};

const grantsOf = (source: string, validUntil: number | null = null): Grant[] =>
  Object.entries(catalog.plans[source]!.features).map(([feature, spec]) => ({
    id: `sub_${source}:${feature}`,
    userId: "usr_1",
    feature,
    source,
    sourceKind: "subscription",
    sourceId: `sub_${source}`,
    spec,
    validUntil,
    periodEnd: PERIOD_END,
  }));

const byFeature = (grants: readonly Grant[]) => Object.fromEntries(entitlementsAt(grants, catalog, T).map((e) => [e.feature, e]));

describe("entitlementsAt", () => {
  it("reports a concurrency limit as slots, a value feature's number, and a metered feature's limit and reset", () => {
    const e = byFeature(grantsOf("small"));
    expect(e.tasks).toEqual({ feature: "tasks", enabled: true, source: "small", limit: 1, used: 0, remaining: 1, resetsAt: null, overage: null, value: null });
    expect(e.max_duration_seconds).toEqual({ feature: "max_duration_seconds", enabled: true, source: "small", limit: null, used: null, remaining: null, resetsAt: null, overage: null, value: 60 });
    expect(e.cpu_seconds).toMatchObject({ enabled: true, limit: 100, remaining: 100, resetsAt: PERIOD_END, value: null });
  });

  it("gives each feature to the plan granting the most: more slots, the larger value", () => {
    const e = byFeature([...grantsOf("small"), ...grantsOf("big")]);
    expect(e.tasks).toMatchObject({ source: "big", limit: 3 });
    expect(e.max_duration_seconds).toMatchObject({ source: "big", value: 300 });
    expect(e.cpu_seconds).toMatchObject({ source: "small" });
  });

  it("reports a meter's usage from the counters the edge reads: remaining never below zero, the excess as overage", () => {
    const reading = (used: number) => () => ({ used, resetsAt: PERIOD_END });
    const within = entitlementsAt(grantsOf("small"), catalog, T, reading(40_500)).find((e) => e.feature === "cpu_seconds");
    const cpuDecimals = (grantsOf("small").find((g) => g.feature === "cpu_seconds")!.spec as { decimals: number }).decimals;
    expect(within).toMatchObject({ limit: 100, used: 40_500 / 10 ** cpuDecimals, remaining: 100 - 40_500 / 10 ** cpuDecimals, overage: 0, resetsAt: PERIOD_END });
    const past = entitlementsAt(grantsOf("small"), catalog, T, reading(150 * 10 ** cpuDecimals)).find((e) => e.feature === "cpu_seconds");
    expect(past).toMatchObject({ used: 150, remaining: 0, overage: 50 });
  });

  it("reports nothing of a grant that has ended", () => {
    const e = byFeature(grantsOf("big", T));
    expect(e.tasks).toEqual({ feature: "tasks", enabled: false, source: null, limit: null, used: null, remaining: null, resetsAt: null, overage: null, value: null });
    expect(e.max_duration_seconds!.value).toBeNull();
  });
});
