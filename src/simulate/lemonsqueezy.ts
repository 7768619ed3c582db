// Lemon Squeezy scenarios for `verity simulate`: the webhooks Lemon Squeezy sends for each step,
// built with the payload builder the tests use (payloads/lemonsqueezy.ts), the app user in
// meta.custom_data as a checkout passes it. The price is a variant id (a number). Lemon Squeezy
// bodies carry no event id: Verity derives one from the body, so each run's bodies differ by their
// timestamps and new invoice or order ids. Object ids derive from the user and variant.
import { createHash } from "node:crypto";
import { invoice, lsEvent, order, subscription, type Resource } from "./payloads/lemonsqueezy.js";
import type { Delivery, Scenario, ScenarioInput } from "./scenarios.js";

const DAY = 86_400;
const PERIOD = 30 * DAY;

/** A numeric id Lemon Squeezy could have given, derived from a seed. */
const numericId = (seed: string, base: number): number => base + (createHash("sha256").update(seed).digest().readUInt32BE(0) % 900_000);

export const lemonSqueezyScenario = (scenario: Scenario, input: ScenarioInput): Delivery[] => {
  const { user, amount, now } = input;
  // A variant id: the CLI checks it is a whole number.
  const variantId = Number(input.price);
  const seed = `${user}:${variantId}`;
  const ids = { subscription: String(numericId(`sub:${seed}`, 100_000)), customer: numericId(`customer:${user}`, 200_000), order: numericId(`order:${seed}`, 300_000), lifetime: String(numericId(`buy:${seed}`, 400_000)) };
  const email = `${user.replace(/[^A-Za-z0-9._-]/g, "_")}@example.com`;
  const run = `${now}`;
  const send = (eventName: string, data: Resource): Delivery => {
    const body = Buffer.from(JSON.stringify(lsEvent({ eventName, data, customData: { user_id: user }, webhookId: "simulate", testMode: true })));
    // No id in the body: Verity derives it (and answers with it).
    return { id: null, type: eventName, body };
  };
  const snap = (status: string, renewsAt: number, endsAt: number | null = null) =>
    subscription({ id: ids.subscription, status, variantId, customerId: ids.customer, orderId: ids.order, email, createdAt: now - PERIOD, updatedAt: now, renewsAt, endsAt });
  const newInvoice = (what: string) => String(numericId(`invoice:${seed}:${what}:${run}`, 500_000));
  const lifetime = (over: Partial<Parameters<typeof order>[0]>) => order({ id: ids.lifetime, variantId, total: amount, customerId: ids.customer, email, createdAt: now, ...over });
  switch (scenario) {
    case "subscription":
      return [
        send("order_created", order({ id: String(ids.order), variantId, total: amount, customerId: ids.customer, email, createdAt: now })),
        send("subscription_created", snap("active", now + PERIOD)),
        send("subscription_payment_success", invoice({ id: newInvoice("initial"), subscriptionId: Number(ids.subscription), customerId: ids.customer, total: amount, billingReason: "initial", createdAt: now })),
      ];
    case "renewal":
      return [
        send("subscription_payment_success", invoice({ id: newInvoice("renewal"), subscriptionId: Number(ids.subscription), customerId: ids.customer, total: amount, billingReason: "renewal", createdAt: now })),
        send("subscription_updated", snap("active", now + PERIOD)),
      ];
    case "past-due":
      return [
        send("subscription_payment_failed", invoice({ id: newInvoice("failed"), subscriptionId: Number(ids.subscription), customerId: ids.customer, total: amount, billingReason: "renewal", status: "pending", createdAt: now })),
        send("subscription_updated", snap("past_due", now)),
      ];
    case "cancel":
      return [send("subscription_cancelled", snap("cancelled", now, now)), send("subscription_expired", snap("expired", now, now))];
    case "purchase":
      return [send("order_created", lifetime({}))];
    case "refund":
      return [send("order_refunded", lifetime({ createdAt: now - 60, updatedAt: now, refundedAmount: amount, refunded: true, status: "refunded" }))];
    default: {
      const never: never = scenario;
      return never;
    }
  }
};
