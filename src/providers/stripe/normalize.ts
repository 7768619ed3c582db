// The Stripe normalizer: one stored Stripe event → the canonical facts it means, plus the hint that
// orders it among same-second events. Pure: no IO, no clock, no randomness, no environment.
// Unsupported types give no facts (they stay stored, so a later version can learn them).
import type { Fact } from "../../domain/facts.js";
import type { Normalizer, StoredEventInput } from "../types.js";
import { checkoutFacts, customerFacts, LINE_ITEMS_EVENT_TYPE, lineItemsFacts } from "./checkout.js";
import { factContext } from "./context.js";
import type { FactContext } from "../context.js";
import { stripeOrderHint } from "./hint.js";
import { chargeRefundedFacts, invoiceFailedFacts, invoicePaidFacts, invoicePaymentFacts, refundObjectFacts } from "./payments.js";
import { eventObject } from "./read.js";
import { subscriptionFacts } from "./subscription.js";
import { CUSTOMER_SNAPSHOT_TYPE, snapshotEnded, SUBSCRIPTION_SNAPSHOT_TYPE } from "./snapshot.js";
import { record } from "../json.js";

const factsOf = (event: StoredEventInput, ctx: FactContext): Fact[] => {
  const object = eventObject(event.payload);
  switch (event.type) {
    case "customer.created":
    case "customer.updated":
      return customerFacts(object, ctx);
    // customer.deleted: no facts. Deleting a Stripe customer cancels its subscriptions, and Stripe
    // sends customer.subscription.deleted for each; those carry the change of access. The user,
    // its ids and its orders stay: refunds and disputes can still arrive for them.
    case "customer.deleted":
      return [];
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return checkoutFacts(object, ctx);
    case LINE_ITEMS_EVENT_TYPE:
      return lineItemsFacts(event.providerEventId, event.payload, ctx);
    // Objects `verity sync` read from the API as they are now (their body is the object itself).
    case CUSTOMER_SNAPSHOT_TYPE:
      return customerFacts(record(event.payload), ctx);
    case SUBSCRIPTION_SNAPSHOT_TYPE:
      return subscriptionFacts(record(event.payload), snapshotEnded(event.payload), ctx);
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.trial_will_end":
    case "customer.subscription.paused":
    case "customer.subscription.resumed":
    case "customer.subscription.pending_update_applied":
      return subscriptionFacts(object, false, ctx);
    case "customer.subscription.deleted":
      return subscriptionFacts(object, true, ctx);
    case "invoice.paid":
    case "invoice.payment_succeeded":
      return invoicePaidFacts(object, ctx);
    case "invoice_payment.paid":
      return invoicePaymentFacts(object, ctx);
    case "invoice.payment_failed":
      return invoiceFailedFacts(object, ctx);
    case "charge.refunded":
      return chargeRefundedFacts(object, ctx);
    case "refund.created":
    case "refund.updated":
    case "charge.refund.updated":
      return refundObjectFacts(object, ctx);
    default:
      return [];
  }
};

export const normalizeStripeEvent: Normalizer = (event, options) => ({
  provider: "stripe",
  eventId: event.providerEventId,
  type: event.type,
  occurredAt: event.occurredAt,
  hint: stripeOrderHint(event.type, event.providerEventId, event.payload),
  facts: factsOf(event, factContext(event, options)),
});
