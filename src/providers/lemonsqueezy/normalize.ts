// The Lemon Squeezy normalizer: one stored Lemon Squeezy event → the canonical facts it means, plus
// the hint that orders it among same-second events. Pure: no IO, no clock, no randomness, no
// environment. The event name is `meta.event_name` (the stored type); unknown names give no facts
// (they stay stored, so a later version can learn them), and so do license-key and affiliate events.
import type { Fact } from "../../domain/facts.js";
import type { Normalizer, StoredEventInput } from "../types.js";
import { factContext, type FactContext } from "./context.js";
import { lemonSqueezyOrderHint } from "./hint.js";
import { invoiceFailedFacts, invoicePaidFacts, invoiceRefundedFacts, orderCreatedFacts, orderRefundedFacts } from "./payments.js";
import { eventResource, type Resource } from "./read.js";
import { ORDER_SNAPSHOT_TYPE, SUBSCRIPTION_SNAPSHOT_TYPE } from "../snapshot.js";
import { subscriptionFacts } from "./subscription.js";

/** The webhook events Verity reads (https://docs.lemonsqueezy.com/help/webhooks/event-types). */
export const LEMONSQUEEZY_EVENTS = [
  "order_created",
  "order_refunded",
  "subscription_created",
  "subscription_updated",
  "subscription_cancelled",
  "subscription_resumed",
  "subscription_expired",
  "subscription_paused",
  "subscription_unpaused",
  "subscription_payment_success",
  "subscription_payment_failed",
  "subscription_payment_recovered",
  "subscription_payment_refunded",
] as const;
export type LemonSqueezyEventName = (typeof LEMONSQUEEZY_EVENTS)[number];

const isHandled = (type: string): type is LemonSqueezyEventName => (LEMONSQUEEZY_EVENTS as readonly string[]).includes(type);

const factsFor = (name: LemonSqueezyEventName, resource: Resource, ctx: FactContext): Fact[] => {
  switch (name) {
    case "order_created":
      return orderCreatedFacts(resource, ctx);
    case "order_refunded":
      return orderRefundedFacts(resource, ctx);
    // Every subscription event carries the whole subscription: its status says what happened
    // (cancelled = ends at ends_at, paused, active again after resume / unpause).
    case "subscription_created":
    case "subscription_updated":
    case "subscription_cancelled":
    case "subscription_resumed":
    case "subscription_paused":
    case "subscription_unpaused":
      return subscriptionFacts(resource, false, ctx);
    case "subscription_expired":
      return subscriptionFacts(resource, true, ctx);
    case "subscription_payment_success":
    case "subscription_payment_recovered":
      return invoicePaidFacts(resource, ctx);
    case "subscription_payment_failed":
      return invoiceFailedFacts(resource, ctx);
    case "subscription_payment_refunded":
      return invoiceRefundedFacts(resource, ctx);
    default: {
      const unreachable: never = name;
      return unreachable;
    }
  }
};

const factsOf = (event: StoredEventInput, ctx: FactContext): Fact[] => {
  const resource = eventResource(event.type, event.payload);
  if (resource === null) return [];
  // `verity sync lemonsqueezy`: a subscription or order as the API lists it now. Its status says
  // all (expired ends it; an order's refund is in its attributes), as in the webhooks' bodies.
  if (event.type === SUBSCRIPTION_SNAPSHOT_TYPE) return subscriptionFacts(resource, false, ctx);
  if (event.type === ORDER_SNAPSHOT_TYPE) return factsFor("order_created", resource, ctx);
  return isHandled(event.type) ? factsFor(event.type, resource, ctx) : [];
};

export const normalizeLemonSqueezyEvent: Normalizer = (event, options) => ({
  provider: "lemonsqueezy",
  eventId: event.providerEventId,
  type: event.type,
  occurredAt: event.occurredAt,
  hint: lemonSqueezyOrderHint(event.type, event.payload),
  facts: factsOf(event, factContext(event, options)),
});
