// Stripe histories end to end: given these Stripe events (normalized, replayed in canonical order
// as the store does), then this state and these entitlements at these instants. What Stripe's data
// decides (same-second ties by previous_attributes, API shapes, refund events) is proved here; the
// resolver's own rules are specified over canonical facts in test/domain/resolver/.
import { describe, expect, it } from "vitest";
import { entitlementsAt, grantsFor, type EntitlementView } from "../../src/domain/entitlements.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import { appUserKey, customerKey, userIdFor } from "../../src/domain/identity.js";
import { foldFacts, replayEvents } from "../../src/domain/resolver/step.js";
import type { Step } from "../../src/domain/resolver/view.js";
import { initialState, ordersOf, subscriptionsOf, type State } from "../../src/domain/state.js";
import { addDays, type Instant } from "../../src/domain/time.js";
import { normalizeStripeEvent } from "../../src/providers/stripe/normalize.js";
import { PRICES, testCatalog } from "../builders/histories.js";
import {
  apiVersionFor,
  asStoredInput,
  charge,
  checkoutSession,
  customer,
  invoice,
  refund,
  stripeEvent,
  subscription,
  type JsonObject,
  type Shape,
  type StripeEvent,
  type SubscriptionInput,
} from "../builders/stripe.js";

const T = 1_717_200_000; // 2024-06-01T00:00:00Z, in Stripe's unix seconds
const DAY = 86_400;
const ms = (unixSeconds: number): Instant => unixSeconds * 1000;

const normalize = (event: StripeEvent): NormalizedEvent => normalizeStripeEvent(asStoredInput(event), { userIdKeys: ["user_id", "userId"] });

/** Replays a delivery the way the store does: deduplicated, in canonical order. */
const given = (...delivered: StripeEvent[]): Step => replayEvents(testCatalog, delivered.map(normalize));

const userOf = (state: State, appUserId: string): string => {
  const id = state.owners.get(appUserKey(appUserId));
  expect(id, `a user is known by ${appUserId}`).toBeDefined();
  return id!;
};

const entitlements = (state: State, userId: string, t: Instant): EntitlementView[] =>
  entitlementsAt(grantsFor(userId, subscriptionsOf(state, userId), ordersOf(state, userId), testCatalog), testCatalog, t);

const feature = (views: readonly EntitlementView[], key: string): EntitlementView => {
  const view = views.find((v) => v.feature === key);
  expect(view, `the catalog lists ${key}`).toBeDefined();
  return view!;
};

const statusPath = ({ transitions }: Step, subscriptionId: string): (string | null)[] =>
  transitions.filter((t) => t.entity === "subscription" && t.entityId === `stripe:${subscriptionId}` && t.field === "status").map((t) => t.to);

/** One subscription's events: each call gives an event about the same subscription with overrides. */
const subscriptionEvents = (base: Omit<SubscriptionInput, "status" | "periodStart" | "periodEnd"> & { periodStart?: number; periodEnd?: number }) => {
  const shape: Shape = base.shape;
  return (
    id: string,
    type: "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted",
    created: number,
    fields: Partial<SubscriptionInput> & { status: SubscriptionInput["status"] },
    previousAttributes?: JsonObject,
  ): StripeEvent =>
    stripeEvent({
      id,
      type,
      created,
      object: subscription({ periodStart: T, periodEnd: T + 30 * DAY, ...base, ...fields }),
      ...(previousAttributes === undefined ? {} : { previousAttributes }),
      apiVersion: apiVersionFor(shape),
    });
};

describe("same-second ties are decided by the data", () => {
  it.each<Shape>(["legacy", "basil"])("created → updated → updated in one second, delivered in reverse, ends in the last status (%s)", (shape) => {
    const sub = subscriptionEvents({ id: "sub_chain", customer: "cus_chain", priceId: PRICES.proMonthly, metadata: { user_id: "u_chain" }, shape });
    // Ids sort against the true order, so only previous_attributes can put them right.
    const created = sub("evt_3created", "customer.subscription.created", T, { status: "incomplete" });
    const activated = sub("evt_2activated", "customer.subscription.updated", T, { status: "active" }, { status: "incomplete" });
    const pastDue = sub("evt_1pastdue", "customer.subscription.updated", T, { status: "past_due" }, { status: "active" });

    const step = given(pastDue, activated, created);

    expect(step.state.subscriptions.get("stripe:sub_chain")?.status).toBe("past_due");
    expect(statusPath(step, "sub_chain")).toStrictEqual(["incomplete", "active", "past_due"]);
    expect(step).toStrictEqual(given(created, activated, pastDue));
  });

  it("a plan switch that names no scalar in previous_attributes still follows the resume it came after", () => {
    const sub = subscriptionEvents({ id: "sub_switch", customer: "cus_switch", priceId: PRICES.proMonthly, metadata: { user_id: "u_switch" }, shape: "legacy" });
    const created = sub("evt_9", "customer.subscription.created", T, { status: "active" });
    const cancel = sub("evt_8", "customer.subscription.updated", T + 2 * DAY, { status: "active", cancelAtPeriodEnd: true, canceledAt: T + 2 * DAY }, {
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
    });
    const resume = sub("evt_7resume", "customer.subscription.updated", T + 5 * DAY, { status: "active" }, {
      cancel_at_period_end: true,
      cancel_at: T + 30 * DAY,
      canceled_at: T + 2 * DAY,
    });
    const switched = sub("evt_1switch", "customer.subscription.updated", T + 5 * DAY, { status: "active", priceId: PRICES.teamMonthly }, {
      items: { object: "list", data: [{ id: "si_old", price: { id: PRICES.proMonthly } }] },
      plan: { id: PRICES.proMonthly, object: "plan" },
    });

    const { state } = given(switched, resume, cancel, created);

    expect(state.subscriptions.get("stripe:sub_switch")).toMatchObject({ plan: "team", priceIds: [PRICES.teamMonthly], cancelAtPeriodEnd: false });
  });
});

describe("deletion is terminal", () => {
  const sub = subscriptionEvents({ id: "sub_end", customer: "cus_end", priceId: PRICES.proMonthly, metadata: { user_id: "u_end" }, shape: "legacy" });
  const created = sub("evt_a", "customer.subscription.created", T, { status: "active" });
  const scheduled = sub("evt_b", "customer.subscription.updated", T + 3 * DAY, { status: "active", cancelAtPeriodEnd: true, canceledAt: T + 3 * DAY }, {
    cancel_at_period_end: false,
    cancel_at: null,
    canceled_at: null,
  });
  const deleted = sub("evt_c", "customer.subscription.deleted", T + 30 * DAY, {
    status: "canceled",
    cancelAtPeriodEnd: true,
    canceledAt: T + 3 * DAY,
    endedAt: T + 30 * DAY,
  });

  it("a deletion delivered first, then an older update, leaves it canceled", () => {
    const { state } = given(deleted, scheduled, created);
    expect(state.subscriptions.get("stripe:sub_end")).toMatchObject({ status: "canceled", ended: true, endedAt: ms(T + 30 * DAY) });
  });

  it("a deletion and an update of the same second: the deletion comes last whatever the ids", () => {
    const update = sub("evt_z_update", "customer.subscription.updated", T + 30 * DAY, { status: "active", cancelAtPeriodEnd: true, metadata: { user_id: "u_end", note: "x" } }, {
      metadata: { note: null },
    });
    const deletedSameSecond = { ...deleted, id: "evt_a_deleted" };
    const { state } = given(deletedSameSecond, update, created);
    expect(state.subscriptions.get("stripe:sub_end")?.status).toBe("canceled");
  });

  it("folded in arrival order, an update after the deletion changes nothing and is recorded as an anomaly", () => {
    const facts = [deleted, scheduled].map(normalize).flatMap((e) => e.facts);
    const step = foldFacts(testCatalog, initialState(), facts);
    expect(step.state.subscriptions.get("stripe:sub_end")).toMatchObject({ status: "canceled", ended: true });
    expect(step.transitions).toContainEqual(expect.objectContaining({ entity: "subscription", field: "anomaly", to: "update_after_end", cause: "stripe:evt_b" }));
  });
});

describe("entitlements in time", () => {
  it("cancel_at_period_end grants until the current period ends, and not after", () => {
    const sub = subscriptionEvents({ id: "sub_cape", customer: "cus_cape", priceId: PRICES.proMonthly, metadata: { user_id: "u_cape" }, shape: "basil" });
    const { state } = given(
      sub("evt_1", "customer.subscription.created", T, { status: "active" }),
      sub("evt_2", "customer.subscription.updated", T + 5 * DAY, { status: "active", cancelAtPeriodEnd: true, canceledAt: T + 5 * DAY }, {
        cancel_at_period_end: false,
        cancel_at: null,
        canceled_at: null,
      }),
    );
    const user = userOf(state, "u_cape");
    const end = ms(T + 30 * DAY);
    expect(state.subscriptions.get("stripe:sub_cape")).toMatchObject({ status: "active", cancelAtPeriodEnd: true, currentPeriodEnd: end });

    expect(feature(entitlements(state, user, end - 1), "export")).toMatchObject({ enabled: true, source: "pro" });
    expect(feature(entitlements(state, user, end - 1), "api_calls")).toMatchObject({ enabled: true, limit: 10_000, remaining: 10_000 });
    expect(feature(entitlements(state, user, end), "export")).toMatchObject({ enabled: false, source: null });
    expect(feature(entitlements(state, user, end), "api_calls").enabled).toBe(false);
  });

  it("past_due keeps access for catalog.grace.pastDueDays, then not", () => {
    expect(testCatalog.grace.pastDueDays).toBe(3);
    const sub = subscriptionEvents({ id: "sub_pd", customer: "cus_pd", priceId: PRICES.teamMonthly, metadata: { user_id: "u_pd" }, shape: "legacy" });
    const failedAt = T + 30 * DAY + 3600;
    const { state } = given(
      sub("evt_1", "customer.subscription.created", T, { status: "active" }),
      sub("evt_2", "customer.subscription.updated", T + 30 * DAY, { status: "active", periodStart: T + 30 * DAY, periodEnd: T + 60 * DAY }, {
        current_period_start: T,
        current_period_end: T + 30 * DAY,
      }),
      sub("evt_3", "customer.subscription.updated", failedAt, { status: "past_due", periodStart: T + 30 * DAY, periodEnd: T + 60 * DAY }, { status: "active" }),
    );
    const user = userOf(state, "u_pd");
    expect(state.subscriptions.get("stripe:sub_pd")).toMatchObject({ status: "past_due", pastDueSince: ms(failedAt) });

    const graceEnds = addDays(ms(failedAt), testCatalog.grace.pastDueDays);
    expect(feature(entitlements(state, user, graceEnds - 1), "export")).toMatchObject({ enabled: true, source: "team" });
    expect(feature(entitlements(state, user, graceEnds - 1), "api_calls")).toMatchObject({ limit: 50_000, resetsAt: ms(T + 60 * DAY) });
    expect(feature(entitlements(state, user, graceEnds), "export").enabled).toBe(false);
  });

  describe("a lifetime one-time purchase", () => {
    const amount = 19_900;
    const purchase = [
      stripeEvent({ id: "evt_cus", type: "customer.created", created: T, object: customer({ id: "cus_life", email: "life@example.com", created: T }) }),
      stripeEvent({
        id: "evt_cs",
        type: "checkout.session.completed",
        created: T,
        object: checkoutSession({
          id: "cs_test_life",
          mode: "payment",
          customer: "cus_life",
          clientReferenceId: "u_life",
          paymentIntent: "pi_life",
          amountTotal: amount,
          currency: "usd",
          metadata: { price_id: PRICES.lifetime },
          created: T - 60,
        }),
      }),
      stripeEvent({
        id: "evt_ch",
        type: "charge.succeeded",
        created: T,
        object: charge({ id: "ch_life", customer: "cus_life", paymentIntent: "pi_life", amount, amountRefunded: 0, created: T }),
      }),
    ];
    const refundEvents = (at: number, refundId: string, refundAmount: number, refundedBefore: number): StripeEvent[] => [
      stripeEvent({
        id: `evt_chr_${refundId}`,
        type: "charge.refunded",
        created: at,
        object: charge({ id: "ch_life", customer: "cus_life", paymentIntent: "pi_life", amount, amountRefunded: refundedBefore + refundAmount, created: T }),
        previousAttributes: refundedBefore + refundAmount >= amount ? { amount_refunded: refundedBefore, refunded: false } : { amount_refunded: refundedBefore },
      }),
      stripeEvent({
        id: `evt_re_${refundId}`,
        type: "refund.created",
        created: at,
        object: refund({ id: refundId, charge: "ch_life", paymentIntent: "pi_life", amount: refundAmount, status: "succeeded", created: at }),
      }),
    ];
    const partial = refundEvents(T + 10 * DAY, "re_1", 5_000, 0);
    const rest = refundEvents(T + 20 * DAY, "re_2", amount - 5_000, 5_000);
    const tenYearsOn = ms(T) + 10 * 365 * 86_400_000;

    it("grants its plan without end", () => {
      const { state } = given(...purchase);
      const user = userOf(state, "u_life");
      expect(state.orders.get("stripe:cs_test_life")).toMatchObject({ plan: "lifetime", status: "paid", amount });
      expect(feature(entitlements(state, user, tenYearsOn), "export")).toMatchObject({ enabled: true, source: "lifetime" });
      expect(feature(entitlements(state, user, tenYearsOn), "api_calls")).toMatchObject({ enabled: true, limit: 5_000 });
    });

    it("a partial refund (seen as charge.refunded and refund.created) keeps it", () => {
      const { state } = given(...partial, ...purchase, ...partial);
      const user = userOf(state, "u_life");
      expect(state.orders.get("stripe:cs_test_life")).toMatchObject({ status: "partially_refunded", amountRefunded: 5_000 });
      expect(feature(entitlements(state, user, tenYearsOn), "export").enabled).toBe(true);
    });

    it("a full refund ends it", () => {
      const { state } = given(...rest, ...partial, ...purchase);
      const user = userOf(state, "u_life");
      expect(state.orders.get("stripe:cs_test_life")).toMatchObject({ status: "refunded", amountRefunded: amount });
      expect(feature(entitlements(state, user, ms(T + 21 * DAY)), "export")).toMatchObject({ enabled: false, source: null });
    });
  });
});

describe("identity", () => {
  it("two users merge when a checkout links their keys, and the app user id finds the merged user", () => {
    const known = stripeEvent({
      id: "evt_cus_a",
      type: "customer.created",
      created: T,
      object: customer({ id: "cus_A", email: "ada@example.com", metadata: { user_id: "u_42" }, created: T }),
    });
    const anonymous = stripeEvent({ id: "evt_cus_b", type: "customer.created", created: T + 10, object: customer({ id: "cus_B", created: T + 10 }) });
    const sub = subscriptionEvents({ id: "sub_B", customer: "cus_B", priceId: PRICES.proMonthly, shape: "basil", periodStart: T + 10, periodEnd: T + 10 + 30 * DAY });
    const subscribed = sub("evt_sub_b", "customer.subscription.created", T + 10, { status: "active" });
    const link = stripeEvent({
      id: "evt_cs_b",
      type: "checkout.session.completed",
      created: T + 20,
      object: checkoutSession({
        id: "cs_test_B",
        mode: "subscription",
        customer: "cus_B",
        clientReferenceId: "u_42",
        subscription: "sub_B",
        amountTotal: 1900,
        currency: "usd",
        created: T,
      }),
    });

    const before = given(known, anonymous, subscribed).state;
    expect([...before.users.keys()]).toHaveLength(2);
    expect(before.owners.get(customerKey("stripe", "cus_A"))).not.toBe(before.owners.get(customerKey("stripe", "cus_B")));

    const step = given(link, subscribed, anonymous, known);
    const { state } = step;
    const user = userOf(state, "u_42");
    expect([...state.users.keys()]).toStrictEqual([user]);
    expect(state.users.get(user)).toMatchObject({ appUserId: "u_42", email: "ada@example.com", status: "active" });
    expect(state.owners.get(customerKey("stripe", "cus_A"))).toBe(user);
    expect(state.owners.get(customerKey("stripe", "cus_B"))).toBe(user);
    expect(state.subscriptions.get("stripe:sub_B")?.userId).toBe(user);
    expect(step.transitions).toContainEqual(expect.objectContaining({ entity: "user", field: "merged", to: user, cause: "stripe:evt_cs_b" }));
    expect(feature(entitlements(state, user, ms(T + 5 * DAY)), "export")).toMatchObject({ enabled: true, source: "pro" });
  });
});

describe("features", () => {
  it("a feature that no live plan grants is not enabled", () => {
    const sub = subscriptionEvents({ id: "sub_f", customer: "cus_f", priceId: PRICES.proMonthly, metadata: { user_id: "u_f" }, shape: "legacy" });
    const created = sub("evt_1", "customer.subscription.created", T, { status: "active" });
    const live = given(created).state;
    const user = userOf(live, "u_f");
    const now = entitlements(live, user, ms(T + DAY));
    // Every feature of the catalog is answered, enabled or not.
    expect(now.map((v) => v.feature)).toStrictEqual(["api_calls", "export", "sso"]);
    expect(feature(now, "sso")).toStrictEqual({ feature: "sso", enabled: false, source: null, limit: null, used: null, remaining: null, resetsAt: null, overage: null, value: null });
    expect(feature(now, "export").enabled).toBe(true);

    const ended = given(created, sub("evt_2", "customer.subscription.deleted", T + 2 * DAY, { status: "canceled", canceledAt: T + 2 * DAY, endedAt: T + 2 * DAY })).state;
    expect(entitlements(ended, user, ms(T + 3 * DAY)).every((v) => !v.enabled)).toBe(true);
    expect(ended.users.get(user)?.status).toBe("inactive");
  });

  it("a subscription to a price the catalog does not map grants nothing", () => {
    const sub = subscriptionEvents({ id: "sub_u", customer: "cus_u", priceId: PRICES.unmapped, metadata: { user_id: "u_u" }, shape: "basil" });
    const { state } = given(sub("evt_1", "customer.subscription.created", T, { status: "active" }));
    const user = userOf(state, "u_u");
    expect(state.subscriptions.get("stripe:sub_u")?.plan).toBeNull();
    expect(entitlements(state, user, ms(T + DAY)).every((v) => !v.enabled)).toBe(true);
  });
});

describe("refunds of invoices from API 2025-03-31 on", () => {
  it("find the invoice through invoice_payment.paid, in any arrival order", () => {
    const paid = stripeEvent({
      id: "evt_inv_basil",
      type: "invoice.paid",
      created: T,
      apiVersion: apiVersionFor("basil"),
      object: invoice({ id: "in_basil", customer: "cus_basil", subscription: "sub_basil", priceId: PRICES.proMonthly, amountPaid: 1900, billingReason: "subscription_create", shape: "basil" }),
    });
    const link = stripeEvent({
      id: "evt_inpay_basil",
      type: "invoice_payment.paid",
      created: T,
      apiVersion: apiVersionFor("basil"),
      object: { id: "inpay_basil", object: "invoice_payment", invoice: "in_basil", payment: { type: "payment_intent", payment_intent: "pi_basil" }, status: "paid", amount_paid: 1900, currency: "usd" },
    });
    const refunded = stripeEvent({
      id: "evt_re_basil",
      type: "refund.created",
      created: T + DAY,
      apiVersion: apiVersionFor("basil"),
      object: refund({ id: "re_basil", charge: "ch_basil", paymentIntent: "pi_basil", amount: 700, status: "succeeded" }),
    });
    const orders = [
      given(paid, link, refunded),
      given(refunded, link, paid),
      given(link, refunded, paid),
    ].map(({ state }) => state.orders.get("stripe:in_basil"));
    for (const order of orders) expect(order).toMatchObject({ status: "partially_refunded", amountRefunded: 700, amount: 1900 });
    expect(new Set(orders.map((o) => JSON.stringify(o))).size).toBe(1);
  });
});

describe("two app users on one Stripe customer", () => {
  const DAY_MS = 86_400_000;
  const shared = customerKey("stripe", "cus_S");
  const checkout = (id: string, created: number, appUserId: string, subscriptionId: string): StripeEvent =>
    stripeEvent({
      id,
      type: "checkout.session.completed",
      created,
      object: checkoutSession({
        id: `cs_test_${subscriptionId}`,
        mode: "subscription",
        customer: "cus_S",
        clientReferenceId: appUserId,
        subscription: subscriptionId,
        amountTotal: 1900,
        currency: "usd",
        created: created - 60,
      }),
    });
  const checkoutA = checkout("evt_cs_a", T, "user_A", "sub_1");
  const checkoutB = checkout("evt_cs_b", T + DAY, "user_B", "sub_2");
  // Apps commonly copy their user id onto the subscription (subscription_data.metadata).
  const subA = subscriptionEvents({ id: "sub_1", customer: "cus_S", priceId: PRICES.teamMonthly, metadata: { user_id: "user_A" }, shape: "basil" });
  const subB = subscriptionEvents({
    id: "sub_2",
    customer: "cus_S",
    priceId: PRICES.proMonthly,
    metadata: { user_id: "user_B" },
    shape: "basil",
    periodStart: T + DAY,
    periodEnd: T + 31 * DAY,
  });
  const history = [
    subA("evt_sub_1", "customer.subscription.created", T, { status: "active" }),
    checkoutA,
    subB("evt_sub_2", "customer.subscription.created", T + DAY, { status: "active" }),
    checkoutB,
  ];

  it("stay two users, each with its own subscription and entitlements, in any arrival order", () => {
    const step = given(...history);
    const { state } = step;
    const a = userOf(state, "user_A");
    const b = userOf(state, "user_B");
    expect(a).not.toBe(b);
    expect(state.users.get(a)).toMatchObject({ appUserId: "user_A" });
    expect(state.users.get(b)).toMatchObject({ appUserId: "user_B" });
    // The shared customer stays with its first owner.
    expect(state.owners.get(shared)).toBe(a);
    expect(state.subscriptions.get("stripe:sub_1")?.userId).toBe(a);
    expect(state.subscriptions.get("stripe:sub_2")?.userId).toBe(b);
    expect(subscriptionsOf(state, a).map((s) => s.id)).toStrictEqual(["stripe:sub_1"]);
    expect(subscriptionsOf(state, b).map((s) => s.id)).toStrictEqual(["stripe:sub_2"]);
    const t = ms(T) + 5 * DAY_MS;
    expect(feature(entitlements(state, a, t), "api_calls")).toMatchObject({ enabled: true, source: "team", limit: 50_000 });
    expect(feature(entitlements(state, b, t), "api_calls")).toMatchObject({ enabled: true, source: "pro", limit: 10_000 });
    expect(step.transitions).toContainEqual(
      expect.objectContaining({ userId: b, entity: "user", entityId: b, field: "conflict", from: a, to: shared, cause: "stripe:evt_sub_2" }),
    );
    expect(step.transitions.some((t) => t.field === "merged")).toBe(false);
    expect(given(...[...history].reverse())).toStrictEqual(step);
    expect(given(checkoutB, ...history, checkoutA)).toStrictEqual(step);
  });

  it("events naming only the shared customer and a subscription go to the subscription's owner", () => {
    // No metadata on the subscriptions: the checkouts alone say whose they are.
    const plainA = subscriptionEvents({ id: "sub_1", customer: "cus_S", priceId: PRICES.teamMonthly, shape: "legacy", periodStart: T + 10, periodEnd: T + 10 + 30 * DAY });
    const plainB = subscriptionEvents({ id: "sub_2", customer: "cus_S", priceId: PRICES.proMonthly, shape: "legacy", periodStart: T + DAY + 10, periodEnd: T + 31 * DAY + 10 });
    const paidB = stripeEvent({
      id: "evt_in_2",
      type: "invoice.paid",
      created: T + DAY + 10,
      object: invoice({ id: "in_2", customer: "cus_S", subscription: "sub_2", priceId: PRICES.proMonthly, amountPaid: 1900, billingReason: "subscription_create", shape: "legacy" }),
    });
    const events = [
      checkoutA,
      plainA("evt_sub_1", "customer.subscription.created", T + 10, { status: "active" }),
      checkoutB,
      plainB("evt_sub_2", "customer.subscription.created", T + DAY + 10, { status: "active" }),
      paidB,
    ];
    const { state } = given(...events);
    const a = userOf(state, "user_A");
    const b = userOf(state, "user_B");
    expect(a).not.toBe(b);
    expect(state.owners.get(shared)).toBe(a);
    expect(state.subscriptions.get("stripe:sub_1")?.userId).toBe(a);
    expect(state.subscriptions.get("stripe:sub_2")?.userId).toBe(b);
    expect(state.orders.get("stripe:in_2")?.userId).toBe(b);
    expect(ordersOf(state, b).map((o) => o.id)).toStrictEqual(["stripe:in_2"]);
    expect(feature(entitlements(state, b, ms(T + 5 * DAY)), "export")).toMatchObject({ enabled: true, source: "pro" });
    expect(feature(entitlements(state, a, ms(T + 5 * DAY)), "api_calls")).toMatchObject({ source: "team" });
    expect(given(...[...events].reverse()).state).toStrictEqual(state);
  });

  it("a subscription whose metadata later names another app user stays with the owner of its key", () => {
    const plain = subscriptionEvents({ id: "sub_1", customer: "cus_S", priceId: PRICES.teamMonthly, shape: "basil", periodStart: T + 10, periodEnd: T + 10 + 30 * DAY });
    const { state } = given(
      checkoutA,
      plain("evt_sub_1", "customer.subscription.created", T + 10, { status: "active" }),
      plain("evt_sub_1b", "customer.subscription.updated", T + DAY, { status: "active", metadata: { user_id: "user_B" } }, { metadata: { user_id: null } }),
    );
    const a = userOf(state, "user_A");
    const b = userOf(state, "user_B");
    expect(a).not.toBe(b);
    expect(state.subscriptions.get("stripe:sub_1")?.userId).toBe(a);
    expect(subscriptionsOf(state, a).map((s) => s.id)).toStrictEqual(["stripe:sub_1"]);
    expect(feature(entitlements(state, a, ms(T + 5 * DAY)), "export")).toMatchObject({ enabled: true, source: "team" });
    expect(entitlements(state, b, ms(T + 5 * DAY)).every((v) => !v.enabled)).toBe(true);
  });

  describe("the rule, fact by fact", () => {
    const seen = (cause: string, at: number, keys: string[], appUserId: string | null) =>
      ({ _tag: "CustomerSeen", at, cause, keys, provider: "stripe", customerId: "cus", appUserId, email: null }) as const;
    const fold = (...facts: ReturnType<typeof seen>[]) => foldFacts(testCatalog, initialState(), facts);

    it("users without an app id merge into the target; the other app user keeps its key", () => {
      const { state, transitions } = fold(
        seen("c1", 1, [appUserKey("user_A"), shared], "user_A"),
        seen("c2", 2, [customerKey("stripe", "cus_X")], null),
        seen("c3", 3, [appUserKey("user_B"), shared, customerKey("stripe", "cus_X")], "user_B"),
      );
      const a = state.owners.get(appUserKey("user_A"))!;
      const b = state.owners.get(appUserKey("user_B"))!;
      expect([...state.users.keys()].sort()).toStrictEqual([a, b].sort());
      expect(state.users.get(b)?.appUserId).toBe("user_B");
      expect([...state.users.get(b)!.keys].sort()).toStrictEqual([appUserKey("user_B"), customerKey("stripe", "cus_X")]);
      expect(state.users.get(a)!.keys).toStrictEqual([appUserKey("user_A"), shared]);
      expect(state.owners.get(shared)).toBe(a);
      expect(transitions.filter((t) => t.cause === "c3").map((t) => [t.field, t.from, t.to])).toStrictEqual([
        ["created", null, appUserKey("user_B")],
        ["merged", userIdFor(customerKey("stripe", "cus_X")), b],
        ["identity", null, appUserKey("user_B")],
        ["conflict", a, shared],
        ["appUserId", null, "user_B"],
        ["status", null, "inactive"],
      ]);
    });

    it("without an app key and an owned object key, the owner of the first owned key wins", () => {
      const other = customerKey("stripe", "cus_T");
      const { state, transitions } = fold(
        seen("c1", 1, [appUserKey("user_A"), shared], "user_A"),
        seen("c2", 2, [appUserKey("user_B"), other], "user_B"),
        seen("c3", 3, [shared, other, customerKey("stripe", "cus_new")], null),
      );
      const a = state.owners.get(appUserKey("user_A"))!;
      const b = state.owners.get(appUserKey("user_B"))!;
      expect(state.owners.get(other)).toBe(b);
      expect(state.owners.get(customerKey("stripe", "cus_new"))).toBe(a);
      expect(transitions).toContainEqual(expect.objectContaining({ userId: a, field: "conflict", from: b, to: other, cause: "c3" }));
    });
  });
});

describe("a refund that fails gives access back", () => {
  const amount = 19_900;
  const purchase = [
    stripeEvent({
      id: "evt_cs_fail",
      type: "checkout.session.completed",
      created: T,
      object: checkoutSession({
        id: "cs_test_fail",
        mode: "payment",
        customer: "cus_fail",
        clientReferenceId: "u_fail",
        paymentIntent: "pi_X",
        amountTotal: amount,
        currency: "usd",
        metadata: { price_id: PRICES.lifetime },
        created: T - 60,
      }),
    }),
  ];
  const refundAt = T + 10 * DAY;
  const refundEvent = (id: string, type: string, created: number, refundId: string, refundAmount: number, status: "pending" | "succeeded" | "failed", previous?: JsonObject) =>
    stripeEvent({
      id,
      type,
      created,
      object: refund({ id: refundId, charge: "ch_X", paymentIntent: "pi_X", amount: refundAmount, status, created: refundAt }),
      ...(previous === undefined ? {} : { previousAttributes: previous }),
    });
  const chargeRefunded = (id: string, created: number, amountRefunded: number, before: number, refunds?: StripeEvent["data"]["object"][]) =>
    stripeEvent({
      id,
      type: "charge.refunded",
      created,
      object: charge({ id: "ch_X", customer: "cus_fail", paymentIntent: "pi_X", amount, amountRefunded, created: T, ...(refunds === undefined ? {} : { refunds }) }),
      previousAttributes: amountRefunded >= amount ? { amount_refunded: before, refunded: false } : { amount_refunded: before },
    });
  const later = ms(T + 400 * DAY);

  it("a pending full refund that then fails: paid again, lifetime granted (charge.refunded without a refunds list)", () => {
    const pending = refundEvent("evt_re_created", "refund.created", refundAt, "re_1", amount, "pending");
    const stated = chargeRefunded("evt_ch_refunded", refundAt, amount, 0);
    const failed = refundEvent("evt_re_failed", "refund.updated", refundAt + 2 * DAY, "re_1", amount, "failed", { status: "pending" });

    const refunded = given(...purchase, pending, stated).state;
    expect(refunded.orders.get("stripe:cs_test_fail")).toMatchObject({ status: "refunded", amountRefunded: amount });

    const step = given(...purchase, pending, stated, failed);
    const user = userOf(step.state, "u_fail");
    expect(step.state.orders.get("stripe:cs_test_fail")).toMatchObject({ status: "paid", amountRefunded: 0 });
    expect(feature(entitlements(step.state, user, later), "export")).toMatchObject({ enabled: true, source: "lifetime" });
    expect(step.transitions.filter((t) => t.entity === "order" && t.field === "status").map((t) => t.to)).toStrictEqual(["paid", "refunded", "paid"]);
    for (const delivery of [
      [failed, stated, pending, ...purchase],
      [stated, failed, ...purchase, pending, stated],
    ]) {
      expect(given(...delivery)).toStrictEqual(step);
    }
  });

  it("the same with the refund listed on the charge", () => {
    const pendingObject = refund({ id: "re_1", charge: "ch_X", paymentIntent: "pi_X", amount, status: "pending", created: refundAt });
    const stated = chargeRefunded("evt_ch_refunded", refundAt, amount, 0, [pendingObject]);
    const failed = refundEvent("evt_re_failed", "refund.updated", refundAt + 2 * DAY, "re_1", amount, "failed", { status: "pending" });
    const { state } = given(failed, stated, ...purchase);
    expect(state.orders.get("stripe:cs_test_fail")).toMatchObject({ status: "paid", amountRefunded: 0 });
  });

  it("a failed refund on top of a succeeded one leaves the order partially refunded", () => {
    const first = refundEvent("evt_re_1", "refund.created", refundAt, "re_1", 5_000, "succeeded");
    const firstStated = chargeRefunded("evt_ch_1", refundAt, 5_000, 0);
    const second = refundEvent("evt_re_2", "refund.created", refundAt + DAY, "re_2", amount - 5_000, "pending");
    const secondStated = chargeRefunded("evt_ch_2", refundAt + DAY, amount, 5_000);
    const failed = refundEvent("evt_re_2_failed", "refund.updated", refundAt + 3 * DAY, "re_2", amount - 5_000, "failed", { status: "pending" });

    const full = given(...purchase, first, firstStated, second, secondStated).state;
    expect(full.orders.get("stripe:cs_test_fail")).toMatchObject({ status: "refunded", amountRefunded: amount });
    const { state } = given(failed, secondStated, second, firstStated, first, ...purchase);
    expect(state.orders.get("stripe:cs_test_fail")).toMatchObject({ status: "partially_refunded", amountRefunded: 5_000 });
    expect(feature(entitlements(state, userOf(state, "u_fail"), later), "export").enabled).toBe(true);
  });

  it("a lower stated total replaces a higher one", () => {
    const { state } = given(...purchase, chargeRefunded("evt_ch_1", refundAt, amount, 0), chargeRefunded("evt_ch_2", refundAt + DAY, 5_000, amount));
    expect(state.orders.get("stripe:cs_test_fail")).toMatchObject({ status: "partially_refunded", amountRefunded: 5_000 });
  });
});

describe("a scheduled cancel_at", () => {
  const periodEnd = T + 30 * DAY;
  const cancelAt = T + 10 * DAY;
  const sub = subscriptionEvents({ id: "sub_ca", customer: "cus_ca", priceId: PRICES.proMonthly, metadata: { user_id: "u_ca" }, shape: "basil" });
  const created = sub("evt_1", "customer.subscription.created", T, { status: "active" });

  it("before the period end ends access at cancel_at, also without cancel_at_period_end", () => {
    const { state } = given(created, sub("evt_2", "customer.subscription.updated", T + 2 * DAY, { status: "active", cancelAt }, { cancel_at: null }));
    const user = userOf(state, "u_ca");
    expect(state.subscriptions.get("stripe:sub_ca")).toMatchObject({ cancelAt: ms(cancelAt), currentPeriodEnd: ms(periodEnd) });
    expect(feature(entitlements(state, user, ms(cancelAt) - 1), "export").enabled).toBe(true);
    expect(feature(entitlements(state, user, ms(cancelAt)), "export").enabled).toBe(false);
  });

  // Canonically, cancelAtPeriodEnd says only that an end is scheduled (Stripe's normalizer sets it
  // for a cancel_at too); the instant is cancel_at's whenever one is stated.
  it("with cancel_at_period_end set too, cancel_at is the instant that ends it", () => {
    const { state } = given(
      created,
      sub("evt_2", "customer.subscription.updated", T + 2 * DAY, { status: "trialing", cancelAt, cancelAtPeriodEnd: true }, { cancel_at: null, cancel_at_period_end: false }),
    );
    const user = userOf(state, "u_ca");
    expect(state.subscriptions.get("stripe:sub_ca")).toMatchObject({ cancelAt: ms(cancelAt), cancelAtPeriodEnd: true, currentPeriodEnd: ms(periodEnd) });
    expect(feature(entitlements(state, user, ms(cancelAt) - 1), "export").enabled).toBe(true);
    expect(feature(entitlements(state, user, ms(cancelAt)), "export").enabled).toBe(false);
  });

  it("after the period end: it renews until cancel_at, so access holds across the period end and ends at cancel_at", () => {
    const { state } = given(created, sub("evt_2", "customer.subscription.updated", T + 2 * DAY, { status: "active", cancelAt: T + 45 * DAY }, { cancel_at: null }));
    const user = userOf(state, "u_ca");
    expect(feature(entitlements(state, user, ms(periodEnd)), "export").enabled).toBe(true);
    expect(feature(entitlements(state, user, ms(T + 45 * DAY) - 1), "export").enabled).toBe(true);
    expect(feature(entitlements(state, user, ms(T + 45 * DAY)), "export").enabled).toBe(false);
  });

  it("nothing scheduled: no end", () => {
    const { state } = given(created);
    expect(state.subscriptions.get("stripe:sub_ca")).toMatchObject({ cancelAt: null, cancelAtPeriodEnd: false });
    expect(feature(entitlements(state, userOf(state, "u_ca"), ms(T + 400 * DAY)), "export").enabled).toBe(true);
  });
});
