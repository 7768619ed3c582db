// What the business metrics are computed from: each subscription's history as the transition log
// tells it (its status and plan after each change, with when), the payments of its paid invoices,
// and its billing interval. Built from the projections and the log, so any past instant can be
// asked, and a replay of the log builds the same histories.
// Cost: linear in the subscription transitions and subscription orders given (sorting aside); memory
// holds a payment per change of price, not per invoice.
import type { Instant } from "../time.js";

/** A field's value from `at` on (until the next change). */
export type Change = { readonly at: Instant; readonly to: string | null };

/** A paid invoice of the subscription: what it charged, in minor units of `currency` (upper case). */
export type Payment = { readonly at: Instant; readonly amount: number; readonly currency: string };

export type SubscriptionHistory = {
  readonly id: string;
  readonly userId: string;
  /** Status changes, oldest first. */
  readonly statuses: readonly Change[];
  /** Plan changes, oldest first. */
  readonly plans: readonly Change[];
  /** Paid invoices that changed what it pays (the first of each run of equal ones), oldest first. */
  readonly payments: readonly Payment[];
  /** Months one invoice pays for (from the billing period's length), or null when it is not known. */
  readonly months: number | null;
};

/** A transition of the log, as much of it as the histories read. */
export type LoggedChange = { readonly entity: string; readonly entityId: string; readonly userId: string; readonly field: string; readonly to: string | null; readonly at: Instant };

/** A subscription order (a paid invoice), as much of it as the histories read. */
export type PaidInvoice = { readonly subscriptionId: string; readonly amount: number; readonly amountRefunded: number; readonly currency: string; readonly paidAt: Instant; readonly status: string };

/** A subscription's current billing period, for the interval its invoices pay for. */
export type BillingPeriod = { readonly id: string; readonly userId: string; readonly start: Instant | null; readonly end: Instant | null };

const AVERAGE_MONTH_MS = (365.25 / 12) * 86_400_000;

/** Months a period of this length pays for: a calendar month (28–31 days) is 1, a year 12; null when unknown. */
export const monthsOf = (start: Instant | null, end: Instant | null): number | null =>
  start === null || end === null || end <= start ? null : Math.max(1, Math.round((end - start) / AVERAGE_MONTH_MS));

const byTime = <T extends { readonly at: Instant }>(xs: T[]): T[] => xs.sort((a, b) => a.at - b.at);

/** Payments by time; two at one instant by amount, then currency, so the order the store lists them in does not matter. */
const paymentOrder = (a: Payment, b: Payment): number => a.at - b.at || a.amount - b.amount || (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0);

/**
 * Histories of every subscription the log mentions. Changes at the same instant keep the log's
 * order (the sort is stable), so the last one given wins, as it did in the fold.
 */
export const subscriptionHistories = (log: Iterable<LoggedChange>, invoices: Iterable<PaidInvoice>, periods: Iterable<BillingPeriod>): SubscriptionHistory[] => {
  const found = new Map<string, { userId: string; statuses: Change[]; plans: Change[]; payments: Payment[]; months: number | null }>();
  const entry = (id: string, userId: string) => {
    let h = found.get(id);
    if (h === undefined) found.set(id, (h = { userId, statuses: [], plans: [], payments: [], months: null }));
    return h;
  };
  for (const t of log) {
    if (t.entity !== "subscription" || (t.field !== "status" && t.field !== "plan")) continue;
    const h = entry(t.entityId, t.userId);
    // A merge moves a subscription to its survivor: the latest owner counts.
    h.userId = t.userId;
    (t.field === "status" ? h.statuses : h.plans).push({ at: t.at, to: t.to });
  }
  for (const p of periods) {
    const h = found.get(p.id);
    if (h !== undefined) (h.userId = p.userId), (h.months = monthsOf(p.start, p.end));
  }
  for (const i of invoices) {
    const h = found.get(i.subscriptionId);
    // Refunded in full, an invoice brought nothing; in part, what it kept.
    if (h === undefined || i.status === "pending" || i.amount - i.amountRefunded <= 0) continue;
    h.payments.push({ at: i.paidAt, amount: i.amount - i.amountRefunded, currency: i.currency.toUpperCase() });
  }
  return [...found]
    .map(([id, h]) => ({ id, userId: h.userId, statuses: byTime(h.statuses), plans: byTime(h.plans), payments: changesOnly(h.payments.sort(paymentOrder)), months: h.months }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};

/**
 * Of payments in time order, those that charge something else than the one before: what a
 * subscription pays at an instant is its latest payment's amount, which the first of a run of equal
 * payments already states. A subscription renewed for years at one price keeps one payment.
 */
const changesOnly = (sorted: readonly Payment[]): Payment[] =>
  sorted.filter((p, i) => i === 0 || p.amount !== sorted[i - 1]!.amount || p.currency !== sorted[i - 1]!.currency);

/** The value a history of changes holds at `at` (the last change at or before it), or null before the first. */
export const valueAt = (changes: readonly Change[], at: Instant): string | null => {
  // Binary search: the last change with change.at <= at.
  let lo = 0;
  let hi = changes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (changes[mid]!.at <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : changes[lo - 1]!.to;
};

/** The latest payment at or before `at`, or null. */
export const paymentAt = (payments: readonly Payment[], at: Instant): Payment | null => {
  let found: Payment | null = null;
  for (const p of payments) {
    if (p.at > at) break;
    found = p;
  }
  return found;
};
