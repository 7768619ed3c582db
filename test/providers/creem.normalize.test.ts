// The Creem normalizer with built payloads: each lifecycle folded by the real resolver, the status
// mapping, the app's user id from `metadata`, the ordering hints, and odd payloads.
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { entitlementsAt, grantsFor } from "../../src/domain/entitlements.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import type { Fact, SubscriptionSnapshot } from "../../src/domain/facts.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { ordersOf, subscriptionsOf, type State } from "../../src/domain/state.js";
import { decodeCreemEnvelope } from "../../src/providers/creem/envelope.js";
import { normalizeCreemEvent } from "../../src/providers/creem/normalize.js";
import { normalizeStripeEvent } from "../../src/providers/stripe/normalize.js";
import {
  addDays,
  checkout,
  creemEvent,
  dispute,
  refund,
  storedEvent,
  subscription,
  type JsonObject,
  type SubscriptionInput,
} from "../builders/creem.js";
import { PRICES, PROVIDER_PRICES, testCatalog } from "../builders/histories.js";
import { onlyUser } from "../support/conformance.js";

const P = PROVIDER_PRICES.creem;
const options = { userIdKeys: testCatalog.userIdKeys };
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const SUB = "sub_life";
const CUS = "cust_life";
const USER = { user_id: "u_42" };

const normalize = (event: unknown): NormalizedEvent => normalizeCreemEvent(storedEvent(event), options);

let sequence = 0;
const event = (type: string, createdAt: number, object: JsonObject, id?: string): NormalizedEvent =>
  normalize(creemEvent({ id: id ?? `evt_${type}_${(sequence += 1)}`, type, createdAt, object }));

const base: SubscriptionInput = {
  id: SUB,
  customerId: CUS,
  productId: P.proMonthly,
  price: 1900,
  status: "active",
  periodStart: T0,
  periodEnd: addDays(T0, 31),
  createdAt: T0 + 2_000,
  metadata: USER,
};

const sub = (type: string, at: number, over: Partial<SubscriptionInput> = {}, id?: string): NormalizedEvent =>
  event(type, at, subscription({ ...base, updatedAt: at - 100, ...over }), id);

const fold = (events: readonly NormalizedEvent[]): State => replayEvents(testCatalog, events).state;
const subOf = (state: State) => state.subscriptions.get(`creem:${SUB}`)!;

/** What the user may use at `t`: feature → granting plan. */
const grantsAt = (state: State, t: number): Record<string, string | null> => {
  const user = onlyUser(state);
  const grants = grantsFor(user.id, subscriptionsOf(state, user.id), ordersOf(state, user.id), testCatalog);
  return Object.fromEntries(entitlementsAt(grants, testCatalog, t).map((e) => [e.feature, e.source]));
};

const snapshotOf = (normalized: NormalizedEvent): SubscriptionSnapshot => {
  const fact = normalized.facts.find((f) => f._tag === "SubscriptionObserved" || f._tag === "SubscriptionEnded");
  if (fact === undefined || (fact._tag !== "SubscriptionObserved" && fact._tag !== "SubscriptionEnded")) throw new Error("no subscription fact");
  return fact.snapshot;
};

const tags = (facts: readonly Fact[]) => facts.map((f) => f._tag);

/** Every arrival order of a small list (the fold must not care). */
const permutations = <T>(items: readonly T[]): T[][] =>
  items.length <= 1 ? [[...items]] : items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));

describe("Creem subscription lifecycles", () => {
  it("trial → active → plan change → cancel at period end → canceled, in any arrival order", () => {
    const trialEnd = addDays(T0, 7);
    const trial = sub("subscription.trialing", T0 + 3_000, { status: "trialing", periodEnd: trialEnd });
    const paid = sub("subscription.paid", trialEnd + 5_000, { periodStart: trialEnd, periodEnd: addDays(trialEnd, 31), lastTransactionId: "tran_first" });
    const upgraded = sub("subscription.update", trialEnd + 60_000, { productId: P.teamMonthly, itemProductIds: [P.proMonthly], periodStart: trialEnd, periodEnd: addDays(trialEnd, 31) });
    const scheduled = sub("subscription.scheduled_cancel", trialEnd + 120_000, { productId: P.teamMonthly, status: "scheduled_cancel", periodStart: trialEnd, periodEnd: addDays(trialEnd, 31) });
    const canceled = sub("subscription.canceled", addDays(trialEnd, 31) + 1_000, { productId: P.teamMonthly, status: "canceled", canceledAt: addDays(trialEnd, 31), periodStart: trialEnd, periodEnd: addDays(trialEnd, 31) });

    expect(tags(paid.facts)).toEqual(["SubscriptionObserved", "PaymentSucceeded"]);
    expect(snapshotOf(trial)).toMatchObject({ status: "trialing", trialStart: T0, trialEnd });

    const steps = [trial, paid, upgraded, scheduled];
    const expectations = [
      { status: "trialing", plan: "pro", cancelAtPeriodEnd: false },
      { status: "active", plan: "pro", cancelAtPeriodEnd: false },
      { status: "active", plan: "team", cancelAtPeriodEnd: false },
      { status: "active", plan: "team", cancelAtPeriodEnd: true, providerStatus: "scheduled_cancel" },
    ];
    steps.forEach((_, i) => expect(subOf(fold(steps.slice(0, i + 1)))).toMatchObject(expectations[i]!));

    const scheduledState = fold(steps);
    expect(grantsAt(scheduledState, addDays(trialEnd, 30))["export"]).toBe("team");
    // Scheduled to end at the period end: no access after it, even before the canceled event.
    expect(grantsAt(scheduledState, addDays(trialEnd, 31) + 1)["export"]).toBeNull();

    for (const order of permutations([trial, paid, upgraded, scheduled, canceled])) {
      const state = fold(order);
      expect(subOf(state)).toMatchObject({ status: "canceled", providerStatus: "canceled", plan: "team", ended: true, canceledAt: addDays(trialEnd, 31) });
      expect(onlyUser(state)).toMatchObject({ appUserId: "u_42", status: "inactive" });
      expect(state.orders.get("creem:tran_first")).toMatchObject({ kind: "subscription", plan: "pro", amount: 1900, status: "paid" });
    }
  });

  it("expired ends access at once, whatever the payload's status says, and a later payment revives it", () => {
    const paid = sub("subscription.paid", T0 + 5_000, { lastTransactionId: "tran_1" });
    const expired = sub("subscription.expired", addDays(T0, 31) + 10_000, { status: "active" });
    const revived = sub("subscription.paid", addDays(T0, 33), { periodStart: addDays(T0, 33), periodEnd: addDays(T0, 64), lastTransactionId: "tran_2" });
    expect(snapshotOf(expired)).toMatchObject({ status: "canceled", providerStatus: "expired", endedAt: addDays(T0, 31) });
    const ended = fold([expired, paid]);
    expect(subOf(ended)).toMatchObject({ status: "canceled", providerStatus: "expired", ended: false });
    expect(onlyUser(ended).status).toBe("inactive");
    const again = fold([revived, expired, paid]);
    expect(subOf(again)).toMatchObject({ status: "active", currentPeriodStart: addDays(T0, 33) });
    expect([...again.orders.keys()].sort()).toEqual(["creem:tran_1", "creem:tran_2"]);
  });

  it("pause grants nothing (kept as paused) and a resume restores the plan", () => {
    const active = sub("subscription.active", T0 + 3_000);
    const paused = sub("subscription.paused", T0 + 86_400_000, { status: "paused" });
    const resumed = sub("subscription.active", T0 + 2 * 86_400_000, { status: "active" });
    const pausedState = fold([paused, active]);
    expect(subOf(pausedState)).toMatchObject({ status: "canceled", providerStatus: "paused", ended: false });
    expect(grantsAt(pausedState, T0 + 86_400_001)["export"]).toBeNull();
    const resumedState = fold([resumed, paused, active]);
    expect(subOf(resumedState)).toMatchObject({ status: "active", providerStatus: "active" });
    expect(grantsAt(resumedState, T0 + 2 * 86_400_001)["export"]).toBe("pro");
  });

  it("payment failed → past_due keeps access for the grace days, then a payment recovers it", () => {
    const periodEnd = addDays(T0, 31);
    const paid = sub("subscription.paid", T0 + 5_000, { lastTransactionId: "tran_1" });
    const pastDue = sub("subscription.past_due", periodEnd + 60_000, { status: "past_due" });
    expect(tags(pastDue.facts)).toEqual(["SubscriptionObserved", "PaymentFailed"]);
    expect(pastDue.facts[1]).toMatchObject({ paymentId: `${SUB}@${new Date(periodEnd).toISOString()}`, subscriptionId: SUB, amount: 1900, currency: "EUR" });
    const unpaid = sub("subscription.unpaid", periodEnd + 86_400_000, { status: "unpaid" });
    const { state, transitions } = replayEvents(testCatalog, [pastDue, paid, unpaid]);
    expect(subOf(state)).toMatchObject({ status: "past_due", providerStatus: "unpaid", pastDueSince: periodEnd + 60_000 });
    expect(transitions).toContainEqual(expect.objectContaining({ entity: "payment", field: "status", to: "failed" }));
    expect(grantsAt(state, periodEnd + 60_000 + 2 * 86_400_000)["export"]).toBe("pro");
    expect(grantsAt(state, periodEnd + 60_000 + 3 * 86_400_000)["export"]).toBeNull();
    const recovered = sub("subscription.paid", periodEnd + 2 * 86_400_000, { periodStart: periodEnd, periodEnd: addDays(periodEnd, 31), lastTransactionId: "tran_2" });
    expect(recovered.facts[1]).toMatchObject({ reason: "subscription_cycle", paymentId: "tran_2" });
    const after = fold([recovered, unpaid, pastDue, paid]);
    expect(subOf(after)).toMatchObject({ status: "active", pastDueSince: null, currentPeriodEnd: addDays(periodEnd, 31) });
  });
});

describe("Creem orders and refunds", () => {
  const oneTime = (over: Partial<Parameters<typeof checkout>[0]> = {}) =>
    event("checkout.completed", T0, checkout({ id: "ch_once", orderId: "ord_once", customerId: CUS, productId: P.lifetime, type: "onetime", amount: 19900, metadata: USER, ...over }));
  const takeBack = (kind: "refund" | "dispute", amount: number, refundedTotal: number, extra: { id?: string; status?: string; subscriptionId?: string; transactionId?: string; orderId?: string; amountPaid?: number } = {}) => {
    const input = {
      id: extra.id ?? `${kind === "refund" ? "ref" : "disp"}_${amount}`,
      amount,
      transaction: {
        id: extra.transactionId ?? "tran_once",
        orderId: extra.orderId ?? "ord_once",
        customerId: CUS,
        amountPaid: extra.amountPaid ?? 19900,
        refundedTotal,
        subscriptionId: extra.subscriptionId ?? null,
      },
      checkoutId: "ch_once",
    };
    return event(`${kind}.created`, T0 + 86_400_000 + amount, kind === "refund" ? refund({ ...input, ...(extra.status ? { status: extra.status } : {}) }) : dispute(input));
  };

  it("a one-time purchase is a paid order of its checkout, and a lifetime plan grants without end", () => {
    const bought = oneTime();
    expect(bought.facts[0]).toMatchObject({ _tag: "CheckoutCompleted", mode: "payment", checkoutId: "ch_once", priceIds: [P.lifetime], amount: 19900, paid: true, paymentRefs: ["ord_once"], appUserId: "u_42" });
    const state = fold([bought]);
    expect(state.orders.get("creem:ch_once")).toMatchObject({ kind: "one_time", plan: "lifetime", amount: 19900, currency: "EUR", status: "paid" });
    expect(grantsAt(state, addDays(T0, 10_000))["export"]).toBe("lifetime");
  });

  it("reads the paid amount and the order's transaction from newer checkout shapes", () => {
    const fact = oneTime({ amount: 19900, amountPaid: 24079, transactionId: "tran_once" }).facts[0];
    expect(fact).toMatchObject({ amount: 24079, paymentRefs: ["ord_once", "tran_once"] });
  });

  it("an unpaid order is pending and grants nothing", () => {
    const state = fold([oneTime({ orderStatus: "pending" })]);
    expect(state.orders.get("creem:ch_once")).toMatchObject({ status: "pending" });
    expect(grantsAt(state, T0 + 1)["export"]).toBeNull();
  });

  it("partial then full refund of a one-time order, in any order", () => {
    const bought = oneTime();
    const partial = takeBack("refund", 5000, 5000);
    const rest = takeBack("refund", 14900, 19900, { id: "ref_rest" });
    for (const events of permutations([bought, partial])) {
      const state = fold(events);
      expect(state.orders.get("creem:ch_once")).toMatchObject({ amountRefunded: 5000, status: "partially_refunded" });
      expect(grantsAt(state, T0 + 2 * 86_400_000)["export"]).toBe("lifetime");
    }
    for (const events of permutations([bought, partial, rest])) {
      const state = fold(events);
      expect(state.orders.get("creem:ch_once")).toMatchObject({ amountRefunded: 19900, status: "refunded" });
      expect(grantsAt(state, T0 + 2 * 86_400_000)["export"]).toBeNull();
    }
  });

  it("a failed or canceled refund gives nothing back; a pending one counts", () => {
    expect(takeBack("refund", 300, 0, { status: "failed" }).facts[0]).toMatchObject({ refunds: { ref_300: 0 } });
    expect(takeBack("refund", 300, 0, { status: "canceled" }).facts[0]).toMatchObject({ refunds: { ref_300: 0 } });
    expect(takeBack("refund", 300, 300, { status: "pending" }).facts[0]).toMatchObject({ refunds: { ref_300: 300 } });
    expect(takeBack("refund", 300, 300, { status: "requires_action" }).facts[0]).toMatchObject({ refunds: {} });
  });

  it("a dispute (chargeback) of a one-time order takes the lifetime grant back", () => {
    const disputed = takeBack("dispute", 19900, 19900);
    expect(disputed.facts[0]).toMatchObject({ _tag: "RefundIssued", refunds: { disp_19900: 19900 }, totalRefunded: 19900, paymentRefs: ["tran_once", "ord_once"] });
    const state = fold([disputed, oneTime()]);
    expect(state.orders.get("creem:ch_once")).toMatchObject({ status: "refunded" });
    expect(onlyUser(state).status).toBe("inactive");
  });

  it("full and partial refunds of a subscription payment find the transaction subscription.paid recorded", () => {
    const paid = sub("subscription.paid", T0 + 5_000, { lastTransactionId: "tran_sub", price: 1900 });
    const partial = takeBack("refund", 900, 900, { transactionId: "tran_sub", orderId: "ord_sub", subscriptionId: SUB, amountPaid: 1900 });
    const full = takeBack("refund", 1000, 1900, { id: "ref_rest", transactionId: "tran_sub", orderId: "ord_sub", subscriptionId: SUB, amountPaid: 1900 });
    expect(partial.facts[0]!.keys).toContain(`subscription:creem:${SUB}`);
    for (const events of permutations([paid, partial])) {
      expect(fold(events).orders.get("creem:tran_sub")).toMatchObject({ kind: "subscription", amount: 1900, amountRefunded: 900, status: "partially_refunded" });
    }
    for (const events of permutations([paid, partial, full])) {
      const state = fold(events);
      expect(state.orders.get("creem:tran_sub")).toMatchObject({ amountRefunded: 1900, status: "refunded" });
      // A refund is money, not a cancellation: the subscription's own events decide access.
      expect(subOf(state).status).toBe("active");
      expect([...state.users.keys()]).toHaveLength(1);
    }
  });

  it("a recurring checkout places no order (subscription.paid does) but links the user", () => {
    const recurring = event("checkout.completed", T0, checkout({ id: "ch_rec", orderId: "ord_rec", customerId: CUS, productId: P.proMonthly, type: "recurring", amount: 1900, subscriptionId: SUB, metadata: USER }));
    expect(recurring.facts[0]).toMatchObject({ mode: "subscription", subscriptionId: SUB });
    const state = fold([recurring, sub("subscription.paid", T0 + 5_000, { lastTransactionId: "tran_rec", metadata: {} })]);
    expect([...state.orders.keys()]).toEqual(["creem:tran_rec"]);
    expect(onlyUser(state)).toMatchObject({ appUserId: "u_42", status: "active" });
  });

  it("infers the mode from the subscription when order.type is missing, and yields nothing without order or subscription", () => {
    const withSub = checkout({ id: "ch_x", orderId: "ord_x", customerId: CUS, productId: P.proMonthly, type: "recurring", amount: 1, subscriptionId: SUB });
    const { type: _t, ...untypedOrder } = withSub["order"] as Record<string, unknown>;
    expect(event("checkout.completed", T0, { ...withSub, order: untypedOrder } as JsonObject).facts[0]).toMatchObject({ mode: "subscription" });
    const { subscription: _s, ...withoutSub } = withSub as Record<string, unknown>;
    expect(event("checkout.completed", T0, { ...withoutSub, order: untypedOrder } as JsonObject).facts[0]).toMatchObject({ mode: "payment" });
    const { order: _o, ...bare } = withoutSub;
    expect(event("checkout.completed", T0, bare as JsonObject).facts).toEqual([]);
  });
});

describe("Creem status mapping", () => {
  it.each([
    ["subscription.active", "active", "active", "active"],
    ["subscription.update", "trialing", "trialing", "trialing"],
    ["subscription.update", "past_due", "past_due", "past_due"],
    ["subscription.update", "unpaid", "past_due", "unpaid"],
    ["subscription.update", "scheduled_cancel", "active", "scheduled_cancel"],
    ["subscription.update", "canceled", "canceled", "canceled"],
    ["subscription.update", "expired", "canceled", "expired"],
    ["subscription.update", "paused", "canceled", "paused"],
    ["subscription.update", "incomplete", "incomplete", "incomplete"],
    ["subscription.update", "constructor", "incomplete", "constructor"],
    ["subscription.update", "something_new", "incomplete", "something_new"],
    // Types that name a state decide over the payload's status.
    ["subscription.trialing", "active", "trialing", "trialing"],
    ["subscription.past_due", "active", "past_due", "past_due"],
    ["subscription.unpaid", "active", "past_due", "unpaid"],
    ["subscription.scheduled_cancel", "active", "active", "scheduled_cancel"],
    ["subscription.paused", "active", "canceled", "paused"],
    ["subscription.expired", "active", "canceled", "expired"],
    ["subscription.canceled", "active", "canceled", "canceled"],
  ])("%s with status %s → %s (provider status %s)", (type, raw, canonical, providerStatus) => {
    expect(snapshotOf(sub(type, T0, { status: raw }))).toMatchObject({ status: canonical, providerStatus });
  });

  it("flags cancel at period end only for scheduled_cancel, and ignores canceled_at on a live subscription", () => {
    expect(snapshotOf(sub("subscription.scheduled_cancel", T0, { status: "scheduled_cancel" }))).toMatchObject({ cancelAtPeriodEnd: true, cancelAt: null });
    expect(snapshotOf(sub("subscription.active", T0, { canceledAt: T0 }))).toMatchObject({ cancelAtPeriodEnd: false, canceledAt: null });
    expect(snapshotOf(sub("subscription.canceled", T0, { status: "canceled", canceledAt: T0 - 5 }))).toMatchObject({ canceledAt: T0 - 5, endedAt: T0 - 5 });
  });

  it("yields SubscriptionEnded only for subscription.canceled", () => {
    expect(tags(sub("subscription.canceled", T0, { status: "canceled" }).facts)).toEqual(["SubscriptionEnded"]);
    expect(tags(sub("subscription.expired", T0).facts)).toEqual(["SubscriptionObserved"]);
  });
});

describe("the app's user id from Creem metadata", () => {
  it("reads the configured keys in order, skipping blanks, and accepts integer ids", () => {
    const appOf = (metadata: JsonObject) => sub("subscription.active", T0, { metadata }).facts[0]!;
    expect(appOf({ userId: "second", user_id: "first" })).toMatchObject({ appUserId: "first", keys: ["app:first", `customer:creem:${CUS}`, `subscription:creem:${SUB}`] });
    expect(appOf({ user_id: "  ", userId: "second" })).toMatchObject({ appUserId: "second" });
    expect(appOf({ user_id: 42 })).toMatchObject({ appUserId: "42" });
    expect(appOf({ user_id: 4.2, other: "x" })).toMatchObject({ appUserId: null, keys: [`customer:creem:${CUS}`, `subscription:creem:${SUB}`] });
    expect(appOf({ constructor: "x" } as JsonObject)).toMatchObject({ appUserId: null });
  });

  it("prefers the checkout's metadata, then its subscription's", () => {
    const withBoth = checkout({ id: "ch_m", orderId: "ord_m", customerId: CUS, productId: P.proMonthly, type: "recurring", amount: 1, subscriptionId: SUB, metadata: { user_id: "from_sub" } });
    expect(event("checkout.completed", T0, { ...withBoth, metadata: { user_id: "from_checkout" } }).facts[0]).toMatchObject({ appUserId: "from_checkout" });
    expect(event("checkout.completed", T0, { ...withBoth, metadata: {} }).facts[0]).toMatchObject({ appUserId: "from_sub" });
  });

  it("joins one person's Stripe and Creem purchases into one user through the app key", () => {
    const stripeSub = normalizeStripeEvent(
      {
        providerEventId: "evt_stripe_1",
        type: "customer.subscription.created",
        occurredAt: T0,
        payload: {
          id: "evt_stripe_1",
          object: "event",
          type: "customer.subscription.created",
          created: T0 / 1000,
          data: { object: { id: "sub_stripe", object: "subscription", customer: "cus_stripe", status: "active", metadata: USER, current_period_start: T0 / 1000, current_period_end: T0 / 1000 + 2_678_400, items: { object: "list", data: [{ price: { id: PRICES.proMonthly } }] } } },
        },
      },
      options,
    );
    const creemLifetime = event("checkout.completed", T0 + 1_000, checkout({ id: "ch_join", orderId: "ord_join", customerId: CUS, productId: P.lifetime, type: "onetime", amount: 19900, metadata: USER }));
    for (const events of [[stripeSub, creemLifetime], [creemLifetime, stripeSub]]) {
      const state = fold(events);
      const user = onlyUser(state);
      expect(user.appUserId).toBe("u_42");
      expect(user.keys).toEqual(expect.arrayContaining(["app:u_42", "customer:stripe:cus_stripe", `customer:creem:${CUS}`]));
      expect(subscriptionsOf(state, user.id).map((s) => s.id)).toEqual(["stripe:sub_stripe"]);
      expect(ordersOf(state, user.id).map((o) => o.id)).toEqual(["creem:ch_join"]);
    }
  });
});

describe("Creem ordering hints", () => {
  it("orders same-millisecond events of one subscription: create, then updates by updated_at, then the end", () => {
    const at = T0 + 10_000;
    const created = sub("subscription.active", at, { updatedAt: at - 300 }, "evt_z");
    const scheduled = sub("subscription.scheduled_cancel", at, { status: "scheduled_cancel", updatedAt: at - 100 }, "evt_a");
    const staleUpdate = sub("subscription.update", at, { status: "active", updatedAt: at - 200 }, "evt_y");
    const canceled = sub("subscription.canceled", at, { status: "canceled", updatedAt: at - 50 }, "evt_b");
    expect(created.hint).toMatchObject({ object: `creem:subscription:${SUB}`, phase: "create", left: null, version: at - 300 });
    expect(scheduled.hint).toMatchObject({ phase: "update", version: at - 100 });
    expect(canceled.hint.phase).toBe("terminal");
    for (const events of permutations([created, scheduled, staleUpdate])) {
      expect(subOf(fold(events))).toMatchObject({ providerStatus: "scheduled_cancel", cancelAtPeriodEnd: true });
    }
    for (const events of permutations([created, scheduled, staleUpdate, canceled])) {
      expect(subOf(fold(events))).toMatchObject({ status: "canceled", ended: true });
    }
  });

  it("falls back to the current period start when updated_at is missing (a renewal is later)", () => {
    const object = subscription({ ...base, periodStart: addDays(T0, 31), periodEnd: addDays(T0, 62) }) as Record<string, unknown>;
    const { updated_at: _u, ...withoutUpdatedAt } = object;
    expect(event("subscription.update", T0, withoutUpdatedAt as JsonObject).hint.version).toBe(addDays(T0, 31));
  });

  it("names checkout, refund and dispute objects and gives unknown types a hint and no facts", () => {
    expect(event("checkout.completed", T0, checkout({ id: "ch_h", orderId: "ord_h", customerId: CUS, productId: P.lifetime, type: "onetime", amount: 1 })).hint).toMatchObject({ object: "creem:checkout:ch_h", phase: "create" });
    const unknown = event("customer.updated", T0, { id: "cust_1", object: "customer", email: "a@b.c" }, "evt_unknown");
    expect(unknown).toMatchObject({ provider: "creem", eventId: "evt_unknown", facts: [], hint: { object: "creem:customer:cust_1", phase: "other", version: null } });
  });
});

describe("decodeCreemEnvelope", () => {
  it("decodes id, eventType and created_at (already milliseconds) and allows other members", () => {
    expect(decodeCreemEnvelope({ id: "evt_1", eventType: "x.y", created_at: 1_728_734_325_927, object: {}, extra: true })).toEqual(
      Either.right({ providerEventId: "evt_1", type: "x.y", occurredAt: 1_728_734_325_927 }),
    );
  });

  it.each([
    ["eventType", { id: "evt_1", created_at: 1, object: {} }],
    ["eventType", { id: "evt_1", type: "x.y", created_at: 1, object: {} }],
    ["eventType", { id: "evt_1", eventType: " ", created_at: 1, object: {} }],
    ["created_at", { id: "evt_1", eventType: "x.y", created_at: 1.5, object: {} }],
    ["created_at", { id: "evt_1", eventType: "x.y", created_at: "2024-10-12T11:58:33.097Z", object: {} }],
    ["created_at", { id: "evt_1", eventType: "x.y", created_at: -1, object: {} }],
    ["object", { id: "evt_1", eventType: "x.y", created_at: 1 }],
    ["object", { id: "evt_1", eventType: "x.y", created_at: 1, object: [] }],
    ["id", { id: 7, eventType: "x.y", created_at: 1, object: {} }],
    ["id", { id: "", eventType: "x.y", created_at: 1, object: {} }],
  ])("names the path of a wrong %s", (pathName, payload) => {
    const result = decodeCreemEnvelope(payload);
    expect(Either.isLeft(result) && result.left).toMatch(new RegExp(`^invalid Creem event envelope: (.*; )?${pathName}: `));
  });

  it("rejects non-objects with a clear message", () => {
    expect(decodeCreemEnvelope(null)).toEqual(Either.left("Creem event must be a JSON object, got null"));
    expect(decodeCreemEnvelope([])).toEqual(Either.left("Creem event must be a JSON object, got an array"));
    expect(decodeCreemEnvelope("evt")).toEqual(Either.left("Creem event must be a JSON object, got string"));
  });
});

describe("normalizeCreemEvent on odd payloads", () => {
  const handled = [
    "checkout.completed",
    "subscription.active",
    "subscription.trialing",
    "subscription.paid",
    "subscription.update",
    "subscription.scheduled_cancel",
    "subscription.past_due",
    "subscription.unpaid",
    "subscription.paused",
    "subscription.expired",
    "subscription.canceled",
    "refund.created",
    "dispute.created",
    "something.unknown",
  ];
  const odd: unknown[] = [
    null,
    42,
    "text",
    [],
    {},
    { object: null },
    { object: [] },
    { object: { id: 5, status: {}, items: "no", product: 7, customer: ["x"] } },
    { object: { id: "x", status: "active", metadata: "no", items: [null, 3, { product_id: 9 }], current_period_start_date: "yesterday", current_period_end_date: 1e400, last_transaction_id: "" } },
    { object: { id: "__proto__", transaction: { id: "__proto__", refunded_amount: "all" }, refund_amount: 1, status: "succeeded", order: { type: "onetime" } } },
    { object: { id: "ch", order: { id: null, type: "recurring", amount: "1000" }, subscription: { metadata: { user_id: {} } } } },
  ];

  it.each(handled)("never throws on odd %s payloads, and every fact names a key", (type) => {
    for (const payload of odd) {
      const normalized = normalizeCreemEvent({ providerEventId: "evt_odd", type, occurredAt: 0, payload }, options);
      for (const fact of normalized.facts) expect(fact.keys.length).toBeGreaterThan(0);
      expect(() => replayEvents(testCatalog, [normalized])).not.toThrow();
    }
  });

  it("keeps a __proto__ refund id as data, not as a prototype", () => {
    const normalized = normalizeCreemEvent({ providerEventId: "evt_odd", type: "refund.created", occurredAt: 0, payload: JSON.parse('{"object":{"id":"__proto__","refund_amount":5,"status":"succeeded","transaction":"tran_p"}}') }, options);
    const fact = normalized.facts[0];
    expect(fact?._tag).toBe("RefundIssued");
    expect(fact?._tag === "RefundIssued" && Object.getOwnPropertyNames(fact.refunds)).toEqual(["__proto__"]);
  });
});

describe("times no Date can hold", () => {
  it("read as unknown: normalizing and folding them never throws, and no fact carries one", () => {
    const start = Date.UTC(2025, 0, 1);
    const object = { ...subscription({ id: "sub_far", customerId: "cust_far", productId: PROVIDER_PRICES.creem.proMonthly, status: "past_due", periodStart: start, periodEnd: start + 30 * 86_400_000 }), current_period_end_date: 9e15 };
    const event = normalizeCreemEvent(storedEvent(creemEvent({ id: "evt_far", type: "subscription.past_due", createdAt: start, object })), { userIdKeys: ["user_id"] });
    const snapshots = event.facts.flatMap((f) => ("snapshot" in f ? [f.snapshot] : []));
    expect(snapshots.length).toBeGreaterThan(0);
    for (const s of snapshots) expect(s.currentPeriodEnd).toBeNull();
    expect(() => replayEvents(testCatalog, [event])).not.toThrow();
  });
});
