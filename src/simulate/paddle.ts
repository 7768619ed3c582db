// Paddle Billing scenarios for `verity simulate`: the notifications Paddle sends for each step,
// built with the payload builder the tests use (payloads/paddle.ts): the app user rides in
// custom_data, as a checkout passes it through. Object ids derive from the user and price, so later
// scenarios act on what `subscription` or `purchase` created; event ids are new on every run.
import { randomBytes } from "node:crypto";
import { tag } from "./payloads/stripe.js";
import { adjustment, bodyOf, customer, paddleEvent, subscription, transaction, type JsonObject } from "./payloads/paddle.js";
import type { Delivery, Scenario, ScenarioInput } from "./scenarios.js";

const DAY_MS = 86_400_000;
const PERIOD_MS = 30 * DAY_MS;

export const paddleScenario = (scenario: Scenario, input: ScenarioInput): Delivery[] => {
  const { user, price, amount } = input;
  const now = input.now * 1000;
  const seed = `${user}:${price}`;
  const ids = { customer: `ctm_01h${tag(`sim-ctm:${user}`, 20)}`, subscription: `sub_01h${tag(`sim-sub:${seed}`, 20)}`, purchase: `txn_01h${tag(`sim-buy:${seed}`, 20)}`, refund: `adj_01h${tag(`sim-adj:${seed}`, 20)}` };
  const customData = { user_id: user };
  const run = randomBytes(6).toString("hex");
  let n = 0;
  const send = (type: string, data: JsonObject): Delivery => {
    n += 1;
    const id = `evt_01h${run}${String(n).padStart(3, "0")}`;
    return { id, type, body: bodyOf(paddleEvent({ id, type, occurredAt: now, micros: n, data })) };
  };
  const sub = (status: "active" | "past_due" | "canceled", periodStart: number, canceledAt: number | null = null) =>
    subscription({ id: ids.subscription, customerId: ids.customer, status, priceIds: [price], period: status === "canceled" ? null : { start: periodStart, end: periodStart + PERIOD_MS }, startedAt: periodStart, updatedAt: now, customData, canceledAt });
  const txn = (id: string, over: Partial<Parameters<typeof transaction>[0]>) =>
    transaction({ id, customerId: ids.customer, subscriptionId: ids.subscription, status: "completed", origin: "subscription_recurring", items: [{ priceId: price, amount }], updatedAt: now, customData, paymentStatus: "captured", ...over });
  const created = () => send("customer.created", customer({ id: ids.customer, email: `${user.replace(/[^A-Za-z0-9._-]/g, "_")}@example.com`, customData: null, at: now }));
  switch (scenario) {
    case "subscription": {
      const checkout = `txn_01h${tag(`sim-checkout:${seed}:${run}`, 20)}`;
      return [
        created(),
        send("transaction.paid", txn(checkout, { subscriptionId: null, status: "paid", origin: "web" })),
        send("subscription.created", { ...sub("active", now), transaction_id: checkout }),
        send("transaction.completed", txn(checkout, { origin: "web" })),
      ];
    }
    case "renewal":
      return [send("subscription.updated", sub("active", now)), send("transaction.completed", txn(`txn_01h${tag(`sim-renew:${seed}:${run}`, 20)}`, {}))];
    case "past-due":
      return [
        send("transaction.payment_failed", txn(`txn_01h${tag(`sim-fail:${seed}:${run}`, 20)}`, { status: "past_due", paymentStatus: "error" })),
        send("subscription.past_due", sub("past_due", now)),
      ];
    case "cancel":
      return [send("subscription.canceled", sub("canceled", now - PERIOD_MS + DAY_MS, now))];
    case "purchase": {
      const items = [{ priceId: price, amount, recurring: false }];
      return [created(), send("transaction.paid", txn(ids.purchase, { subscriptionId: null, status: "paid", origin: "web", items })), send("transaction.completed", txn(ids.purchase, { subscriptionId: null, origin: "web", items }))];
    }
    case "refund": {
      const adj = (status: "pending_approval" | "approved") =>
        adjustment({ id: ids.refund, transactionId: ids.purchase, customerId: ids.customer, subscriptionId: null, status, amount, type: "full", createdAt: now, updatedAt: status === "pending_approval" ? null : now });
      return [send("adjustment.created", adj("pending_approval")), send("adjustment.updated", adj("approved"))];
    }
    default: {
      const never: never = scenario;
      return never;
    }
  }
};
