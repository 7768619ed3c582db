// The Creem normalizer: one stored Creem event → the canonical facts it means, plus the hint that
// orders it among same-millisecond events. Pure: no IO, no clock, no randomness, no environment.
// Unsupported types give no facts (they stay stored, so a later version can learn them).
import type { Fact } from "../../domain/facts.js";
import type { Normalizer, StoredEventInput } from "../types.js";
import { checkoutFacts } from "./checkout.js";
import { factContext } from "./context.js";
import type { FactContext } from "../context.js";
import { creemOrderHint } from "./hint.js";
import { disputeFacts, refundFacts, subscriptionPaidFacts, subscriptionPastDueFacts } from "./payments.js";
import { objectOf } from "./read.js";
import { SUBSCRIPTION_SNAPSHOT_TYPE } from "../snapshot.js";
import { text } from "../json.js";
import { subscriptionFacts } from "./subscription.js";

const factsOf = (event: StoredEventInput, ctx: FactContext): Fact[] => {
  const object = objectOf(event.type, event.payload);
  switch (event.type) {
    // `verity sync creem`: the subscription as GET /v1/subscriptions returns it now; canceled is
    // terminal there as in subscription.canceled, any other status is read from the object.
    case SUBSCRIPTION_SNAPSHOT_TYPE:
      return subscriptionFacts(object, text(object?.["status"]) === "canceled" ? "subscription.canceled" : event.type, ctx);
    case "checkout.completed":
      return checkoutFacts(object, ctx);
    case "subscription.active":
    case "subscription.trialing":
    case "subscription.update":
    case "subscription.scheduled_cancel":
    case "subscription.paused":
    case "subscription.unpaid":
    case "subscription.expired":
    case "subscription.canceled":
      return subscriptionFacts(object, event.type, ctx);
    // The subscription as paid, and the transaction that paid it.
    case "subscription.paid":
      return [...subscriptionFacts(object, event.type, ctx), ...subscriptionPaidFacts(object, ctx)];
    case "subscription.past_due":
      return [...subscriptionFacts(object, event.type, ctx), ...subscriptionPastDueFacts(object, ctx)];
    case "refund.created":
      return refundFacts(object, ctx);
    case "dispute.created":
      return disputeFacts(object, ctx);
    default:
      return [];
  }
};

export const normalizeCreemEvent: Normalizer = (event, options) => ({
  provider: "creem",
  eventId: event.providerEventId,
  type: event.type,
  occurredAt: event.occurredAt,
  hint: creemOrderHint(event.type, event.payload),
  facts: factsOf(event, factContext(event, options)),
});
