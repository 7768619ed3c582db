// Creem subscription objects → SubscriptionObserved / SubscriptionEnded.
// Creem sends no previous attributes: each subscription.* event carries the whole subscription,
// and for the events whose type names a state, the type is what the event says (see stateOfEvent).
import type { Fact, SubscriptionSnapshot, SubscriptionStatus } from "../../domain/facts.js";
import { appUserIdFromMetadata, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { instant } from "./read.js";
import { array, distinct, field, present, ref, text, type Json } from "../json.js";

// A Map, not an object literal: a provider status such as "constructor" must not hit Object.prototype.
const CANONICAL_STATUS = new Map<string, SubscriptionStatus>([
  ["active", "active"],
  ["trialing", "trialing"],
  ["past_due", "past_due"],
  // Payment retries have failed; Creem has not canceled yet. Grace applies, as for Stripe's unpaid.
  ["unpaid", "past_due"],
  // Still paid up; it stops renewing at the period end (cancelAtPeriodEnd).
  ["scheduled_cancel", "active"],
  ["canceled", "canceled"],
  // The period ended without a payment: access ends (Creem may still retry and revive it).
  ["expired", "canceled"],
  // Paused grants nothing until resumed, as Stripe's paused.
  ["paused", "canceled"],
  ["incomplete", "incomplete"],
]);

/** Unknown statuses grant nothing: "incomplete" is the canonical status that gives no access. */
export const canonicalStatus = (providerStatus: string): SubscriptionStatus => CANONICAL_STATUS.get(providerStatus) ?? "incomplete";

/**
 * The state an event type names. For these the type decides, whatever the payload's `status` says:
 * Creem's own subscription.expired sample carries `status: "active"`.
 */
const EVENT_STATE = new Map<string, string>([
  ["subscription.trialing", "trialing"],
  ["subscription.past_due", "past_due"],
  ["subscription.unpaid", "unpaid"],
  ["subscription.scheduled_cancel", "scheduled_cancel"],
  ["subscription.paused", "paused"],
  ["subscription.expired", "expired"],
  ["subscription.canceled", "canceled"],
]);

export const stateOfEvent = (eventType: string): string | null => EVENT_STATE.get(eventType) ?? null;

/** subscription.canceled is terminal: Creem's docs call "canceled" the only terminal status. */
export const isTerminalEvent = (eventType: string): boolean => eventType === "subscription.canceled";

/**
 * Product ids, the catalog's key for Creem. The subscription's `product` comes first: after an
 * upgrade it names the new product while an item may still name the one it was created with
 * (Creem's subscription.update sample), and the catalog maps the first known id.
 */
export const subscriptionProductIds = (subscription: Json): string[] =>
  distinct(present([ref(subscription["product"]), ...array(subscription["items"]).map((item) => text(field(item, "product_id")))]));

export const currentPeriod = (subscription: Json) => ({
  start: instant(subscription["current_period_start_date"]),
  end: instant(subscription["current_period_end_date"]),
});

/** Live, not canceling: a `canceled_at` here is noise (the subscription.active sample has one). */
const isLive = (providerStatus: string): boolean => providerStatus === "active" || providerStatus === "trialing";

/** The snapshot, or null when neither the payload nor the event type says a status. */
export const subscriptionSnapshot = (subscription: Json, eventType: string): SubscriptionSnapshot | null => {
  const providerStatus = stateOfEvent(eventType) ?? text(subscription["status"]);
  if (providerStatus === null) return null;
  const period = currentPeriod(subscription);
  const trialing = providerStatus === "trialing";
  const canceledAt = isLive(providerStatus) ? null : instant(subscription["canceled_at"]);
  return {
    status: canonicalStatus(providerStatus),
    providerStatus,
    priceIds: subscriptionProductIds(subscription),
    currentPeriodStart: period.start,
    currentPeriodEnd: period.end,
    // Creem schedules cancellations only for the period end; it names no other instant.
    cancelAtPeriodEnd: providerStatus === "scheduled_cancel",
    cancelAt: null,
    canceledAt,
    startedAt: instant(subscription["created_at"]),
    // Canceled: when it was canceled (the resolver falls back to the event's time). Expired: the
    // period end it was not renewed at.
    endedAt: providerStatus === "canceled" ? canceledAt : providerStatus === "expired" ? period.end : null,
    // A trial is Creem's current period while the status is trialing (no separate trial fields).
    trialStart: trialing ? period.start : null,
    trialEnd: trialing ? period.end : null,
  };
};

export type SubscriptionParts = {
  readonly subscriptionId: string;
  readonly customerId: string | null;
  readonly appUserId: string | null;
  readonly keys: string[];
};

/** Ids and keys of a subscription object; null without an id. */
export const subscriptionParts = (subscription: Json | null, ctx: FactContext): SubscriptionParts | null => {
  const subscriptionId = text(subscription?.["id"]);
  if (subscription === null || subscriptionId === null) return null;
  const customerId = ref(subscription["customer"]);
  const appUserId = appUserIdFromMetadata(subscription["metadata"], ctx.userIdKeys);
  const keys = identityKeys({ app: appUserId, customer: customerId, objects: [["subscription", subscriptionId]] });
  return { subscriptionId, customerId, appUserId, keys };
};

/** subscription.* → one fact: SubscriptionEnded for subscription.canceled, else SubscriptionObserved. */
export const subscriptionFacts = (subscription: Json | null, eventType: string, ctx: FactContext): Fact[] => {
  const parts = subscriptionParts(subscription, ctx);
  const snapshot = subscription === null ? null : subscriptionSnapshot(subscription, eventType);
  if (parts === null || snapshot === null) return [];
  const common = { ...factBase(ctx, parts.keys), subscriptionId: parts.subscriptionId, customerId: parts.customerId, appUserId: parts.appUserId, snapshot };
  return [isTerminalEvent(eventType) ? { ...common, _tag: "SubscriptionEnded" } : { ...common, _tag: "SubscriptionObserved" }];
};

