// The Paddle Billing normalizer: one stored notification → the canonical facts it means, plus the
// hint that orders it among same-millisecond events. Pure: no IO, no clock, no randomness, no
// environment. Unsupported types give no facts (they stay stored, so a later version can learn them).
import type { Fact } from "../../domain/facts.js";
import type { Normalizer, StoredEventInput } from "../types.js";
import { adjustmentFacts } from "./adjustment.js";
import { factContext } from "./context.js";
import type { FactContext } from "../context.js";
import { customerFacts } from "./customer.js";
import { paddleOrderHint } from "./hint.js";
import { eventData } from "./read.js";
import { record, text } from "../json.js";
import { SUBSCRIPTION_SNAPSHOT_TYPE } from "../snapshot.js";
import { subscriptionFacts } from "./subscription.js";
import { transactionFailedFacts, transactionPaidFacts } from "./transaction.js";

const factsOf = (event: StoredEventInput, ctx: FactContext): Fact[] => {
  const data = eventData(event.payload);
  switch (event.type) {
    case "customer.created":
    case "customer.updated":
    case "customer.imported":
      return customerFacts(data, ctx);
    case "subscription.created":
    case "subscription.imported":
    case "subscription.activated":
    case "subscription.trialing":
    case "subscription.updated":
    case "subscription.past_due":
    case "subscription.paused":
    case "subscription.resumed":
      return subscriptionFacts(data, false, ctx);
    case "subscription.canceled":
      return subscriptionFacts(data, true, ctx);
    // `verity sync paddle`: the subscription entity itself, as GET /subscriptions returned it.
    case SUBSCRIPTION_SNAPSHOT_TYPE: {
      const subscription = record(event.payload);
      return subscriptionFacts(subscription, text(subscription?.["status"]) === "canceled", ctx);
    }
    // paid: the payment is captured; completed: also processed (and, for a checkout, the
    // subscription created). Both make the same order, so either one alone is enough.
    case "transaction.paid":
    case "transaction.completed":
      return transactionPaidFacts(data, ctx);
    case "transaction.payment_failed":
      return transactionFailedFacts(data, ctx);
    case "adjustment.created":
    case "adjustment.updated":
      return adjustmentFacts(data, ctx);
    // No facts: created / ready / billed / updated / revised move no money; canceled was never
    // paid; past_due follows a payment_failed of the same transaction (and subscription.past_due
    // carries the status). invoice.* belong to Paddle's legacy invoices, paid through transactions.
    default:
      return [];
  }
};

export const normalizePaddleEvent: Normalizer = (event, options) => ({
  provider: "paddle",
  eventId: event.providerEventId,
  type: event.type,
  occurredAt: event.occurredAt,
  hint: paddleOrderHint(event.type, event.payload),
  facts: factsOf(event, factContext(event, options)),
});
