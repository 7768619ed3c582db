// Monthly recurring revenue: what each paying subscription brings per month, normalized from the
// amount its latest paid invoice charged (an invoice of a yearly plan counts a twelfth), or the
// catalog's price for its plan when no invoice was seen. Amounts are minor units (cents), rounded
// per subscription, so a total is an exact sum of integers.
import type { Catalog } from "../catalog.js";
import type { Instant } from "../time.js";
import { paymentAt, valueAt, type Payment, type SubscriptionHistory } from "./history.js";

/** Amounts per currency (upper-case ISO code → minor units). */
export type Money = Readonly<Record<string, number>>;

/** Statuses in which a subscription is paying: trials pay nothing yet, a canceled or incomplete one nothing more. */
export const PAYING_STATUSES: readonly string[] = ["active", "past_due"];

/** Statuses in which a subscription is live (its customer counts as active). */
export const LIVE_STATUSES: readonly string[] = ["trialing", "active", "past_due"];

const INTERVAL_MONTHS = { month: 1, year: 12 } as const;

/** What a subscription brings per month given its status, plan and latest payment at some instant. */
export const monthlyFrom = (
  status: string | null,
  plan: string | null,
  paid: Payment | null,
  months: number | null,
  catalog: Catalog,
): { readonly amount: number; readonly currency: string } | null => {
  if (status === null || !PAYING_STATUSES.includes(status)) return null;
  const price = plan === null ? null : (catalog.plans[plan]?.price ?? null);
  const priceMonths = price === null || price.interval === "once" ? null : INTERVAL_MONTHS[price.interval];
  if (paid !== null) return { amount: Math.round(paid.amount / (months ?? priceMonths ?? 1)), currency: paid.currency };
  if (price === null || priceMonths === null) return null;
  return { amount: Math.round(price.amount / priceMonths), currency: price.currency.toUpperCase() };
};

/** What `h` brings per month at `at` if it is paying then: from its latest invoice, else its plan's catalog price. */
export const monthlyAmount = (h: SubscriptionHistory, at: Instant, catalog: Catalog): { readonly amount: number; readonly currency: string } | null =>
  monthlyFrom(valueAt(h.statuses, at), valueAt(h.plans, at), paymentAt(h.payments, at), h.months, catalog);

export const addMoney = (into: Record<string, number>, currency: string, amount: number): void => {
  into[currency] = (into[currency] ?? 0) + amount;
};

/** Sorted by currency, so equal totals are equal objects. */
export const sortedMoney = (m: Readonly<Record<string, number>>): Money => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** MRR at `at`: the sum over the subscriptions paying then. */
export const mrrAt = (histories: readonly SubscriptionHistory[], at: Instant, catalog: Catalog): Money => {
  const total: Record<string, number> = {};
  for (const h of histories) {
    const m = monthlyAmount(h, at, catalog);
    if (m !== null) addMoney(total, m.currency, m.amount);
  }
  return sortedMoney(total);
};

/** Each customer's MRR at `at`, per currency (customers paying nothing are absent). */
export const mrrByCustomer = (histories: readonly SubscriptionHistory[], at: Instant, catalog: Catalog): Map<string, Record<string, number>> => {
  const found = new Map<string, Record<string, number>>();
  for (const h of histories) {
    const m = monthlyAmount(h, at, catalog);
    if (m === null) continue;
    let mine = found.get(h.userId);
    if (mine === undefined) found.set(h.userId, (mine = {}));
    addMoney(mine, m.currency, m.amount);
  }
  return found;
};
