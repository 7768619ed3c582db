// Lemon Squeezy subscriptions (`data.type: "subscriptions"`) → CustomerSeen + SubscriptionObserved,
// or SubscriptionEnded once expired. Lemon Squeezy names no current period start and no cancel
// time; it names the next renewal (`renews_at`), the end of a cancelled one (`ends_at`) and the trial end.
import type { Fact, SubscriptionSnapshot, SubscriptionStatus } from "../../domain/facts.js";
import type { Instant } from "../../domain/time.js";
import { factBase, identityKeys, orderRef, type FactContext } from "./context.js";
import { idText, isoInstant, type Resource } from "./read.js";
import { field, present, text, type Json } from "../json.js";

// A Map, not an object literal: a provider status such as "constructor" must not hit Object.prototype.
const DIRECT_STATUS = new Map<string, SubscriptionStatus>([
  ["on_trial", "trialing"],
  ["active", "active"],
  // Renewal failed; Lemon Squeezy retries 4 times over 2 weeks: the catalog's grace applies.
  ["past_due", "past_due"],
  // All retries failed (dunning exhausted): access ends now, though a later payment can revive it
  // (subscription_payment_recovered → active), so it is not terminal.
  ["unpaid", "canceled"],
  // Terminal: a cancelled subscription reached its end (or was cancelled at once).
  ["expired", "canceled"],
]);

/**
 * Canonical status. "cancelled" is a cancellation at period end: it keeps access until `ends_at`,
 * so it stays trialing / active (with cancelAtPeriodEnd) until subscription_expired. A paused
 * subscription grants nothing unless its pause is `mode: "free"` (the merchant keeps serving it for
 * free while payment collection is paused). Unknown statuses grant nothing ("incomplete").
 */
export const canonicalStatus = (providerStatus: string, attributes: Json, at: Instant): SubscriptionStatus => {
  switch (providerStatus) {
    case "cancelled": {
      const trialEnd = isoInstant(attributes["trial_ends_at"]);
      return trialEnd !== null && trialEnd > at ? "trialing" : "active";
    }
    case "paused":
      return field(attributes, "pause", "mode") === "free" ? "active" : "canceled";
    default:
      return DIRECT_STATUS.get(providerStatus) ?? "incomplete";
  }
};

export const isExpired = (providerStatus: string | null): boolean => providerStatus === "expired";

/** Will it stop at `ends_at` instead of renewing? Once expired, that end is history. */
const pendingEnd = (providerStatus: string, attributes: Json): boolean =>
  !isExpired(providerStatus) && (providerStatus === "cancelled" || attributes["cancelled"] === true);

/** The plan's id at Lemon Squeezy is the variant (the catalog maps variant ids). */
export const subscriptionPriceIds = (attributes: Json): string[] => present([idText(attributes["variant_id"])]);

/** The snapshot, or null when the object does not say its status (guessing one could revoke access). */
export const subscriptionSnapshot = (attributes: Json, at: Instant): SubscriptionSnapshot | null => {
  const providerStatus = text(attributes["status"]);
  if (providerStatus === null) return null;
  const endsAt = isoInstant(attributes["ends_at"]);
  const trialEnd = isoInstant(attributes["trial_ends_at"]);
  const ending = pendingEnd(providerStatus, attributes);
  return {
    status: canonicalStatus(providerStatus, attributes, at),
    providerStatus,
    priceIds: subscriptionPriceIds(attributes),
    currentPeriodStart: null,
    // The period runs to the next renewal; a cancelled one to its end.
    currentPeriodEnd: isoInstant(attributes["renews_at"]) ?? endsAt,
    cancelAtPeriodEnd: ending,
    cancelAt: ending ? endsAt : null,
    canceledAt: null,
    startedAt: isoInstant(attributes["created_at"]),
    endedAt: isExpired(providerStatus) ? endsAt : null,
    // Lemon Squeezy trials start with the subscription.
    trialStart: trialEnd === null ? null : isoInstant(attributes["created_at"]),
    trialEnd,
  };
};

/** subscription_* events → who the customer is, and the subscription's state (`ended` for subscription_expired). */
export const subscriptionFacts = (resource: Resource, ended: boolean, ctx: FactContext): Fact[] => {
  const { id: subscriptionId, attributes } = resource;
  const snapshot = subscriptionSnapshot(attributes, ctx.at);
  if (resource.type !== "subscriptions" || snapshot === null) return [];
  const customerId = idText(attributes["customer_id"]);
  const appUserId = ctx.appUserId;
  // The first order names this purchase too: one user whichever of order_created / subscription_created comes first.
  const firstOrder = idText(attributes["order_id"]);
  const keys = identityKeys({
    app: appUserId,
    customer: customerId,
    objects: [["subscription", subscriptionId], ["checkout", firstOrder === null ? null : orderRef(firstOrder)]],
  });
  const common = { ...factBase(ctx, keys), subscriptionId, customerId, appUserId, snapshot };
  const customer: Fact[] =
    customerId === null
      ? []
      : [{ ...factBase(ctx, identityKeys({ app: appUserId, customer: customerId })), _tag: "CustomerSeen", customerId, appUserId, email: text(attributes["user_email"]) }];
  const terminal = ended || isExpired(snapshot.providerStatus);
  return [...customer, terminal ? { ...common, _tag: "SubscriptionEnded" } : { ...common, _tag: "SubscriptionObserved" }];
};
