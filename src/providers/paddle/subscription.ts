// Paddle subscription entities → SubscriptionObserved / SubscriptionEnded. A cancellation or pause
// requested for the end of the period is a `scheduled_change` ({action, effective_at}); the status
// only changes when Paddle applies it (and sends subscription.canceled / subscription.paused).
import type { Fact, SubscriptionSnapshot, SubscriptionStatus } from "../../domain/facts.js";
import type { Instant } from "../../domain/time.js";
import { appUserIdFromCustomData, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { instant, objects } from "./read.js";
import { distinct, field, present, text, type Json } from "../json.js";

// A Map, not an object literal: a provider status such as "constructor" must not hit Object.prototype.
const CANONICAL_STATUS = new Map<string, SubscriptionStatus>([
  ["active", "active"],
  ["trialing", "trialing"],
  ["past_due", "past_due"],
  // A paused subscription bills nothing and grants nothing until it is resumed (as Stripe's paused).
  ["paused", "canceled"],
  ["canceled", "canceled"],
]);

/**
 * Paddle has no status for "first payment not done" (a subscription exists only once its first
 * transaction is paid, or billed for manual collection), so an unknown status is the canonical
 * "incomplete": it grants nothing.
 */
export const canonicalStatus = (providerStatus: string): SubscriptionStatus => CANONICAL_STATUS.get(providerStatus) ?? "incomplete";

const priceIdOf = (item: Json): string | null => text(field(item, "price", "id")) ?? text(item["price_id"]);

/**
 * Price ids of the items, recurring ones first: the catalog maps the first known price, and a
 * one-time charge added to a subscription is not its plan. Items of a paused subscription are
 * "inactive" and still name its plan.
 */
export const subscriptionPriceIds = (subscription: Json): string[] => {
  const items = objects(subscription["items"]);
  const recurring = items.filter((item) => item["recurring"] !== false);
  const oneTime = items.filter((item) => item["recurring"] === false);
  return distinct(present([...recurring, ...oneTime].map(priceIdOf)));
};

const minOf = (values: readonly Instant[]): Instant | null => (values.length === 0 ? null : Math.min(...values));
const maxOf = (values: readonly Instant[]): Instant | null => (values.length === 0 ? null : Math.max(...values));

/** The trial spans every item's trial_dates (each item may carry its own). */
const trialWindow = (subscription: Json): { readonly start: Instant | null; readonly end: Instant | null } => {
  const trials = objects(subscription["items"]).map((item) => item["trial_dates"]);
  return {
    start: minOf(present(trials.map((t) => instant(field(t, "starts_at"))))),
    end: maxOf(present(trials.map((t) => instant(field(t, "ends_at"))))),
  };
};

/**
 * A scheduled stop: `cancel` ends the subscription at effective_at (Paddle schedules it for the end
 * of the billing period: cancel at period end); `pause` stops billing and access there until a
 * resume, so it ends access at that instant too. `resume` (on a paused subscription) schedules no stop.
 */
const scheduledStop = (subscription: Json, providerStatus: string): Instant | null => {
  const action = field(subscription, "scheduled_change", "action");
  if ((action !== "cancel" && action !== "pause") || providerStatus === "canceled") return null;
  return instant(field(subscription, "scheduled_change", "effective_at"));
};

/** The snapshot, or null when the entity does not say its status (guessing one could revoke access). */
export const subscriptionSnapshot = (subscription: Json, fallbackStatus: string | null): SubscriptionSnapshot | null => {
  const providerStatus = text(subscription["status"]) ?? fallbackStatus;
  if (providerStatus === null) return null;
  const stop = scheduledStop(subscription, providerStatus);
  const trial = trialWindow(subscription);
  const canceledAt = instant(subscription["canceled_at"]);
  return {
    status: canonicalStatus(providerStatus),
    providerStatus,
    priceIds: subscriptionPriceIds(subscription),
    // Null while paused or once canceled: Paddle then has no current billing period.
    currentPeriodStart: instant(field(subscription, "current_billing_period", "starts_at")),
    currentPeriodEnd: instant(field(subscription, "current_billing_period", "ends_at")),
    cancelAtPeriodEnd: stop !== null,
    cancelAt: stop,
    canceledAt,
    startedAt: instant(subscription["started_at"]),
    // Paddle has no ended_at: a canceled subscription ended when it was canceled.
    endedAt: providerStatus === "canceled" ? canceledAt : null,
    trialStart: trial.start,
    trialEnd: trial.end,
  };
};

/**
 * subscription.* → one fact. Canceled is final in Paddle (a canceled subscription cannot be
 * reactivated), so any event whose entity is canceled, not only subscription.canceled, ends it.
 */
export const subscriptionFacts = (subscription: Json | null, canceledEvent: boolean, ctx: FactContext): Fact[] => {
  const subscriptionId = text(subscription?.["id"]);
  if (subscription === null || subscriptionId === null) return [];
  const snapshot = subscriptionSnapshot(subscription, canceledEvent ? "canceled" : null);
  if (snapshot === null) return [];
  const customerId = text(subscription["customer_id"]);
  const appUserId = appUserIdFromCustomData(subscription["custom_data"], ctx.userIdKeys);
  const keys = identityKeys({
    app: appUserId,
    customer: customerId,
    // The transaction that created it (subscription.created only): its order belongs to the same user.
    objects: [["subscription", subscriptionId], ["invoice", text(subscription["transaction_id"])]],
  });
  const common = { ...factBase(ctx, keys), subscriptionId, customerId, appUserId, snapshot };
  const ended = canceledEvent || snapshot.providerStatus === "canceled";
  return [ended ? { ...common, _tag: "SubscriptionEnded" } : { ...common, _tag: "SubscriptionObserved" }];
};
