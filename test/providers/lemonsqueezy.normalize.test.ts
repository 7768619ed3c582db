// Lemon Squeezy normalizer: lifecycles built with the builder, folded by the real resolver, plus
// the status table, custom-data user ids, same-second ordering, envelope errors and odd payloads.
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { subscriptionValidity } from "../../src/domain/entitlements.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import type { FactTag } from "../../src/domain/facts.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { ordersOf, subscriptionsOf, type State } from "../../src/domain/state.js";
import { decodeLemonSqueezyEnvelope } from "../../src/providers/lemonsqueezy/envelope.js";
import { LEMONSQUEEZY_EVENTS, normalizeLemonSqueezyEvent } from "../../src/providers/lemonsqueezy/normalize.js";
import { normalizeStripeEvent } from "../../src/providers/stripe/normalize.js";
import { PROVIDER_PRICES, testCatalog as catalog } from "../builders/histories.js";
import { invoice, lsEvent, lsTime, order, stored, subscription, type JsonObject, type Resource, type SubscriptionInput } from "../builders/lemonsqueezy.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { onlyUser } from "../support/conformance.js";

const V = PROVIDER_PRICES.lemonsqueezy;
const options = { userIdKeys: catalog.userIdKeys };
const DAY = 86_400;
const T0 = 1_717_200_000;
const ms = (seconds: number): number => seconds * 1000;
const USER = { user_id: "u_42" };

/** `customData: null` sends none (as the published samples). */
const ev = (eventName: string, data: Resource, customData: JsonObject | null = USER): NormalizedEvent =>
  normalizeLemonSqueezyEvent(stored(lsEvent({ eventName, data, ...(customData === null ? {} : { customData }), webhookId: "wh_1", testMode: true })), options);

const fold = (...events: readonly NormalizedEvent[]): State => replayEvents(catalog, events).state;

const SUB = "lemonsqueezy:5";
const sub = (overrides: Partial<SubscriptionInput> & Pick<SubscriptionInput, "status" | "updatedAt">): Resource =>
  subscription({ id: "5", variantId: Number(V.proMonthly), orderId: 70, createdAt: T0, renewsAt: T0 + 14 * DAY, trialEndsAt: T0 + 14 * DAY, ...overrides });

describe("subscription lifecycle: trial → active → plan change → cancel at period end → expired", () => {
  const periodEnd = T0 + 44 * DAY;
  const steps = {
    order: ev("order_created", order({ id: "70", variantId: Number(V.proMonthly), total: 0, createdAt: T0 })),
    created: ev("subscription_created", sub({ status: "on_trial", updatedAt: T0 })),
    activated: ev("subscription_updated", sub({ status: "active", updatedAt: T0 + 14 * DAY, renewsAt: periodEnd })),
    renewal: ev("subscription_payment_success", invoice({ id: "900", subscriptionId: 5, total: 1900, billingReason: "renewal", createdAt: T0 + 14 * DAY })),
    planChange: ev("subscription_updated", sub({ status: "active", variantId: Number(V.teamMonthly), updatedAt: T0 + 20 * DAY, renewsAt: periodEnd })),
    cancelled: ev("subscription_cancelled", sub({ status: "cancelled", variantId: Number(V.teamMonthly), updatedAt: T0 + 25 * DAY, renewsAt: periodEnd, endsAt: periodEnd })),
    expired: ev("subscription_expired", sub({ status: "expired", variantId: Number(V.teamMonthly), updatedAt: periodEnd, renewsAt: periodEnd, endsAt: periodEnd })),
  };
  const all = Object.values(steps);
  const upTo = (step: keyof typeof steps): State => fold(...all.slice(0, Object.keys(steps).indexOf(step) + 1));

  it("emits the expected facts per event", () => {
    const tags: Record<keyof typeof steps, FactTag[]> = {
      order: ["CheckoutCompleted"],
      created: ["CustomerSeen", "SubscriptionObserved"],
      activated: ["CustomerSeen", "SubscriptionObserved"],
      renewal: ["PaymentSucceeded"],
      planChange: ["CustomerSeen", "SubscriptionObserved"],
      cancelled: ["CustomerSeen", "SubscriptionObserved"],
      expired: ["CustomerSeen", "SubscriptionEnded"],
    };
    for (const [name, event] of Object.entries(steps)) expect(event.facts.map((f) => f._tag), name).toEqual(tags[name as keyof typeof steps]);
  });

  it("starts trialing on the plan of the variant, for the app user named in custom data", () => {
    const state = upTo("created");
    expect(state.subscriptions.get(SUB)).toMatchObject({
      status: "trialing",
      providerStatus: "on_trial",
      plan: "pro",
      priceIds: [V.proMonthly],
      trialStart: ms(T0),
      trialEnd: ms(T0 + 14 * DAY),
      currentPeriodEnd: ms(T0 + 14 * DAY),
      cancelAtPeriodEnd: false,
    });
    // order_created and subscription_created name the same first order: one user.
    expect(onlyUser(state)).toMatchObject({ appUserId: "u_42", email: "ada@example.com", status: "active" });
    expect(onlyUser(state).keys).toEqual(["app:u_42", "customer:lemonsqueezy:7", "checkout:lemonsqueezy:orders/70", "payment:lemonsqueezy:orders/70", "subscription:lemonsqueezy:5"]);
  });

  it("becomes active, records the renewal invoice, then changes plan", () => {
    expect(upTo("activated").subscriptions.get(SUB)).toMatchObject({ status: "active", plan: "pro", currentPeriodEnd: ms(periodEnd) });
    const state = upTo("planChange");
    expect(state.subscriptions.get(SUB)).toMatchObject({ status: "active", plan: "team", priceIds: [V.teamMonthly], cancelAtPeriodEnd: false });
    expect(state.orders.get("lemonsqueezy:subscription-invoices/900")).toMatchObject({ kind: "subscription", subscriptionId: SUB, amount: 1900, currency: "usd", status: "paid" });
    expect(steps.renewal.facts[0]).toMatchObject({ reason: "subscription_cycle" });
  });

  it("keeps access until ends_at once cancelled (a cancellation at period end)", () => {
    const state = upTo("cancelled");
    const cancelled = state.subscriptions.get(SUB)!;
    expect(cancelled).toMatchObject({ status: "active", providerStatus: "cancelled", cancelAtPeriodEnd: true, cancelAt: ms(periodEnd), ended: false });
    expect(subscriptionValidity(cancelled, catalog)).toBe(ms(periodEnd));
    expect(onlyUser(state).status).toBe("active");
  });

  it("ends when it expires: canceled, ended, no access left", () => {
    const state = upTo("expired");
    expect(state.subscriptions.get(SUB)).toMatchObject({ status: "canceled", providerStatus: "expired", ended: true, endedAt: ms(periodEnd), cancelAtPeriodEnd: false, plan: "team" });
    expect(steps.expired.hint.phase).toBe("terminal");
    // The first order's variant is a subscription plan, not a lifetime one: it grants nothing.
    expect(onlyUser(state).status).toBe("inactive");
    expect(ordersOf(state, onlyUser(state).id).map((o) => o.id).sort()).toEqual(["lemonsqueezy:orders/70", "lemonsqueezy:subscription-invoices/900"]);
  });

  it("gives the same state whatever the arrival order and with redeliveries", () => {
    const reference = fold(...all);
    expect(fold(...[...all].reverse())).toEqual(reference);
    expect(fold(...all, ...all.slice(2, 5))).toEqual(reference);
  });

  it("lets nothing revive an expired subscription", () => {
    const late = ev("subscription_updated", sub({ status: "active", updatedAt: periodEnd + DAY, renewsAt: periodEnd + 30 * DAY }));
    const { state, transitions } = replayEvents(catalog, [...all, late]);
    expect(state.subscriptions.get(SUB)).toMatchObject({ status: "canceled", ended: true });
    expect(transitions.some((t) => t.field === "anomaly" && t.to === "update_after_end")).toBe(true);
  });
});

describe("cancel, resume, pause, unpause", () => {
  const active = ev("subscription_updated", sub({ status: "active", trialEndsAt: null, updatedAt: T0, renewsAt: T0 + 30 * DAY }));

  it("a resumed cancellation renews again", () => {
    const cancelled = ev("subscription_cancelled", sub({ status: "cancelled", trialEndsAt: null, updatedAt: T0 + DAY, renewsAt: T0 + 30 * DAY, endsAt: T0 + 30 * DAY }));
    const resumed = ev("subscription_resumed", sub({ status: "active", trialEndsAt: null, updatedAt: T0 + 2 * DAY, renewsAt: T0 + 30 * DAY }));
    expect(fold(active, cancelled).subscriptions.get(SUB)).toMatchObject({ status: "active", cancelAtPeriodEnd: true, cancelAt: ms(T0 + 30 * DAY) });
    const state = fold(active, cancelled, resumed);
    expect(state.subscriptions.get(SUB)).toMatchObject({ status: "active", providerStatus: "active", cancelAtPeriodEnd: false, cancelAt: null });
    expect(subscriptionValidity(state.subscriptions.get(SUB)!, catalog)).toBeNull();
  });

  it("a void pause grants nothing until unpaused; the provider status stays visible", () => {
    const paused = ev("subscription_paused", sub({ status: "paused", trialEndsAt: null, updatedAt: T0 + DAY, renewsAt: null, pause: { mode: "void", resumesAt: T0 + 60 * DAY } }));
    const unpaused = ev("subscription_unpaused", sub({ status: "active", trialEndsAt: null, updatedAt: T0 + 60 * DAY, renewsAt: T0 + 90 * DAY }));
    const pausedState = fold(active, paused);
    expect(pausedState.subscriptions.get(SUB)).toMatchObject({ status: "canceled", providerStatus: "paused", ended: false });
    expect(onlyUser(pausedState).status).toBe("inactive");
    const state = fold(active, paused, unpaused);
    expect(state.subscriptions.get(SUB)).toMatchObject({ status: "active", providerStatus: "active", currentPeriodEnd: ms(T0 + 90 * DAY) });
    expect(onlyUser(state).status).toBe("active");
  });

  it("a free pause keeps access (the merchant serves it for free while collection is paused)", () => {
    const paused = ev("subscription_paused", sub({ status: "paused", trialEndsAt: null, updatedAt: T0 + DAY, pause: { mode: "free", resumesAt: null } }));
    expect(fold(active, paused).subscriptions.get(SUB)).toMatchObject({ status: "active", providerStatus: "paused" });
  });
});

describe("payment failed → past_due → unpaid → recovered", () => {
  const renewAt = T0 + 30 * DAY;
  const active = ev("subscription_created", sub({ status: "active", trialEndsAt: null, updatedAt: T0, renewsAt: renewAt }));
  const failedInvoice = { id: "901", subscriptionId: 5, total: 1900, billingReason: "renewal" as const, status: "pending", createdAt: renewAt };
  const failed = ev("subscription_payment_failed", invoice(failedInvoice));
  const pastDue = ev("subscription_updated", sub({ status: "past_due", trialEndsAt: null, updatedAt: renewAt, renewsAt: renewAt }));
  const unpaid = ev("subscription_updated", sub({ status: "unpaid", trialEndsAt: null, updatedAt: renewAt + 14 * DAY, renewsAt: renewAt }));
  const paidInvoice = invoice({ ...failedInvoice, status: "paid", updatedAt: renewAt + 15 * DAY });
  const recovered = ev("subscription_payment_recovered", paidInvoice);
  const success = ev("subscription_payment_success", paidInvoice);
  const reactivated = ev("subscription_updated", sub({ status: "active", trialEndsAt: null, updatedAt: renewAt + 15 * DAY, renewsAt: renewAt + 45 * DAY }));

  it("records the failed attempt and goes past_due with the catalog's grace", () => {
    expect(failed.facts.map((f) => f._tag)).toEqual(["PaymentFailed"]);
    const { state, transitions } = replayEvents(catalog, [active, failed, pastDue]);
    expect(transitions).toContainEqual(expect.objectContaining({ entity: "payment", entityId: "lemonsqueezy:subscription-invoices/901", field: "status", to: "failed" }));
    const subNow = state.subscriptions.get(SUB)!;
    expect(subNow).toMatchObject({ status: "past_due", providerStatus: "past_due", pastDueSince: ms(renewAt) });
    expect(subscriptionValidity(subNow, catalog)).toBe(ms(renewAt + 3 * DAY));
    expect(state.orders.toRecord()).toEqual({});
  });

  it("unpaid (dunning exhausted) ends access without ending the subscription", () => {
    const state = fold(active, failed, pastDue, unpaid);
    expect(state.subscriptions.get(SUB)).toMatchObject({ status: "canceled", providerStatus: "unpaid", ended: false });
    expect(onlyUser(state).status).toBe("inactive");
  });

  it("a recovered payment (sent with its success event) is one paid order, and access returns", () => {
    expect(recovered.eventId).not.toBe(success.eventId);
    const state = fold(active, failed, pastDue, unpaid, recovered, success, reactivated);
    expect(state.subscriptions.get(SUB)).toMatchObject({ status: "active", pastDueSince: null });
    expect([...state.orders.keys()]).toEqual(["lemonsqueezy:subscription-invoices/901"]);
    expect(state.orders.get("lemonsqueezy:subscription-invoices/901")).toMatchObject({ status: "paid", amount: 1900, paidAt: ms(renewAt + 15 * DAY) });
    expect(onlyUser(state).status).toBe("active");
  });
});

describe("one-time purchase and refunds", () => {
  const buy = order({ id: "80", variantId: Number(V.lifetime), total: 19900, createdAt: T0 });
  const bought = ev("order_created", buy);
  const refund = (amount: number, full: boolean, day: number) =>
    ev("order_refunded", order({ id: "80", variantId: Number(V.lifetime), total: 19900, createdAt: T0, updatedAt: T0 + day * DAY, refundedAmount: amount, refunded: full, status: full ? "refunded" : "partial_refund" }));
  const ORDER = "lemonsqueezy:orders/80";

  it("records a paid one-time order that grants the lifetime plan", () => {
    const state = fold(bought);
    expect(state.orders.get(ORDER)).toMatchObject({ kind: "one_time", plan: "lifetime", priceIds: [V.lifetime], amount: 19900, status: "paid", paymentRefs: ["orders/80"] });
    expect(onlyUser(state)).toMatchObject({ appUserId: "u_42", status: "active" });
  });

  it("a partial refund keeps the purchase, a full one takes it back", () => {
    const partial = refund(5000, false, 1);
    expect(partial.facts).toEqual([expect.objectContaining({ _tag: "RefundIssued", paymentRefs: ["orders/80"], refunds: {}, totalRefunded: 5000, currency: "usd" })]);
    const partly = fold(bought, partial);
    expect(partly.orders.get(ORDER)).toMatchObject({ status: "partially_refunded", amountRefunded: 5000 });
    expect(onlyUser(partly).status).toBe("active");
    const full = fold(bought, partial, refund(19900, true, 2));
    expect(full.orders.get(ORDER)).toMatchObject({ status: "refunded", amountRefunded: 19900 });
    expect(onlyUser(full).status).toBe("inactive");
    // The totals are cumulative: the refunds folded in any order end at the latest total.
    expect(fold(refund(19900, true, 2), bought, partial)).toEqual(full);
  });

  it("an unpaid order is pending and grants nothing", () => {
    const state = fold(ev("order_created", order({ id: "81", variantId: Number(V.lifetime), total: 19900, createdAt: T0, status: "pending" })));
    expect(state.orders.get("lemonsqueezy:orders/81")).toMatchObject({ status: "pending" });
    expect(onlyUser(state).status).toBe("inactive");
  });

  it("refunds a subscription invoice in part, then in full", () => {
    const paid = ev("subscription_payment_success", invoice({ id: "902", subscriptionId: 5, total: 1900, billingReason: "initial", createdAt: T0 }));
    const refunded = (amount: number, day: number) =>
      ev("subscription_payment_refunded", invoice({ id: "902", subscriptionId: 5, total: 1900, billingReason: "initial", createdAt: T0, updatedAt: T0 + day * DAY, refundedAmount: amount, refunded: amount === 1900, status: amount === 1900 ? "refunded" : "partial_refund" }));
    expect(paid.facts[0]).toMatchObject({ reason: "subscription_create" });
    expect(fold(paid, refunded(500, 1)).orders.get("lemonsqueezy:subscription-invoices/902")).toMatchObject({ status: "partially_refunded", amountRefunded: 500 });
    expect(fold(paid, refunded(500, 1), refunded(1900, 2)).orders.get("lemonsqueezy:subscription-invoices/902")).toMatchObject({ status: "refunded", amountRefunded: 1900 });
  });

  it("a body without refunded_amount but marked refunded counts as a full refund", () => {
    const payload = lsEvent({ eventName: "order_refunded", data: order({ id: "80", variantId: 1, total: 19900, createdAt: T0, updatedAt: T0 + DAY, refunded: true, status: "refunded" }) });
    const attributes = { ...payload.data.attributes } as Record<string, unknown>;
    delete attributes["refunded_amount"];
    const event = normalizeLemonSqueezyEvent(stored({ ...payload, data: { ...payload.data, attributes } }), options);
    expect(event.facts[0]).toMatchObject({ totalRefunded: 19900 });
  });
});

describe("status mapping", () => {
  const at = T0 + 10 * DAY;
  it.each([
    ["on_trial", {}, "trialing", false],
    ["active", {}, "active", false],
    ["past_due", {}, "past_due", false],
    ["unpaid", {}, "canceled", false],
    ["paused", { pause: { mode: "void", resumesAt: null } }, "canceled", false],
    ["paused", { pause: { mode: "free", resumesAt: null } }, "active", false],
    ["cancelled", { trialEndsAt: null, endsAt: at + DAY }, "active", true],
    ["cancelled", { trialEndsAt: at + DAY, endsAt: at + DAY }, "trialing", true],
    ["expired", { endsAt: at }, "canceled", false],
    ["something_new", {}, "incomplete", false],
  ] as const)("%s %j → %s (cancel at period end: %s)", (status, extra, canonical, ending) => {
    const event = ev("subscription_updated", sub({ status, updatedAt: at, ...(extra as Partial<SubscriptionInput>) }));
    const fact = event.facts.find((f) => f._tag === "SubscriptionObserved" || f._tag === "SubscriptionEnded");
    expect(fact).toMatchObject({ snapshot: { status: canonical, providerStatus: status, cancelAtPeriodEnd: ending } });
    expect(fact?._tag).toBe(status === "expired" ? "SubscriptionEnded" : "SubscriptionObserved");
  });

  it("gives no facts when the status is missing (guessing one could revoke access)", () => {
    const resource = sub({ status: "active", updatedAt: T0 });
    const attributes = { ...resource.attributes, status: null };
    expect(ev("subscription_updated", { ...resource, attributes }).facts).toEqual([]);
  });
});

describe("the app's user id from meta.custom_data", () => {
  const purchase = (customData: JsonObject | null) => ev("order_created", order({ id: "82", variantId: Number(V.lifetime), total: 100, createdAt: T0 }), customData);
  const appIdOf = (event: NormalizedEvent) => (event.facts[0] as { appUserId: string | null }).appUserId;

  it("reads the configured keys in order, accepts whole numbers and skips blanks", () => {
    expect(appIdOf(purchase({ userId: "second", user_id: "first" }))).toBe("first");
    expect(appIdOf(purchase({ user_id: "  ", userId: "camel" }))).toBe("camel");
    expect(appIdOf(purchase({ user_id: 42 }))).toBe("42");
    expect(appIdOf(purchase({ user_id: 4.5 }))).toBeNull();
    expect(appIdOf(purchase({ other: "x" }))).toBeNull();
    expect(appIdOf(purchase(null))).toBeNull();
    expect(purchase(null).facts[0]!.keys).toEqual(["customer:lemonsqueezy:7", "checkout:lemonsqueezy:orders/82", "payment:lemonsqueezy:orders/82"]);
  });

  it("joins a person's purchases at Stripe and Lemon Squeezy into one user", () => {
    const stripeCustomer = normalizeStripeEvent(
      { providerEventId: "evt_cus", type: "customer.created", occurredAt: ms(T0), payload: stripeEvent({ id: "evt_cus", type: "customer.created", created: T0, object: customer({ id: "cus_1", metadata: { user_id: "u_42" } }) }) },
      options,
    );
    const state = fold(stripeCustomer, purchase(USER), ev("subscription_created", sub({ status: "active", customerId: 99, updatedAt: T0 + 1 })));
    const user = onlyUser(state);
    expect(user.appUserId).toBe("u_42");
    expect(user.keys).toEqual(expect.arrayContaining(["app:u_42", "customer:stripe:cus_1", "customer:lemonsqueezy:7", "customer:lemonsqueezy:99"]));
    expect(subscriptionsOf(state, user.id).map((s) => s.id)).toEqual([SUB]);
  });
});

describe("canonical order of same-second events", () => {
  it("puts creation before update, and expiry last, whatever the arrival", () => {
    const created = ev("subscription_created", sub({ status: "on_trial", updatedAt: T0 }));
    const updated = ev("subscription_updated", sub({ status: "active", trialEndsAt: null, updatedAt: T0 }));
    expect(fold(updated, created).subscriptions.get(SUB)).toMatchObject({ status: "active" });
    const expired = ev("subscription_expired", sub({ status: "expired", updatedAt: T0 + DAY, endsAt: T0 + DAY }));
    const lastUpdate = ev("subscription_updated", sub({ status: "cancelled", updatedAt: T0 + DAY, endsAt: T0 + DAY }));
    expect(replayEvents(catalog, [expired, lastUpdate]).state.subscriptions.get(SUB)).toMatchObject({ status: "canceled", ended: true, providerStatus: "expired" });
  });

  it("orders two same-phase snapshots by their next renewal", () => {
    const older = ev("subscription_updated", sub({ status: "active", trialEndsAt: null, updatedAt: T0, renewsAt: T0 + 30 * DAY }));
    const renewed = ev("subscription_updated", sub({ status: "active", trialEndsAt: null, updatedAt: T0, renewsAt: T0 + 60 * DAY }));
    expect(renewed.hint.version).toBe(T0 + 60 * DAY);
    expect(fold(renewed, older).subscriptions.get(SUB)!.currentPeriodEnd).toBe(ms(T0 + 60 * DAY));
  });
});

describe("envelope", () => {
  const body = lsEvent({ eventName: "order_created", data: order({ id: "1", variantId: 1, total: 100, createdAt: T0 }) });
  const decode = (payload: unknown) => decodeLemonSqueezyEnvelope(JSON.parse(JSON.stringify(payload)));
  const errorOf = (payload: unknown): string => {
    const result = decode(payload);
    if (Either.isRight(result)) throw new Error("expected an envelope error");
    return result.left;
  };

  it("reads the name from meta.event_name and the time from updated_at (microseconds cut to ms)", () => {
    expect(decode(body)).toEqual(Either.right({ providerEventId: expect.stringMatching(/^order_created:orders\/1:2024-06-01T00:00:00\.000Z:[0-9a-f]{16}$/), type: "order_created", occurredAt: ms(T0) }));
    expect(lsTime(T0)).toBe("2024-06-01T00:00:00.000000Z");
    const withOffset = { ...body, data: { ...body.data, attributes: { ...body.data.attributes, updated_at: "2024-06-01T02:00:00.123456+02:00" } } };
    expect(Either.getOrThrow(decode(withOffset)).occurredAt).toBe(ms(T0) + 123);
  });

  it("falls back to created_at and accepts a numeric data.id", () => {
    const attributes = { ...body.data.attributes, updated_at: null };
    const result = Either.getOrThrow(decode({ ...body, data: { ...body.data, id: 1, attributes } }));
    expect(result.occurredAt).toBe(ms(T0));
    expect(result.providerEventId.startsWith("order_created:orders/1:")).toBe(true);
  });

  it.each([
    ["no meta.event_name", { ...body, meta: {} }, "meta.event_name"],
    ["an empty data.type", { ...body, data: { ...body.data, type: "" } }, "data.type"],
    ["no data", { meta: body.meta }, "data"],
    ["a bad updated_at", { ...body, data: { ...body.data, attributes: { ...body.data.attributes, updated_at: "yesterday" } } }, "data.attributes.updated_at"],
    ["an impossible date", { ...body, data: { ...body.data, attributes: { ...body.data.attributes, updated_at: "2023-02-31T00:00:00Z" } } }, "data.attributes.updated_at"],
    ["no timestamp at all", { ...body, data: { ...body.data, attributes: {} } }, "data.attributes.updated_at"],
  ])("names the path of %s", (_name, payload, pathText) => {
    expect(errorOf(payload)).toContain(pathText);
  });

  it("refuses a body that is not an object", () => {
    expect(errorOf([])).toBe("Lemon Squeezy webhook body must be a JSON object, got an array");
    expect(errorOf(null)).toContain("got null");
  });
});

describe("robustness", () => {
  it("gives unknown events a hint and no facts", () => {
    const event = normalizeLemonSqueezyEvent(stored(lsEvent({ eventName: "license_key_created", data: { ...order({ id: "3", variantId: 1, total: 1, createdAt: T0 }), type: "license-keys" } })), options);
    expect(event).toMatchObject({ provider: "lemonsqueezy", facts: [], hint: { object: "lemonsqueezy:license-keys:3", phase: "update" } });
  });

  it("ignores a known event about the wrong kind of object", () => {
    expect(ev("subscription_updated", order({ id: "3", variantId: 1, total: 1, createdAt: T0 })).facts).toEqual([]);
    expect(ev("order_created", invoice({ id: "3", subscriptionId: 1, total: 1, createdAt: T0 })).facts).toEqual([]);
  });

  const oddPayloads: unknown[] = [
    null,
    42,
    "text",
    [],
    {},
    { meta: null, data: null },
    { data: { type: "subscriptions", id: "1", attributes: [] } },
    { data: { type: "subscriptions", id: {}, attributes: { status: "active" } } },
    {
      meta: { custom_data: { user_id: { nested: true } } },
      data: { type: "orders", id: "1", attributes: { status: 5, customer_id: -1, variant_id: "x", total: "10", first_order_item: [], refunded_amount: 1.5, renews_at: "soon", pause: "no", trial_ends_at: 7 } },
    },
    { data: { type: "subscription-invoices", id: "__proto__", attributes: { constructor: "x", subscription_id: null, refunded: true, total: null } } },
    { data: { type: "subscriptions", id: "2", attributes: { status: "constructor", ends_at: "2023-13-01T00:00:00Z", cancelled: "yes" } } },
  ];

  it.each([...LEMONSQUEEZY_EVENTS, "license_key_created"])("never throws on odd %s payloads", (type) => {
    for (const payload of oddPayloads) {
      const event = normalizeLemonSqueezyEvent({ providerEventId: "x", type, occurredAt: 0, payload }, options);
      for (const fact of event.facts) expect(fact.keys.length).toBeGreaterThan(0);
      expect(() => replayEvents(catalog, [event])).not.toThrow();
    }
  });
});

describe("the app user id in custom data", () => {
  it("is read by the same rule as Paddle's and Creem's, so one id is one user across them", async () => {
    const { appUserIdFromCustomData } = await import("../../src/providers/lemonsqueezy/context.js");
    const { textOrInteger } = await import("../../src/providers/json.js");
    for (const value of ["user_7", " user_7 ", 42, -5, 0, 1.5, "", true, null]) {
      expect(appUserIdFromCustomData({ user_id: value }, ["user_id"]), JSON.stringify(value)).toBe(textOrInteger(value));
    }
  });
});
