// The Paddle normalizer on payloads built with test/builders/paddle.ts: each lifecycle gives the
// expected facts and, folded by the real resolver with the test catalog, the expected state and
// entitlements; the status mapping; the app user id from custom_data; hints; odd payloads.
import { describe, expect, it } from "vitest";
import { canonicalOrder } from "../../src/domain/canonical-order.js";
import { entitlementsAt, grantsFor } from "../../src/domain/entitlements.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import type { Fact, SubscriptionObserved } from "../../src/domain/facts.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { ordersOf, subscriptionsOf, type State } from "../../src/domain/state.js";
import { canonicalStatus } from "../../src/providers/paddle/subscription.js";
import { normalizePaddleEvent } from "../../src/providers/paddle/normalize.js";
import { normalizeStripeEvent } from "../../src/providers/stripe/normalize.js";
import { PRICES, PROVIDER_PRICES, testCatalog as catalog } from "../builders/histories.js";
import { adjustment, customer, paddleEvent, storedEvent, subscription, transaction, type JsonObject, type ScheduledChange } from "../builders/paddle.js";

const P = PROVIDER_PRICES.paddle;
const options = { userIdKeys: catalog.userIdKeys };
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const SUB = "sub_01hunit";
const CTM = "ctm_01hunit";
const USER = "u_paddle_1";

let counter = 0;
/** One delivery, normalized as replay would: decoded from its body, then normalized. */
const deliver = (type: string, data: JsonObject, at: number, extra: { id?: string; micros?: number; userIdKeys?: readonly string[] } = {}): NormalizedEvent =>
  normalizePaddleEvent(
    storedEvent(paddleEvent({ id: extra.id ?? `evt_unit_${(counter += 1)}`, type, occurredAt: at, micros: extra.micros ?? 0, data })),
    extra.userIdKeys ? { userIdKeys: extra.userIdKeys } : options,
  );

const sub = (overrides: Partial<Parameters<typeof subscription>[0]> & { at: number }): JsonObject =>
  subscription({
    id: SUB,
    customerId: CTM,
    status: "active",
    priceIds: [P.proMonthly],
    period: { start: overrides.at, end: overrides.at + 30 * DAY },
    startedAt: T0,
    updatedAt: overrides.at,
    customData: { user_id: USER },
    ...overrides,
  });

const txn = (overrides: Partial<Parameters<typeof transaction>[0]> & { id: string; at: number }): JsonObject =>
  transaction({
    customerId: CTM,
    subscriptionId: SUB,
    status: "completed",
    origin: "subscription_recurring",
    items: [{ priceId: P.proMonthly, amount: 1900 }],
    updatedAt: overrides.at,
    customData: { user_id: USER },
    ...overrides,
  });

const refund = (overrides: Partial<Parameters<typeof adjustment>[0]> & { id: string; transactionId: string; at: number; amount: number }): JsonObject =>
  adjustment({ customerId: CTM, subscriptionId: null, status: "approved", type: "partial", createdAt: overrides.at, updatedAt: overrides.at, ...overrides });

const fold = (events: readonly NormalizedEvent[]): State => replayEvents(catalog, events).state;

const theSubscription = (state: State) => state.subscriptions.get(`paddle:${SUB}`)!;

const userOf = (state: State) => {
  const users = [...state.users.values()];
  expect(users).toHaveLength(1);
  return users[0]!;
};

/** The features a user may use at `t`, as feature → source plan. */
const enabledAt = (state: State, t: number): Record<string, string | null> => {
  const userId = userOf(state).id;
  const grants = grantsFor(userId, subscriptionsOf(state, userId), ordersOf(state, userId), catalog);
  return Object.fromEntries(entitlementsAt(grants, catalog, t).filter((e) => e.enabled).map((e) => [e.feature, e.source]));
};

const snapshotOf = (event: NormalizedEvent): SubscriptionObserved["snapshot"] => {
  const fact = event.facts.find((f) => f._tag === "SubscriptionObserved" || f._tag === "SubscriptionEnded");
  if (fact === undefined || (fact._tag !== "SubscriptionObserved" && fact._tag !== "SubscriptionEnded")) throw new Error("no subscription fact");
  return fact.snapshot;
};

const tags = (facts: readonly Fact[]) => facts.map((f) => f._tag);

describe("Paddle subscription lifecycle", () => {
  const trialEnd = T0 + 14 * DAY;
  const periodEnd = trialEnd + 30 * DAY;
  const created = deliver("subscription.created", sub({ at: T0, status: "trialing", trial: { start: T0, end: trialEnd }, period: { start: T0, end: trialEnd }, transactionId: "txn_01htrial" }), T0);
  const activated = deliver("subscription.activated", sub({ at: trialEnd, period: { start: trialEnd, end: periodEnd } }), trialEnd);
  const renewal = deliver("transaction.completed", txn({ id: "txn_01hfirst", at: trialEnd }), trialEnd + 1);
  const planChange = deliver("subscription.updated", sub({ at: trialEnd + 5 * DAY, priceIds: [P.teamMonthly], period: { start: trialEnd, end: periodEnd } }), trialEnd + 5 * DAY);
  const cancelAtEnd = deliver(
    "subscription.updated",
    sub({ at: trialEnd + 10 * DAY, priceIds: [P.teamMonthly], period: { start: trialEnd, end: periodEnd }, scheduledChange: { action: "cancel", effectiveAt: periodEnd } }),
    trialEnd + 10 * DAY,
  );
  const canceled = deliver("subscription.canceled", sub({ at: periodEnd, status: "canceled", priceIds: [P.teamMonthly], period: null, canceledAt: periodEnd }), periodEnd);
  const history = [created, activated, renewal, planChange, cancelAtEnd, canceled];

  it("starts trialing, with the trial window and the app user from custom_data", () => {
    expect(tags(created.facts)).toEqual(["SubscriptionObserved"]);
    expect(created.facts[0]!.keys).toEqual([`app:${USER}`, `customer:paddle:${CTM}`, `subscription:paddle:${SUB}`, "invoice:paddle:txn_01htrial"]);
    const state = fold([created]);
    expect(theSubscription(state)).toMatchObject({ status: "trialing", providerStatus: "trialing", plan: "pro", trialStart: T0, trialEnd, currentPeriodEnd: trialEnd });
    expect(userOf(state)).toMatchObject({ appUserId: USER, status: "active" });
    expect(enabledAt(state, T0 + DAY)).toEqual({ api_calls: "pro", export: "pro" });
  });

  it("becomes active, records the payment as a subscription order, then changes plan", () => {
    const active = fold([created, activated, renewal]);
    expect(theSubscription(active)).toMatchObject({ status: "active", plan: "pro", currentPeriodStart: trialEnd, currentPeriodEnd: periodEnd, cancelAtPeriodEnd: false });
    expect(renewal.facts).toEqual([
      expect.objectContaining({ _tag: "CustomerSeen", customerId: CTM, appUserId: USER, keys: [`app:${USER}`, `customer:paddle:${CTM}`] }),
      expect.objectContaining({ _tag: "PaymentSucceeded", paymentId: "txn_01hfirst", subscriptionId: SUB, reason: "subscription_cycle", amount: 1900, currency: "usd", priceIds: [P.proMonthly], paymentRefs: ["txn_01hfirst"] }),
    ]);
    expect(active.orders.get("paddle:txn_01hfirst")).toMatchObject({ kind: "subscription", subscriptionId: `paddle:${SUB}`, plan: "pro", status: "paid" });
    const { state, transitions } = replayEvents(catalog, [created, activated, renewal, planChange]);
    expect(theSubscription(state).plan).toBe("team");
    expect(transitions).toContainEqual(expect.objectContaining({ entity: "subscription", field: "plan", from: "pro", to: "team" }));
    expect(enabledAt(state, trialEnd + 6 * DAY)).toEqual({ api_calls: "team", export: "team" });
  });

  it("cancels at period end: access until effective_at, then canceled", () => {
    const scheduled = fold(history.slice(0, 5));
    expect(snapshotOf(cancelAtEnd)).toMatchObject({ status: "active", cancelAtPeriodEnd: true, cancelAt: periodEnd, canceledAt: null });
    expect(theSubscription(scheduled)).toMatchObject({ status: "active", cancelAtPeriodEnd: true, cancelAt: periodEnd });
    expect(enabledAt(scheduled, periodEnd - 1)).toEqual({ api_calls: "team", export: "team" });
    expect(enabledAt(scheduled, periodEnd)).toEqual({});
    const ended = fold(history);
    expect(tags(canceled.facts)).toEqual(["SubscriptionEnded"]);
    expect(theSubscription(ended)).toMatchObject({ status: "canceled", providerStatus: "canceled", ended: true, canceledAt: periodEnd, endedAt: periodEnd, cancelAtPeriodEnd: false });
    expect(userOf(ended).status).toBe("inactive");
  });

  it("folds to the same state whatever the arrival order, with redeliveries", () => {
    const expected = fold(history);
    for (const order of [[...history].reverse(), [canceled, created, cancelAtEnd, activated, planChange, renewal], [...history, ...history.slice(1, 3)]]) {
      expect(fold(order)).toEqual(expected);
    }
  });

  it("a scheduled cancellation withdrawn (scheduled_change back to null) renews again", () => {
    const withdrawn = deliver("subscription.updated", sub({ at: trialEnd + 11 * DAY, priceIds: [P.teamMonthly], period: { start: trialEnd, end: periodEnd }, scheduledChange: null }), trialEnd + 11 * DAY);
    const state = fold([...history.slice(0, 5), withdrawn]);
    expect(theSubscription(state)).toMatchObject({ cancelAtPeriodEnd: false, cancelAt: null });
    expect(enabledAt(state, periodEnd + DAY)).toEqual({ api_calls: "team", export: "team" });
  });

  it("an update that still says canceled, after the cancellation, ends it too (no update after end)", () => {
    const late = deliver("subscription.updated", sub({ at: periodEnd + DAY, status: "canceled", period: null, canceledAt: periodEnd }), periodEnd + DAY);
    expect(tags(late.facts)).toEqual(["SubscriptionEnded"]);
    const { transitions } = replayEvents(catalog, [...history, late]);
    expect(transitions.filter((t) => t.field === "anomaly")).toEqual([]);
  });
});

describe("Paddle pause and resume", () => {
  const periodEnd = T0 + 30 * DAY;
  const active = deliver("subscription.activated", sub({ at: T0 }), T0);
  const pauseScheduled = deliver("subscription.updated", sub({ at: T0 + 3 * DAY, scheduledChange: { action: "pause", effectiveAt: periodEnd } }), T0 + 3 * DAY);
  const paused = deliver("subscription.paused", sub({ at: periodEnd, status: "paused", period: null, pausedAt: periodEnd }), periodEnd);
  const resumedAt = periodEnd + 10 * DAY;
  const resumed = deliver("subscription.resumed", sub({ at: resumedAt, period: { start: resumedAt, end: resumedAt + 30 * DAY } }), resumedAt);

  it("a scheduled pause ends access at its effective_at, like a cancellation at period end", () => {
    const state = fold([active, pauseScheduled]);
    expect(theSubscription(state)).toMatchObject({ status: "active", providerStatus: "active", cancelAtPeriodEnd: true, cancelAt: periodEnd });
    expect(enabledAt(state, periodEnd - 1)).toEqual({ api_calls: "pro", export: "pro" });
    expect(enabledAt(state, periodEnd)).toEqual({});
  });

  it("paused grants nothing (canceled, providerStatus paused) and is not ended", () => {
    const state = fold([active, pauseScheduled, paused]);
    expect(theSubscription(state)).toMatchObject({ status: "canceled", providerStatus: "paused", ended: false, currentPeriodEnd: null, cancelAtPeriodEnd: false, plan: "pro" });
    expect(userOf(state).status).toBe("inactive");
  });

  it("resumed is active again with a new period, in any arrival order", () => {
    for (const order of [[active, pauseScheduled, paused, resumed], [resumed, paused, active, pauseScheduled]]) {
      const state = fold(order);
      expect(theSubscription(state)).toMatchObject({ status: "active", providerStatus: "active", currentPeriodEnd: resumedAt + 30 * DAY, cancelAtPeriodEnd: false, ended: false });
      expect(userOf(state).status).toBe("active");
    }
  });

  it("a scheduled resume on a paused subscription schedules no stop", () => {
    const change: ScheduledChange = { action: "resume", effectiveAt: resumedAt };
    expect(snapshotOf(deliver("subscription.updated", sub({ at: periodEnd + DAY, status: "paused", period: null, scheduledChange: change }), periodEnd + DAY))).toMatchObject({
      status: "canceled",
      cancelAtPeriodEnd: false,
      cancelAt: null,
    });
  });
});

describe("Paddle payment failure and dunning", () => {
  const renewalAt = T0 + 30 * DAY;
  const active = deliver("subscription.activated", sub({ at: T0 }), T0);
  const failed = deliver("transaction.payment_failed", txn({ id: "txn_01hrenewal", at: renewalAt, status: "billed", paymentStatus: "error" }), renewalAt + 1000);
  const pastDue = deliver("subscription.past_due", sub({ at: renewalAt, status: "past_due", period: { start: renewalAt, end: renewalAt + 30 * DAY } }), renewalAt + 2000);
  const recoveredAt = renewalAt + 2 * DAY;
  const paid = deliver("transaction.completed", txn({ id: "txn_01hrenewal", at: recoveredAt, paymentStatus: "captured" }), recoveredAt);
  const activeAgain = deliver("subscription.updated", sub({ at: recoveredAt, period: { start: renewalAt, end: renewalAt + 30 * DAY } }), recoveredAt + 1);

  it("a failed renewal is a PaymentFailed; the subscription's past_due keeps access for the grace days", () => {
    expect(failed.facts).toEqual([expect.objectContaining({ _tag: "PaymentFailed", paymentId: "txn_01hrenewal", subscriptionId: SUB, amount: 1900, currency: "usd" })]);
    const { state, transitions } = replayEvents(catalog, [active, failed, pastDue]);
    expect(transitions).toContainEqual(expect.objectContaining({ entity: "payment", entityId: "paddle:txn_01hrenewal", to: "failed" }));
    expect(theSubscription(state)).toMatchObject({ status: "past_due", providerStatus: "past_due", pastDueSince: renewalAt + 2000 });
    expect(state.orders.toRecord()).toEqual({});
    expect(enabledAt(state, renewalAt + 2000 + 3 * DAY - 1)).toEqual({ api_calls: "pro", export: "pro" });
    expect(enabledAt(state, renewalAt + 2000 + 3 * DAY)).toEqual({});
  });

  it("recovers when the transaction completes and the subscription is active again", () => {
    const state = fold([activeAgain, paid, pastDue, failed, active]);
    expect(theSubscription(state)).toMatchObject({ status: "active", pastDueSince: null });
    expect(state.orders.get("paddle:txn_01hrenewal")).toMatchObject({ kind: "subscription", amount: 1900, status: "paid" });
  });

  it("transaction.past_due adds nothing to the payment_failed of the same transaction", () => {
    expect(deliver("transaction.past_due", txn({ id: "txn_01hrenewal", at: renewalAt, status: "past_due" }), renewalAt).facts).toEqual([]);
  });
});

describe("Paddle one-time purchases and refunds", () => {
  const buyer = "u_lifetime";
  const LIFE_TXN = "txn_01hlifetime";
  const LIFE_CTM = "ctm_01hbuyer";
  const purchase = deliver(
    "transaction.completed",
    transaction({ id: LIFE_TXN, customerId: LIFE_CTM, subscriptionId: null, status: "completed", origin: "web", items: [{ priceId: P.lifetime, amount: 19900, recurring: false }], updatedAt: T0, customData: { user_id: buyer } }),
    T0,
  );
  const adj = (id: string, status: Parameters<typeof adjustment>[0]["status"], amount: number, at: number) =>
    deliver(
      status === "pending_approval" ? "adjustment.created" : "adjustment.updated",
      refund({ id, transactionId: LIFE_TXN, customerId: LIFE_CTM, status, amount, type: amount === 19900 ? "full" : "partial", at }),
      at,
    );

  it("is a one_time PaymentSucceeded: a paid lifetime order that reveals the app user", () => {
    expect(tags(purchase.facts)).toEqual(["CustomerSeen", "PaymentSucceeded"]);
    expect(purchase.facts[1]).toMatchObject({ reason: "one_time", subscriptionId: null, amount: 19900, keys: [`app:${buyer}`, `customer:paddle:${LIFE_CTM}`, `invoice:paddle:${LIFE_TXN}`, `payment:paddle:${LIFE_TXN}`] });
    const state = fold([purchase]);
    expect(state.orders.get(`paddle:${LIFE_TXN}`)).toMatchObject({ kind: "one_time", plan: "lifetime", amount: 19900, currency: "usd", status: "paid", paymentRefs: [LIFE_TXN] });
    expect(userOf(state)).toMatchObject({ appUserId: buyer, status: "active" });
    expect(enabledAt(state, T0 + 400 * DAY)).toEqual({ api_calls: "lifetime", export: "lifetime" });
  });

  it("a full refund counts only once approved, and then revokes the lifetime plan", () => {
    const pending = adj("adj_01hfull", "pending_approval", 19900, T0 + DAY);
    const approved = adj("adj_01hfull", "approved", 19900, T0 + 2 * DAY);
    expect(pending.facts).toEqual([expect.objectContaining({ _tag: "RefundIssued", paymentRefs: [LIFE_TXN], refunds: {}, totalRefunded: null })]);
    expect(fold([purchase, pending]).orders.get(`paddle:${LIFE_TXN}`)).toMatchObject({ status: "paid", amountRefunded: 0 });
    for (const order of [[purchase, pending, approved], [approved, pending, purchase]]) {
      const state = fold(order);
      expect(state.orders.get(`paddle:${LIFE_TXN}`)).toMatchObject({ status: "refunded", amountRefunded: 19900 });
      expect(userOf(state).status).toBe("inactive");
    }
  });

  it("a partial refund leaves the order partially refunded (and the plan granted); two partials can make it whole", () => {
    const first = adj("adj_01hpart1", "approved", 5000, T0 + DAY);
    const partial = fold([purchase, first]);
    expect(partial.orders.get(`paddle:${LIFE_TXN}`)).toMatchObject({ status: "partially_refunded", amountRefunded: 5000 });
    expect(enabledAt(partial, T0 + 2 * DAY)).toEqual({ api_calls: "lifetime", export: "lifetime" });
    const second = adj("adj_01hpart2", "approved", 14900, T0 + 2 * DAY);
    expect(fold([purchase, first, second]).orders.get(`paddle:${LIFE_TXN}`)).toMatchObject({ status: "refunded", amountRefunded: 19900 });
  });

  it("a rejected refund never counts; a reversed one takes back what it counted", () => {
    const rejected = adj("adj_01hrej", "rejected", 19900, T0 + 2 * DAY);
    expect(rejected.facts[0]).toMatchObject({ refunds: { adj_01hrej: 0 } });
    expect(fold([purchase, adj("adj_01hrej", "pending_approval", 19900, T0 + DAY), rejected]).orders.get(`paddle:${LIFE_TXN}`)).toMatchObject({ status: "paid", amountRefunded: 0 });
    const reversed = adj("adj_01hrev", "reversed", 5000, T0 + 3 * DAY);
    expect(fold([purchase, adj("adj_01hrev", "approved", 5000, T0 + 2 * DAY), reversed]).orders.get(`paddle:${LIFE_TXN}`)).toMatchObject({ status: "paid", amountRefunded: 0 });
  });

  it("adjustments that are not refunds (credit, chargeback) give no facts", () => {
    for (const action of ["credit", "chargeback"] as const) {
      expect(deliver("adjustment.created", refund({ id: "adj_01hother", transactionId: LIFE_TXN, action, amount: 100, at: T0 }), T0).facts).toEqual([]);
    }
  });

  it("charges grand_total (total less credit) and writes the currency in lower case", () => {
    const credited = deliver(
      "transaction.paid",
      transaction({ id: "txn_01hcredit", customerId: LIFE_CTM, subscriptionId: null, status: "paid", origin: "web", items: [{ priceId: P.lifetime, amount: 19900 }], credit: 900, currencyCode: "EUR", updatedAt: T0 }),
      T0,
    );
    expect(credited.facts.at(-1)).toMatchObject({ _tag: "PaymentSucceeded", amount: 19000, currency: "eur" });
  });

  it("the checkout transaction paid before its subscription existed becomes that subscription's order", () => {
    const checkout = (subscriptionId: string | null, status: "paid" | "completed") =>
      transaction({ id: "txn_01hcheckout", customerId: CTM, subscriptionId, status, origin: "web", items: [{ priceId: P.proMonthly, amount: 1900 }], updatedAt: T0, customData: { user_id: USER } });
    // Same millisecond, the microseconds even reversed: completed (final for a transaction) still comes last.
    const paid = deliver("transaction.paid", checkout(null, "paid"), T0, { micros: 900 });
    const completed = deliver("transaction.completed", checkout(SUB, "completed"), T0, { micros: 100 });
    expect([paid.hint.phase, completed.hint.phase]).toEqual(["update", "terminal"]);
    const created = deliver("subscription.created", sub({ at: T0, transactionId: "txn_01hcheckout" }), T0, { micros: 500 });
    for (const order of [[paid, created, completed], [completed, created, paid]]) {
      const state = fold(order);
      expect([...state.orders.keys()]).toEqual(["paddle:txn_01hcheckout"]);
      expect(state.orders.get("paddle:txn_01hcheckout")).toMatchObject({ kind: "subscription", subscriptionId: `paddle:${SUB}`, plan: "pro", amount: 1900 });
      expect(completed.facts.at(-1)).toMatchObject({ reason: "subscription_create" });
      expect(ordersOf(state, userOf(state).id)).toHaveLength(1);
    }
  });
});

describe("Paddle status mapping", () => {
  it.each([
    ["active", "active", "SubscriptionObserved"],
    ["trialing", "trialing", "SubscriptionObserved"],
    ["past_due", "past_due", "SubscriptionObserved"],
    ["paused", "canceled", "SubscriptionObserved"],
    ["canceled", "canceled", "SubscriptionEnded"],
    ["some_future_status", "incomplete", "SubscriptionObserved"],
    ["constructor", "incomplete", "SubscriptionObserved"],
  ] as const)("%s → %s (%s), keeping Paddle's status", (providerStatus, status, tag) => {
    expect(canonicalStatus(providerStatus)).toBe(status);
    const event = deliver("subscription.updated", sub({ at: T0, status: providerStatus }), T0);
    expect(tags(event.facts)).toEqual([tag]);
    expect(snapshotOf(event)).toMatchObject({ status, providerStatus });
  });

  it("subscription.canceled ends the subscription even when its entity forgot its status", () => {
    const { status: _s, ...withoutStatus } = sub({ at: T0, status: "canceled", period: null, canceledAt: T0 });
    expect(deliver("subscription.canceled", withoutStatus, T0).facts[0]).toMatchObject({ _tag: "SubscriptionEnded", snapshot: { providerStatus: "canceled" } });
    expect(deliver("subscription.updated", withoutStatus, T0).facts).toEqual([]);
  });
});

describe("Paddle custom_data → the app's user id", () => {
  const withCustomData = (customData: JsonObject | null, userIdKeys?: readonly string[]) =>
    deliver("subscription.updated", sub({ at: T0, customData }), T0, userIdKeys ? { userIdKeys } : {}).facts[0] as SubscriptionObserved;

  it.each([
    ["user_id", { user_id: "u_a", userId: "u_b" }, "u_a"],
    ["the second configured key", { userId: "u_b" }, "u_b"],
    ["a blank first key", { user_id: "  ", userId: "u_b" }, "u_b"],
    ["a numeric id", { user_id: 4711 }, "4711"],
    ["no configured key", { customer_reference_id: "x" }, null],
    ["a nested object", { user_id: { id: "u_nested" } }, null],
    ["a fractional number", { user_id: 1.5 }, null],
    ["null custom_data", null, null],
  ])("reads %s", (_name, customData, expected) => {
    const fact = withCustomData(customData as JsonObject | null);
    expect(fact.appUserId).toBe(expected);
    expect(fact.keys[0]).toBe(expected === null ? `customer:paddle:${CTM}` : `app:${expected}`);
  });

  it("follows the configured keys in order", () => {
    expect(withCustomData({ user_id: "u_a", account: "acc_1" }, ["account", "user_id"]).appUserId).toBe("acc_1");
  });

  it("reads custom_data that is not an object (Paddle's legacy invoices send []) as no id", () => {
    const data = { ...sub({ at: T0 }), custom_data: [] };
    expect((deliver("subscription.updated", data, T0).facts[0] as SubscriptionObserved).appUserId).toBeNull();
  });

  it("joins one person's Stripe and Paddle subscriptions into one user through the app key", () => {
    const stripeSubscription = normalizeStripeEvent(
      {
        providerEventId: "evt_stripe_both",
        type: "customer.subscription.created",
        occurredAt: T0,
        payload: {
          id: "evt_stripe_both",
          object: "event",
          type: "customer.subscription.created",
          created: T0 / 1000,
          data: {
            object: {
              id: "sub_stripe_both",
              object: "subscription",
              customer: "cus_both",
              status: "active",
              metadata: { user_id: USER },
              current_period_start: T0 / 1000,
              current_period_end: T0 / 1000 + 30 * 86_400,
              items: { object: "list", data: [{ id: "si_1", price: { id: PRICES.teamMonthly } }] },
            },
          },
        },
      },
      options,
    );
    const paddleSubscription = deliver("subscription.created", sub({ at: T0 + 1000 }), T0 + 1000);
    for (const order of [[stripeSubscription, paddleSubscription], [paddleSubscription, stripeSubscription]]) {
      const state = fold(order);
      const user = userOf(state);
      expect(user.appUserId).toBe(USER);
      expect(subscriptionsOf(state, user.id).map((s) => `${s.provider}:${s.plan}`).sort()).toEqual(["paddle:pro", "stripe:team"]);
    }
  });

  it("links a customer.created's custom_data to later events that name only the customer", () => {
    const seen = deliver("customer.created", customer({ id: CTM, email: "pat@example.com", customData: { user_id: USER }, at: T0 }), T0);
    expect(seen.facts).toEqual([expect.objectContaining({ _tag: "CustomerSeen", customerId: CTM, appUserId: USER, email: "pat@example.com" })]);
    const anonymous = deliver("subscription.created", sub({ at: T0 + 1000, customData: null }), T0 + 1000);
    const state = fold([anonymous, seen]);
    expect(userOf(state)).toMatchObject({ appUserId: USER, email: "pat@example.com" });
  });
});

describe("Paddle hints and canonical order", () => {
  it("names the entity, the phase and Paddle's digits below the millisecond", () => {
    const created = deliver("subscription.created", sub({ at: T0 }), T0, { micros: 150 });
    expect(created.hint).toMatchObject({ object: `paddle:subscription:${SUB}`, phase: "create", left: null, version: 150_000 });
    expect(created.hint.state).toMatchObject({ id: SUB, status: "active" });
    expect(deliver("subscription.updated", sub({ at: T0 }), T0).hint).toMatchObject({ phase: "update", version: 0 });
    expect(deliver("subscription.canceled", sub({ at: T0, status: "canceled", period: null }), T0).hint.phase).toBe("terminal");
    expect(deliver("transaction.canceled", txn({ id: "txn_01hc", at: T0, status: "canceled" }), T0).hint).toMatchObject({ object: "paddle:transaction:txn_01hc", phase: "terminal" });
    expect(deliver("address.updated", { id: "add_01h" }, T0).hint).toMatchObject({ object: "paddle:address:add_01h", phase: "update" });
  });

  it("orders same-millisecond updates by their microseconds, whatever the ids", () => {
    const pastDue = deliver("subscription.updated", sub({ at: T0, status: "past_due" }), T0, { id: "evt_a", micros: 900 });
    const active = deliver("subscription.updated", sub({ at: T0, status: "active" }), T0, { id: "evt_b", micros: 100 });
    expect(canonicalOrder([pastDue, active]).map((e) => e.eventId)).toEqual(["evt_b", "evt_a"]);
    expect(theSubscription(fold([pastDue, active])).status).toBe("past_due");
    const swapped = [deliver("subscription.updated", sub({ at: T0, status: "past_due" }), T0, { id: "evt_a", micros: 100 }), deliver("subscription.updated", sub({ at: T0, status: "active" }), T0, { id: "evt_b", micros: 900 })];
    expect(theSubscription(fold(swapped)).status).toBe("active");
  });

  it("puts a creation before an update and a cancellation last in the same millisecond", () => {
    const created = deliver("subscription.created", sub({ at: T0, status: "trialing" }), T0, { id: "evt_z", micros: 999 });
    const canceled = deliver("subscription.canceled", sub({ at: T0, status: "canceled", period: null }), T0, { id: "evt_a", micros: 0 });
    const updated = deliver("subscription.updated", sub({ at: T0 }), T0, { id: "evt_m", micros: 500 });
    expect(canonicalOrder([canceled, updated, created]).map((e) => e.eventId)).toEqual(["evt_z", "evt_m", "evt_a"]);
  });

  it("deduplicates one event delivered to two destinations (same event_id, other notification_id)", () => {
    const data = sub({ at: T0 });
    const toA = normalizePaddleEvent(storedEvent({ ...paddleEvent({ id: "evt_01hsame", type: "subscription.updated", occurredAt: T0, data }), notification_id: "ntf_a" }), options);
    const toB = normalizePaddleEvent(storedEvent({ ...paddleEvent({ id: "evt_01hsame", type: "subscription.updated", occurredAt: T0, data }), notification_id: "ntf_b" }), options);
    expect(toA.eventId).toBe(toB.eventId);
    expect(canonicalOrder([toA, toB])).toHaveLength(1);
  });
});

describe("Paddle normalizer robustness", () => {
  it("gives unknown and money-less types a hint and no facts", () => {
    for (const type of ["transaction.created", "transaction.ready", "transaction.billed", "transaction.updated", "transaction.revised", "invoice.paid", "payout.paid", "something.new"]) {
      expect(deliver(type, txn({ id: "txn_01hx", at: T0 }), T0)).toMatchObject({ provider: "paddle", facts: [] });
    }
  });

  it("reads price ids from price_id and from line items when items lack them, one-time items after recurring ones", () => {
    const legacy = { ...txn({ id: "txn_01hl", at: T0 }), items: [{ price_id: P.teamMonthly, quantity: 1 }] };
    expect(deliver("transaction.completed", legacy, T0).facts.at(-1)).toMatchObject({ priceIds: [P.teamMonthly] });
    const noItems = { ...txn({ id: "txn_01hl", at: T0 }), items: [] };
    expect(deliver("transaction.completed", noItems, T0).facts.at(-1)).toMatchObject({ priceIds: [P.proMonthly] });
    const mixed = { ...sub({ at: T0 }), items: [{ recurring: false, price: { id: P.lifetime } }, { recurring: true, price: { id: P.teamMonthly } }] };
    expect(snapshotOf(deliver("subscription.updated", mixed, T0)).priceIds).toEqual([P.teamMonthly, P.lifetime]);
  });

  it("reads nanosecond and millisecond entity timestamps alike, and Go's zero time as none", () => {
    const data = { ...sub({ at: T0 }), current_billing_period: { starts_at: "2024-04-12T10:30:27.584874645Z", ends_at: "2024-05-12T10:30:27.5Z" }, canceled_at: "0001-01-01T00:00:00Z" };
    expect(snapshotOf(deliver("subscription.updated", data, T0))).toMatchObject({
      currentPeriodStart: Date.UTC(2024, 3, 12, 10, 30, 27, 584),
      currentPeriodEnd: Date.UTC(2024, 4, 12, 10, 30, 27, 500),
      canceledAt: null,
    });
  });

  const handledTypes = [
    "customer.created",
    "subscription.created",
    "subscription.updated",
    "subscription.canceled",
    "transaction.paid",
    "transaction.completed",
    "transaction.payment_failed",
    "adjustment.created",
    "adjustment.updated",
    "something.unknown",
  ];
  const oddPayloads: unknown[] = [
    null,
    42,
    "text",
    [],
    {},
    { data: null },
    { data: [] },
    { occurred_at: 5, data: { id: 7 } },
    { occurred_at: "not a time", data: { id: "x", status: {}, items: "no", custom_data: "no", scheduled_change: { action: "cancel", effective_at: 5 }, details: { totals: { grand_total: "1e3" } } } },
    { data: { id: "x", status: "approved", action: "refund", transaction_id: "txn_x", totals: { total: "__proto__" }, items: [null, 3, { price: 7, trial_dates: "x" }], current_billing_period: [] } },
    { data: { id: "__proto__", transaction_id: "__proto__", action: "refund", status: "approved", totals: { total: "5" }, customer_id: "constructor", subscription_id: "", custom_data: { user_id: ["no"] } } },
    { data: { id: "constructor", transaction_id: "toString", action: "refund", status: "approved", totals: { total: "5" } } },
  ];

  it.each(handledTypes)("never throws on odd %s payloads", (type) => {
    for (const payload of oddPayloads) {
      const event = normalizePaddleEvent({ providerEventId: "evt_odd", type, occurredAt: 0, payload }, options);
      for (const fact of event.facts) expect(fact.keys.length).toBeGreaterThan(0);
      expect(() => replayEvents(catalog, [event])).not.toThrow();
    }
  });
});
