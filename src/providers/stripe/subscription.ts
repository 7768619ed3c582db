// Stripe subscription objects → SubscriptionObserved / SubscriptionEnded. Reads both API shapes:
// before 2025-03-31.basil the current period sits on the subscription, from basil on its items.
import type { Fact, SubscriptionSnapshot, SubscriptionStatus } from "../../domain/facts.js";
import { appUserIdFromMetadata, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { instant, listData } from "./read.js";
import { distinct, field, integer, present, record, ref, text, type Json } from "../json.js";

// A Map, not an object literal: a provider status such as "constructor" must not hit Object.prototype.
const CANONICAL_STATUS = new Map<string, SubscriptionStatus>([
  ["trialing", "trialing"],
  ["active", "active"],
  ["past_due", "past_due"],
  ["unpaid", "past_due"],
  ["canceled", "canceled"],
  ["incomplete", "incomplete"],
  ["incomplete_expired", "canceled"],
  // A paused subscription (trial ended without a payment method) grants nothing until resumed.
  ["paused", "canceled"],
]);

/** Unknown statuses grant nothing: "incomplete" is the canonical status that gives no access. */
export const canonicalStatus = (providerStatus: string): SubscriptionStatus => CANONICAL_STATUS.get(providerStatus) ?? "incomplete";

const itemsOf = (subscription: Json): Json[] => present(listData(subscription["items"]).map(record));

/** Price ids of the subscription's items; older shapes name them `plan`, the oldest only at top level. */
export const subscriptionPriceIds = (subscription: Json): string[] => {
  const fromItems = distinct(present(itemsOf(subscription).map((item) => ref(item["price"]) ?? ref(item["plan"]))));
  return fromItems.length > 0 ? fromItems : present([ref(subscription["plan"])]);
};

const minOf = (values: readonly number[]): number | null => (values.length === 0 ? null : Math.min(...values));
const maxOf = (values: readonly number[]): number | null => (values.length === 0 ? null : Math.max(...values));

/**
 * The current period in Unix seconds. Legacy shape: top-level fields. Basil shape: one period per
 * item; items may be billed on different cycles, so the subscription's period spans them all.
 */
export const subscriptionPeriodSeconds = (subscription: Json): { readonly start: number | null; readonly end: number | null } => {
  const items = itemsOf(subscription);
  return {
    start: integer(subscription["current_period_start"]) ?? minOf(present(items.map((i) => integer(i["current_period_start"])))),
    end: integer(subscription["current_period_end"]) ?? maxOf(present(items.map((i) => integer(i["current_period_end"])))),
  };
};

/**
 * Will the subscription stop at a known date instead of renewing? Stripe says so in two ways:
 * `cancel_at_period_end: true`, or a scheduled `cancel_at` timestamp with the flag left false (the
 * Dashboard and newer API versions schedule period-end cancellations that way). Once the
 * subscription is canceled, `cancel_at` is history and nothing is pending any more.
 */
const cancelsAtPeriodEnd = (subscription: Json, providerStatus: string): boolean =>
  subscription["cancel_at_period_end"] === true || (integer(subscription["cancel_at"]) !== null && providerStatus !== "canceled");

/** The snapshot, or null when the object does not say its status (guessing one could revoke access). */
export const subscriptionSnapshot = (subscription: Json, fallbackStatus: string | null): SubscriptionSnapshot | null => {
  const providerStatus = text(subscription["status"]) ?? fallbackStatus;
  if (providerStatus === null) return null;
  const period = subscriptionPeriodSeconds(subscription);
  return {
    status: canonicalStatus(providerStatus),
    providerStatus,
    priceIds: subscriptionPriceIds(subscription),
    currentPeriodStart: instant(period.start),
    currentPeriodEnd: instant(period.end),
    cancelAtPeriodEnd: cancelsAtPeriodEnd(subscription, providerStatus),
    // Kept as Stripe states it: a `cancel_at` before the period end ends access there (see
    // domain/entitlements.ts); once canceled the status alone decides, so the history is harmless.
    cancelAt: instant(subscription["cancel_at"]),
    canceledAt: instant(subscription["canceled_at"]),
    startedAt: instant(subscription["start_date"]),
    endedAt: instant(subscription["ended_at"]),
    trialStart: instant(subscription["trial_start"]),
    trialEnd: instant(subscription["trial_end"]),
  };
};

/** customer.subscription.* → one fact; `ended` for customer.subscription.deleted. */
export const subscriptionFacts = (subscription: Json | null, ended: boolean, ctx: FactContext): Fact[] => {
  const subscriptionId = text(subscription?.["id"]);
  if (subscription === null || subscriptionId === null) return [];
  // A deleted subscription is canceled whatever its payload forgot to say.
  const snapshot = subscriptionSnapshot(subscription, ended ? "canceled" : null);
  if (snapshot === null) return [];
  const customerId = ref(subscription["customer"]);
  const appUserId = appUserIdFromMetadata(field(subscription, "metadata"), ctx.userIdKeys);
  const keys = identityKeys({ app: appUserId, customer: customerId, objects: [["subscription", subscriptionId]] });
  const common = { ...factBase(ctx, keys), subscriptionId, customerId, appUserId, snapshot };
  return [ended ? { ...common, _tag: "SubscriptionEnded" } : { ...common, _tag: "SubscriptionObserved" }];
};
