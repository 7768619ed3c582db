// The dashboard's headline figures at an instant, and how MRR moved over the window before it.
// Pure functions of the subscription histories and the catalog: the same log gives the same
// figures for any instant, today's or a past day's.
// Cost: linear in the subscriptions (each asked at two instants), plus a binary search per field.
import type { Catalog } from "../catalog.js";
import type { Instant } from "../time.js";
import { valueAt, type Payment, type SubscriptionHistory } from "./history.js";
import { addMoney, LIVE_STATUSES, monthlyAmount, monthlyFrom, mrrByCustomer, PAYING_STATUSES, sortedMoney, type Money } from "./mrr.js";

export type Snapshot = {
  readonly at: Instant;
  /** Customers with at least one live subscription (trialing, active or past due). */
  readonly activeCustomers: number;
  /** Subscriptions by the status they had at `at` (every status ever seen counts, ended ones as canceled). */
  readonly subscriptionsByStatus: Readonly<Record<string, number>>;
  readonly mrr: Money;
  readonly trials: number;
  readonly pastDue: { readonly count: number; readonly atRisk: Money };
};

export const snapshotAt = (histories: readonly SubscriptionHistory[], at: Instant, catalog: Catalog): Snapshot => {
  const customers = new Set<string>();
  const byStatus: Record<string, number> = {};
  const mrr: Record<string, number> = {};
  const atRisk: Record<string, number> = {};
  let pastDue = 0;
  for (const h of histories) {
    const status = valueAt(h.statuses, at);
    if (status === null) continue;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (LIVE_STATUSES.includes(status)) customers.add(h.userId);
    const m = monthlyAmount(h, at, catalog);
    if (m !== null) addMoney(mrr, m.currency, m.amount);
    if (status === "past_due") {
      pastDue += 1;
      if (m !== null) addMoney(atRisk, m.currency, m.amount);
    }
  }
  return {
    at,
    activeCustomers: customers.size,
    subscriptionsByStatus: sortedMoney(byStatus),
    mrr: sortedMoney(mrr),
    trials: byStatus["trialing"] ?? 0,
    pastDue: { count: pastDue, atRisk: sortedMoney(atRisk) },
  };
};

/**
 * How MRR moved from `from` to `to`, per currency, customer by customer: `new` from customers who
 * paid nothing at `from`, `churned` from those who pay nothing at `to`, `expansion` and
 * `contraction` from the others; `net` = new + expansion − contraction − churned = MRR(to) − MRR(from).
 * `retention` (net revenue retention) is what the customers paying at `from` pay at `to`, over
 * what they paid at `from` (null where nothing was paid at `from`).
 */
export type Movement = {
  readonly from: Instant;
  readonly to: Instant;
  readonly new: Money;
  readonly expansion: Money;
  readonly contraction: Money;
  readonly churned: Money;
  readonly net: Money;
  readonly retention: Readonly<Record<string, number | null>>;
};

export const movementBetween = (histories: readonly SubscriptionHistory[], from: Instant, to: Instant, catalog: Catalog): Movement => {
  const before = mrrByCustomer(histories, from, catalog);
  const after = mrrByCustomer(histories, to, catalog);
  const sums = { new: {}, expansion: {}, contraction: {}, churned: {}, net: {}, kept: {}, start: {} } as Record<string, Record<string, number>>;
  for (const customer of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(customer) ?? {};
    const is = after.get(customer) ?? {};
    for (const currency of new Set([...Object.keys(was), ...Object.keys(is)])) {
      const a = was[currency] ?? 0;
      const b = is[currency] ?? 0;
      addMoney(sums.net!, currency, b - a);
      if (a > 0) addMoney(sums.start!, currency, a), addMoney(sums.kept!, currency, b);
      if (a === 0 && b > 0) addMoney(sums.new!, currency, b);
      else if (a > 0 && b === 0) addMoney(sums.churned!, currency, a);
      else if (b > a) addMoney(sums.expansion!, currency, b - a);
      else if (b < a) addMoney(sums.contraction!, currency, a - b);
    }
  }
  const retention = Object.fromEntries(
    Object.keys({ ...sums.start, ...sums.kept, ...sums.new })
      .sort()
      .map((c) => [c, (sums.start![c] ?? 0) > 0 ? sums.kept![c]! / sums.start![c]! : null]),
  );
  return {
    from,
    to,
    new: sortedMoney(sums.new!),
    expansion: sortedMoney(sums.expansion!),
    contraction: sortedMoney(sums.contraction!),
    churned: sortedMoney(sums.churned!),
    net: sortedMoney(sums.net!),
    retention,
  };
};

/** Trials that ended in (from, to]: how many, and how many of them went on to pay (active or past due). */
export type TrialConversion = { readonly ended: number; readonly converted: number; readonly rate: number | null };

export const trialConversion = (histories: readonly SubscriptionHistory[], from: Instant, to: Instant): TrialConversion => {
  let ended = 0;
  let converted = 0;
  for (const h of histories) {
    h.statuses.forEach((c, i) => {
      const previous = i === 0 ? null : h.statuses[i - 1]!.to;
      if (previous !== "trialing" || c.to === "trialing" || c.at <= from || c.at > to) return;
      ended += 1;
      if (c.to === "active" || c.to === "past_due") converted += 1;
    });
  }
  return { ended, converted, rate: ended === 0 ? null : converted / ended };
};

/** A point of a series: MRR and paying subscriptions at an instant. */
export type SeriesPoint = { readonly at: Instant; readonly mrr: Money; readonly activeSubscriptions: number };

/**
 * MRR and paying (active or past-due) subscriptions at each of `instants`: what snapshotAt says at
 * each, computed in one sweep per subscription over the instants in time order (each history's
 * changes are passed once, not searched per instant). Cost: subscriptions × (instants + changes).
 */
export const seriesAt = (histories: readonly SubscriptionHistory[], instants: readonly Instant[], catalog: Catalog): SeriesPoint[] => {
  const order = instants.map((at, i) => ({ at, i })).sort((a, b) => a.at - b.at);
  const mrr: Record<string, number>[] = instants.map(() => ({}));
  const paying: number[] = instants.map(() => 0);
  for (const h of histories) {
    let [s, p, y] = [0, 0, 0];
    let status: string | null = null;
    let plan: string | null = null;
    let paid: Payment | null = null;
    for (const { at, i } of order) {
      while (s < h.statuses.length && h.statuses[s]!.at <= at) status = h.statuses[s++]!.to;
      while (p < h.plans.length && h.plans[p]!.at <= at) plan = h.plans[p++]!.to;
      while (y < h.payments.length && h.payments[y]!.at <= at) paid = h.payments[y++]!;
      if (status === null || !PAYING_STATUSES.includes(status)) continue;
      paying[i] = paying[i]! + 1;
      const m = monthlyFrom(status, plan, paid, h.months, catalog);
      if (m !== null) addMoney(mrr[i]!, m.currency, m.amount);
    }
  }
  return instants.map((at, i) => ({ at, mrr: sortedMoney(mrr[i]!), activeSubscriptions: paying[i]! }));
};
