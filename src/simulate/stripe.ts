// Stripe scenarios for `verity simulate`: the events Stripe sends for each step of a customer's
// life, built with the same payload builder the tests use (payloads/stripe.ts), for one app user
// and one price. Object ids derive from the user and price, so `subscription` then `renewal`,
// `past-due`, `cancel` act on one subscription, and `purchase` then `refund` on one payment; event
// ids are new on every run (Stripe's are), so running a scenario again sends new events.
import { randomBytes } from "node:crypto";
import { charge, checkoutSession, customer, invoice, stripeEvent, subscription, tag, type StripeEvent } from "./payloads/stripe.js";

import type { Scenario, ScenarioInput } from "./scenarios.js";

const DAY = 86_400;
const PERIOD = 30 * DAY;

/** The events of a scenario, oldest first. */
export const stripeScenario = (scenario: Scenario, input: ScenarioInput): StripeEvent[] => {
  const { user, price, amount, currency, now } = input;
  const seed = `${user}:${price}`;
  const ids = { customer: `cus_${tag(`sim-customer:${user}`)}`, subscription: `sub_${tag(`sim-sub:${seed}`)}`, paymentIntent: `pi_${tag(`sim-pi:${seed}`)}`, charge: `ch_${tag(`sim-ch:${seed}`)}` };
  const run = randomBytes(4).toString("hex");
  let n = 0;
  const event = (type: string, object: Parameters<typeof stripeEvent>[0]["object"], created = now) => stripeEvent({ id: `evt_sim_${run}_${n++}`, type, created, object });
  const sub = (status: "active" | "past_due" | "canceled", periodStart: number, extra: Partial<Parameters<typeof subscription>[0]> = {}) =>
    subscription({ id: ids.subscription, customer: ids.customer, status, priceId: price, unitAmount: amount, currency, periodStart, periodEnd: periodStart + PERIOD, metadata: { user_id: user }, created: periodStart, shape: "basil", ...extra });
  const paid = (reason: "subscription_create" | "subscription_cycle", periodStart: number, i: string) =>
    invoice({ id: `in_${tag(`sim-in:${seed}:${i}`)}`, customer: ids.customer, subscription: ids.subscription, priceId: price, amountPaid: amount, currency, billingReason: reason, periodStart, periodEnd: periodStart + PERIOD, created: periodStart, shape: "basil" });
  switch (scenario) {
    case "subscription":
      return [
        event("customer.created", customer({ id: ids.customer, metadata: { user_id: user }, created: now - 2 }), now - 2),
        event("customer.subscription.created", sub("active", now - 1), now - 1),
        event("invoice.paid", paid("subscription_create", now - 1, `first:${now}`)),
      ];
    case "renewal":
      return [event("invoice.paid", paid("subscription_cycle", now, `cycle:${now}`)), event("customer.subscription.updated", sub("active", now))];
    case "past-due":
      return [
        event(
          "invoice.payment_failed",
          invoice({ id: `in_${tag(`sim-in:${seed}:failed:${now}`)}`, customer: ids.customer, subscription: ids.subscription, priceId: price, amountPaid: 0, amountDue: amount, currency, billingReason: "subscription_cycle", periodStart: now, periodEnd: now + PERIOD, created: now, status: "open", attemptCount: 1, shape: "basil" }),
        ),
        event("customer.subscription.updated", sub("past_due", now)),
      ];
    case "cancel":
      return [event("customer.subscription.deleted", sub("canceled", now - PERIOD + DAY, { canceledAt: now, endedAt: now, cancellationReason: "cancellation_requested" }))];
    case "purchase":
      return [
        event("customer.created", customer({ id: ids.customer, metadata: { user_id: user }, created: now - 1 }), now - 1),
        event(
          "checkout.session.completed",
          checkoutSession({ id: `cs_${tag(`sim-cs:${seed}:${now}`)}`, mode: "payment", customer: ids.customer, clientReferenceId: user, paymentIntent: ids.paymentIntent, amountTotal: amount, currency, metadata: { price_id: price, user_id: user }, created: now }),
        ),
      ];
    case "refund":
      return [event("charge.refunded", charge({ id: ids.charge, customer: ids.customer, paymentIntent: ids.paymentIntent, amount, amountRefunded: amount, currency, created: now }))];
    default: {
      const never: never = scenario;
      return never;
    }
  }
};
