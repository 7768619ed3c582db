// Creem scenarios for `verity simulate`: the events Creem sends for each step, built with the
// payload builder the tests use (payloads/creem.ts), the app user in the metadata a checkout
// passes through. Object ids derive from the user and price (a Creem product id); event ids are
// new on every run.
import { randomBytes } from "node:crypto";
import { bodyOf, checkout, creemEvent, refund, subscription, type JsonObject } from "./payloads/creem.js";
import { tag } from "./payloads/stripe.js";
import type { Delivery, Scenario, ScenarioInput } from "./scenarios.js";

const DAY_MS = 86_400_000;
const PERIOD_MS = 30 * DAY_MS;

export const creemScenario = (scenario: Scenario, input: ScenarioInput): Delivery[] => {
  const { user, price: productId, amount } = input;
  const now = input.now * 1000;
  const seed = `${user}:${productId}`;
  const ids = {
    customer: `cust_${tag(`sim-cust:${user}`)}`,
    subscription: `sub_${tag(`sim-sub:${seed}`)}`,
    order: `ord_${tag(`sim-ord:${seed}`)}`,
    checkout: `ch_${tag(`sim-ch:${seed}`)}`,
    transaction: `tran_${tag(`sim-tran:${seed}`)}`,
  };
  const metadata = { user_id: user };
  const email = `${user.replace(/[^A-Za-z0-9._-]/g, "_")}@example.com`;
  const run = randomBytes(6).toString("hex");
  let n = 0;
  const send = (type: string, object: JsonObject): Delivery => {
    n += 1;
    const id = `evt_${run}${String(n).padStart(3, "0")}`;
    return { id, type, body: bodyOf(creemEvent({ id, type, createdAt: now + n, object })) };
  };
  const snap = (status: "active" | "past_due" | "canceled", periodStart: number, lastTransactionId?: string) =>
    subscription({
      id: ids.subscription,
      customerId: ids.customer,
      productId,
      price: amount,
      status,
      periodStart,
      periodEnd: periodStart + PERIOD_MS,
      createdAt: periodStart,
      updatedAt: now + n,
      canceledAt: status === "canceled" ? now : null,
      metadata,
      ...(lastTransactionId === undefined ? {} : { lastTransactionId }),
    });
  const transaction = (what: string) => `tran_${tag(`sim-${what}:${seed}:${run}`)}`;
  switch (scenario) {
    case "subscription":
      return [
        send("checkout.completed", checkout({ id: `ch_${tag(`sim-ch-sub:${seed}:${run}`)}`, orderId: `ord_${tag(`sim-ord-sub:${seed}:${run}`)}`, customerId: ids.customer, productId, type: "recurring", amount, subscriptionId: ids.subscription, metadata, email })),
        send("subscription.active", snap("active", now)),
        send("subscription.paid", snap("active", now, transaction("first"))),
      ];
    case "renewal":
      return [send("subscription.paid", snap("active", now, transaction("renewal")))];
    case "past-due":
      return [send("subscription.past_due", snap("past_due", now - PERIOD_MS))];
    case "cancel":
      return [send("subscription.canceled", snap("canceled", now - PERIOD_MS + DAY_MS))];
    case "purchase":
      return [send("checkout.completed", checkout({ id: ids.checkout, orderId: ids.order, customerId: ids.customer, productId, type: "onetime", amount, transactionId: ids.transaction, metadata, email }))];
    case "refund":
      return [
        send(
          "refund.created",
          refund({ id: `ref_${tag(`sim-ref:${seed}:${run}`)}`, amount, transaction: { id: ids.transaction, orderId: ids.order, customerId: ids.customer, amountPaid: amount, refundedTotal: amount }, checkoutId: ids.checkout, metadata }),
        ),
      ];
    default: {
      const never: never = scenario;
      return never;
    }
  }
};
