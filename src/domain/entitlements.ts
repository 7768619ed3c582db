// Entitlements: which features a user's subscriptions and lifetime purchases grant (grants, each
// with the window in which it holds), and what that means at a given instant.
import { catalogFeatures, type Catalog, type FeatureSpec, type Period } from "./catalog.js";
import type { Order, Subscription } from "./state.js";
import { addDays, startOfNextMonthUtc, startOfNextYearUtc, type Instant } from "./time.js";
import { counterKey, meterAnswer, usagePeriod, type UsageCounter } from "./usage.js";

export type Grant = {
  readonly id: string;
  readonly userId: string;
  readonly feature: string;
  readonly source: string;
  readonly sourceKind: "subscription" | "lifetime";
  readonly sourceId: string;
  readonly spec: FeatureSpec;
  /** The grant holds while t < validUntil; null means no end is known yet. */
  readonly validUntil: Instant | null;
  /** End of the billing period that a `per: "period"` limit resets with. */
  readonly periodEnd: Instant | null;
};

/**
 * When a trialing / active subscription stops: at `cancelAt` when the provider names the instant
 * (it renews like any other subscription until then, so a period end before it is not an end);
 * else at the current period end when it is set to cancel then; else no end is known (null).
 */
const scheduledEnd = (sub: Subscription): Instant | null => sub.cancelAt ?? (sub.cancelAtPeriodEnd ? sub.currentPeriodEnd : null);

/** Until when a subscription grants its plan, or "none" when its status grants nothing. */
export const subscriptionValidity = (sub: Subscription, catalog: Catalog): Instant | null | "none" => {
  switch (sub.status) {
    case "trialing":
    case "active":
      return scheduledEnd(sub);
    case "past_due":
      return addDays(sub.pastDueSince ?? sub.updatedAt, catalog.grace.pastDueDays);
    case "canceled":
    case "incomplete":
      return "none";
    default: {
      const unreachable: never = sub.status;
      return unreachable;
    }
  }
};

/** A plan's features in name order, sorted once per catalog (grants are derived on every fact). */
const sortedFeatures = new WeakMap<Catalog, Map<string, readonly (readonly [string, FeatureSpec])[]>>();

const featuresOf = (catalog: Catalog, plan: string): readonly (readonly [string, FeatureSpec])[] => {
  let plans = sortedFeatures.get(catalog);
  if (plans === undefined) sortedFeatures.set(catalog, (plans = new Map()));
  let features = plans.get(plan);
  if (features === undefined) {
    features = Object.entries(catalog.plans[plan]?.features ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    plans.set(plan, features);
  }
  return features;
};

const planGrants = (
  catalog: Catalog,
  plan: string,
  base: Omit<Grant, "id" | "feature" | "spec" | "source">,
): Grant[] =>
  featuresOf(catalog, plan).map(([feature, spec]) => ({
    id: `${base.sourceId}:${feature}`,
    userId: base.userId,
    feature,
    source: plan,
    sourceKind: base.sourceKind,
    sourceId: base.sourceId,
    spec,
    validUntil: base.validUntil,
    periodEnd: base.periodEnd,
  }));

/** All grants a user holds, from live subscriptions and from paid lifetime orders. */
export const grantsFor = (
  userId: string,
  subscriptions: readonly Subscription[],
  orders: readonly Order[],
  catalog: Catalog,
): Grant[] => {
  const fromSubs = subscriptions.flatMap((sub) => {
    const validUntil = subscriptionValidity(sub, catalog);
    if (sub.plan === null || validUntil === "none") return [];
    return planGrants(catalog, sub.plan, {
      userId,
      sourceKind: "subscription",
      sourceId: sub.id,
      validUntil,
      periodEnd: sub.currentPeriodEnd,
    });
  });
  const fromOrders = orders.flatMap((order) => {
    const lifetime = order.plan !== null && catalog.plans[order.plan]?.lifetime === true;
    if (!lifetime || (order.status !== "paid" && order.status !== "partially_refunded")) return [];
    return planGrants(catalog, order.plan!, {
      userId,
      sourceKind: "lifetime",
      sourceId: order.id,
      validUntil: null,
      periodEnd: null,
    });
  });
  return [...fromSubs, ...fromOrders].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};

export const isGrantLive = (grant: Pick<Grant, "validUntil">, t: Instant): boolean =>
  grant.validUntil === null || t < grant.validUntil;

export type EntitlementView = {
  readonly feature: string;
  readonly enabled: boolean;
  readonly source: string | null;
  readonly limit: number | null;
  readonly used: number | null;
  readonly remaining: number | null;
  readonly resetsAt: Instant | null;
  /** Units used past the limit of an `allow` meter (0 within it); null for what has no limit. */
  readonly overage: number | null;
  /** The plan's number for a value feature (`max_duration_seconds`), else null. */
  readonly value: number | null;
};

export type MeteredSpec = Extract<FeatureSpec, { readonly _tag: "Metered" }>;

/**
 * How much of a metered grant's feature is used in the period that holds the instant asked about
 * (scaled units, from the usage counters), and when that period resets. The edge provides it; with
 * none, nothing is used and the period is the calendar one or the grant's billing period.
 */
export type MeterReading = (grant: Grant, spec: MeteredSpec) => { readonly used: number; readonly resetsAt: Instant | null };

/** What a grant gives, for ranking grants of one feature: a flag counts as unlimited. */
const limitOf = (spec: FeatureSpec): number => {
  switch (spec._tag) {
    case "Flag":
      return Infinity;
    case "Metered":
      return spec.limit;
    case "Credits":
      return spec.credits;
    case "Concurrent":
      return spec.concurrent;
    case "Value":
      return spec.value;
    default: {
      const unreachable: never = spec;
      return unreachable;
    }
  }
};

/**
 * The union rule: a feature is enabled when any live grant gives it. When several do, the one
 * with the highest limit wins (a flag counts as unlimited); equal limits go to the source that
 * sorts first, so the answer never depends on arrival order.
 */
const outranks = (a: Grant, b: Grant): boolean => (limitOf(b.spec) - limitOf(a.spec) || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0)) < 0;

const resetsAt = (per: Period, t: Instant, periodEnd: Instant | null): Instant | null => {
  switch (per) {
    case "month":
      return startOfNextMonthUtc(t);
    case "year":
      return startOfNextYearUtc(t);
    case "period":
      return periodEnd;
    default: {
      const unreachable: never = per;
      return unreachable;
    }
  }
};

/** A feature nothing grants: not enabled, no numbers. */
export const notEnabled = (feature: string): EntitlementView => ({
  feature,
  enabled: false,
  source: null,
  limit: null,
  used: null,
  remaining: null,
  resetsAt: null,
  overage: null,
  value: null,
});

/** The grant that decides `feature` at `t` under the union rule, or null when no live grant gives it. */
export const decidingGrant = (grants: readonly Grant[], feature: string, t: Instant): Grant | null => {
  let best: Grant | null = null;
  for (const g of grants) if (g.feature === feature && isGrantLive(g, t) && (best === null || outranks(g, best))) best = g;
  return best;
};

/** A billing period as a subscription states it (either end may not be known). */
export type Billing = { readonly start: Instant | null; readonly end: Instant | null };

/**
 * The reading of a subject's counters at `t`: the period a usage at `t` counts in (the calendar
 * one, or the billing period of the subscription behind the grant: `billingOf`), and its counter.
 */
export const countedReading =
  (counters: ReadonlyMap<string, UsageCounter>, subject: string, billingOf: (grant: Grant) => Billing | null, t: Instant): MeterReading =>
  (grant, spec) => {
    const period = usagePeriod(spec.per, t, billingOf(grant));
    return { used: counters.get(counterKey(subject, grant.feature, period.start))?.used ?? 0, resetsAt: period.end };
  };

/** Nothing used, the period the calendar or the grant's billing period gives. */
export const unmetered =
  (t: Instant): MeterReading =>
  (grant, spec) => ({ used: 0, resetsAt: resetsAt(spec.per, t, grant.periodEnd) });

/** What a user may use at `t`: one entry per feature the catalog knows, enabled or not. */
/** How many leases of a concurrency grant's feature hold a slot at the instant asked about (the edge reads them). */
export type SlotReading = (grant: Grant) => number;

export const noSlotsTaken: SlotReading = () => 0;

export const entitlementsAt = (grants: readonly Grant[], catalog: Catalog, t: Instant, meters: MeterReading = unmetered(t), slots: SlotReading = noSlotsTaken): EntitlementView[] =>
  catalogFeatures(catalog).map((feature) => {
    const grant = decidingGrant(grants, feature, t);
    return grant === null ? notEnabled(feature) : entitlementOf(grant, meters, slots);
  });

/** What one deciding grant gives. */
export const entitlementOf = (grant: Grant, meters: MeterReading, slots: SlotReading = noSlotsTaken): EntitlementView => {
  const { feature, spec, source } = grant;
  const none = { used: null, remaining: null, resetsAt: null, overage: null, value: null };
  switch (spec._tag) {
    case "Flag":
      return { feature, enabled: true, source, limit: null, ...none };
    case "Metered": {
      const reading = meters(grant, spec);
      const { limit, used, remaining, resetsAt, overage } = meterAnswer(feature, { limit: spec.limit, overage: spec.overage, decimals: spec.decimals }, reading.used, reading.resetsAt);
      return { feature, enabled: true, source, limit, used, remaining, resetsAt, overage, value: null };
    }
    case "Credits":
      return { feature, enabled: true, source, limit: spec.credits, ...none, used: 0, remaining: spec.credits };
    case "Concurrent": {
      const held = slots(grant);
      return { feature, enabled: true, source, limit: spec.concurrent, ...none, used: held, remaining: Math.max(0, spec.concurrent - held) };
    }
    case "Value":
      return { feature, enabled: true, source, limit: null, ...none, value: spec.value };
    default: {
      const unreachable: never = spec;
      return unreachable;
    }
  }
};

/** Feature → granting plan, ignoring time: the basis of entitlement transitions in the fold. */
export const grantedSources = (grants: readonly Grant[]): Readonly<Record<string, string>> => {
  // The fold asks this twice per fact, so it keeps each feature's winner as it goes instead of grouping.
  const winners = new Map<string, Grant>();
  for (const g of grants) {
    const held = winners.get(g.feature);
    if (held === undefined || outranks(g, held)) winners.set(g.feature, g);
  }
  const sources: Record<string, string> = {};
  for (const [feature, g] of winners) sources[feature] = g.source;
  return sources;
};
