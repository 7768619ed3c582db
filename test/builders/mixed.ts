// Generated histories across providers: a Stripe history from histories.ts (app users user_1..user_3)
// plus, for the same app user ids, a few lifecycles at Paddle, Lemon Squeezy and Creem, each naming
// its user in the provider's custom data (Paddle custom_data, Lemon Squeezy meta.custom_data, Creem
// metadata; key `user_id`). The other providers' lifecycles follow the same clock as the Stripe
// scripts (start offsets 0–2 s, 7-day trials, 30-day periods, recovery after 2 days, the end after 7,
// one-time purchases at start + d days + 17 s, refunds 3 days later), so their events often share a
// second with Stripe's and with each other's: ties across providers and within one.
//
// Every event is provider-neutral, as ingest stores it: the bytes the provider would POST, the
// parsed body, and the id / type / time the provider's own envelope decoder gives (so derived ids,
// such as Lemon Squeezy's, are the ones ingest would store). A history also carries what its data
// implies: which app user owns which subscription and order, and the final state of the other
// providers' objects. Deliveries put the events in any order with redeliveries, some of them as the
// provider really redelivers (Paddle to a second destination: another notification_id; Lemon
// Squeezy to a second webhook: another meta.webhook_id), which must be the same event.
import { Either } from "effect";
import fc from "fast-check";
import type { SubscriptionStatus } from "../../src/domain/facts.js";
import type { Provider } from "../../src/domain/provider.js";
import type { OrderStatus } from "../../src/domain/state.js";
import { webhookSchemes } from "../../src/providers/registry.js";
import * as creem from "./creem.js";
import { arbHistory, describeEvents, PROVIDER_PRICES, type History } from "./histories.js";
import * as ls from "./lemonsqueezy.js";
import * as paddle from "./paddle.js";
import { tag, toRawBody, type StripeEvent } from "./stripe.js";

// ── events ──────────────────────────────────────────────────────────────────────────────────

/** One delivery as ingest stores it: the raw bytes, the parsed body and what the envelope says. */
export type MixedEvent = {
  readonly provider: Provider;
  readonly providerEventId: string;
  readonly type: string;
  /** Epoch milliseconds, from the provider's envelope. */
  readonly occurredAt: number;
  readonly rawBody: Buffer;
  readonly payload: unknown;
};

/** Decodes bytes as ingest does: parse, then the provider's own envelope (ids derived where the body has none). */
export const fromBody = (provider: Provider, rawBody: Buffer): MixedEvent => {
  const scheme = webhookSchemes[provider];
  if (scheme === undefined) throw new Error(`no webhook scheme for ${provider}`);
  const payload: unknown = JSON.parse(rawBody.toString("utf8"));
  const envelope = scheme.envelope(payload);
  if (Either.isLeft(envelope)) throw new Error(`${provider} envelope: ${envelope.left}`);
  return { provider, ...envelope.right, rawBody, payload };
};

export const fromStripe = (event: StripeEvent): MixedEvent => fromBody("stripe", Buffer.from(toRawBody(event)));

// ── scripts ─────────────────────────────────────────────────────────────────────────────────

export type OtherProvider = "paddle" | "lemonsqueezy" | "creem";
export const OTHER_PROVIDERS: readonly OtherProvider[] = ["paddle", "lemonsqueezy", "creem"];

export type SubscriptionLife = {
  readonly plan: "pro" | "team";
  /** A 7-day trial, then activation with the first payment. */
  readonly trial: boolean;
  /** The first renewal at the end of the (post-trial) period. */
  readonly renewal: "none" | "paid" | "recovered" | "unrecovered";
  readonly cancel: "none" | "at_period_end" | "at_period_end_then_ended" | "immediately";
  /** The cancellation in the same second as the event before it. */
  readonly cancelTie: boolean;
};

export type LifetimePurchase = {
  readonly delayDays: number;
  readonly refund: "none" | "partial" | "full" | "partial_then_full";
  /** Both refunds of partial_then_full in one second (not at Lemon Squeezy: see buildLifetime). */
  readonly refundTie: boolean;
};

export type ProviderScript = {
  readonly provider: OtherProvider;
  /** The app user: user_1..user_3, the same ids the Stripe history uses. */
  readonly user: number;
  /** Seconds after the common start, as a Stripe script's. */
  readonly startOffset: number;
  readonly subscription: SubscriptionLife | null;
  readonly lifetime: LifetimePurchase | null;
  /**
   * Which events name the app user: all of them, or only the purchases (checkout, first order,
   * subscription creation, lifetime purchase); later events are then known by customer and object.
   */
  readonly named: "every_event" | "purchases_only";
};

const arbSubscriptionLife: fc.Arbitrary<SubscriptionLife> = fc.record({
  plan: fc.constantFrom("pro", "team"),
  trial: fc.boolean(),
  renewal: fc.constantFrom("none", "paid", "recovered", "unrecovered"),
  cancel: fc.constantFrom("none", "at_period_end", "at_period_end_then_ended", "immediately"),
  cancelTie: fc.boolean(),
});

const arbLifetime: fc.Arbitrary<LifetimePurchase> = fc.record({
  // Day 0 often: then it shares its second with a Stripe one-time purchase of the same day.
  delayDays: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
  refund: fc.constantFrom("none", "partial", "full", "partial_then_full"),
  refundTie: fc.boolean(),
});

export const arbProviderScript: fc.Arbitrary<ProviderScript> = fc
  .record({
    provider: fc.constantFrom<OtherProvider>(...OTHER_PROVIDERS),
    user: fc.integer({ min: 1, max: 3 }),
    startOffset: fc.integer({ min: 0, max: 2 }),
    subscription: fc.option(arbSubscriptionLife, { nil: null, freq: 4 }),
    lifetime: fc.option(arbLifetime, { nil: null, freq: 2 }),
    named: fc.constantFrom("every_event", "every_event", "purchases_only"),
  })
  .filter((s) => s.subscription !== null || s.lifetime !== null);

// ── what a mixed history implies ────────────────────────────────────────────────────────────

export type ExpectedOtherSubscription = {
  readonly plan: string;
  readonly status: SubscriptionStatus;
  readonly ended: boolean;
  /** Null when the data cannot say (two same-second Lemon Squeezy updates of one subscription). */
  readonly cancelAtPeriodEnd: boolean | null;
};

export type ExpectedOtherOrder = { readonly plan: string; readonly status: OrderStatus; readonly amount: number; readonly amountRefunded: number };

export type MixedExpected = {
  /** Every app user id the data names, at any provider: each is exactly one user. */
  readonly appUsers: readonly string[];
  /**
   * Subscriptions and one-time orders (`<provider>:<id>`, as the state keys them) → the app user
   * that must own them. Stripe objects on a customer two app users share are left out (which user
   * keeps such a customer follows what the data names first, see histories.ts).
   */
  readonly owners: Readonly<Record<string, string>>;
  /** The Paddle / Lemon Squeezy / Creem subscriptions by state id, as their scripts end them. */
  readonly subscriptions: Readonly<Record<string, ExpectedOtherSubscription>>;
  /** Their lifetime orders by state id. */
  readonly orders: Readonly<Record<string, ExpectedOtherOrder>>;
};

export type MixedHistory = {
  readonly stripe: History;
  readonly scripts: readonly ProviderScript[];
  /** Every event once, oldest first (same-instant events in the order they were emitted). */
  readonly events: readonly MixedEvent[];
  readonly expected: MixedExpected;
};

// ── building ────────────────────────────────────────────────────────────────────────────────

const BASE = 1_717_200_000; // 2024-06-01T00:00:00Z, the Stripe histories' start
const DAY = 86_400;
const TRIAL = 7 * DAY;
const PERIOD = 30 * DAY;
const LIFETIME_AMOUNT = 19_900;
const AMOUNT = { pro: 1900, team: 4900 } as const;
const PLAN_PRICE = { pro: "proMonthly", team: "teamMonthly" } as const;

type Period = { readonly start: number; readonly end: number };

/** What a provider sends at each step of a lifecycle (times in Unix seconds). */
type Adapter = {
  readonly signup: (t: number, period: Period, trial: boolean) => void;
  readonly activate: (t: number, period: Period) => void;
  readonly renew: (t: number, period: Period) => void;
  /** The renewal due at `t` failed; `next` is the period it would have paid. */
  readonly fail: (t: number, next: Period) => void;
  readonly recover: (t: number, period: Period) => void;
  readonly cancelAtEnd: (t: number) => void;
  readonly end: (t: number, how: "immediately" | "period_end" | "unpaid") => void;
  readonly buyLifetime: (t: number) => void;
  /** Refund number `k` of the lifetime order: `amount` now, `cumulative` in all. */
  readonly refund: (t: number, k: number, amount: number, cumulative: number) => void;
};

type Ids = {
  /** Index of the script in the history: every object id carries it. */
  readonly i: number;
  /** App user number. */
  readonly n: number;
  readonly appUserId: string;
  readonly email: string;
  readonly t0: number;
  readonly plan: "pro" | "team";
  readonly salt: number;
  /** Whether the event being built names the app user (see ProviderScript.named). */
  readonly named: () => boolean;
  /** Customers that already sent their creation event (one customer per user and provider). */
  readonly seenCustomers: Set<string>;
};

type Emit = (event: MixedEvent) => void;

const ms = (seconds: number): number => seconds * 1000;

// Paddle: explicit event ids, occurred_at with microseconds that follow the true order within a
// millisecond (Paddle's own clock), the app user in custom_data of subscriptions and transactions.
const paddleAdapter = (ids: Ids, emit: Emit): Adapter => {
  const P = PROVIDER_PRICES.paddle;
  const subId = `sub_01hS${ids.i}`;
  const customerId = `ctm_01hU${ids.n}`;
  const price = P[PLAN_PRICE[ids.plan]];
  const customData = () => (ids.named() ? { user_id: ids.appUserId } : null);
  let seq = 0;
  let txns = 0;
  const nextTxn = () => `txn_01hS${ids.i}k${++txns}`;
  const send = (type: string, at: number, data: paddle.JsonObject) => {
    seq += 1;
    const event = paddle.paddleEvent({ id: `evt_01h${tag(`${ids.salt}:paddle:${ids.i}:${seq}`, 22)}`, type, occurredAt: ms(at), micros: seq, data });
    emit(fromBody("paddle", paddle.bodyOf(event)));
  };
  let cur = {
    status: "active" as "active" | "trialing" | "past_due" | "canceled",
    period: { start: ids.t0, end: ids.t0 } as Period,
    trial: null as Period | null,
    cancelAtPeriodEnd: false,
    canceledAt: null as number | null,
  };
  const snap = (at: number, extra: { transactionId?: string } = {}) =>
    paddle.subscription({
      id: subId,
      customerId,
      status: cur.status,
      priceIds: [price],
      period: cur.status === "canceled" ? null : { start: ms(cur.period.start), end: ms(cur.period.end) },
      startedAt: ms(ids.t0),
      updatedAt: ms(at),
      customData: customData(),
      scheduledChange: cur.cancelAtPeriodEnd && cur.status !== "canceled" ? { action: "cancel", effectiveAt: ms(cur.period.end) } : null,
      trial: cur.trial === null ? null : { start: ms(cur.trial.start), end: ms(cur.trial.end) },
      canceledAt: cur.canceledAt === null ? null : ms(cur.canceledAt),
      ...extra,
    });
  const txn = (id: string, at: number, over: Partial<Parameters<typeof paddle.transaction>[0]>) =>
    paddle.transaction({
      id,
      customerId,
      subscriptionId: subId,
      status: "completed",
      origin: "subscription_recurring",
      items: [{ priceId: price, amount: AMOUNT[ids.plan] }],
      updatedAt: ms(at),
      customData: customData(),
      paymentStatus: "captured",
      ...over,
    });
  let failing: string | null = null;
  const lifeTxn = `txn_01hS${ids.i}life`;
  const customerCreated = (t: number) => {
    if (ids.seenCustomers.has(`paddle:${customerId}`)) return;
    ids.seenCustomers.add(`paddle:${customerId}`);
    send("customer.created", t, paddle.customer({ id: customerId, email: ids.email, customData: null, at: ms(t) }));
  };
  return {
    signup: (t, period, trial) => {
      customerCreated(t);
      cur = { ...cur, status: trial ? "trialing" : "active", period, trial: trial ? period : null };
      const checkout = nextTxn();
      if (trial) {
        send("subscription.created", t, snap(t, { transactionId: checkout }));
        return;
      }
      // The checkout transaction is paid before the subscription exists, completed after.
      send("transaction.paid", t, txn(checkout, t, { subscriptionId: null, status: "paid", origin: "web" }));
      send("subscription.created", t, snap(t, { transactionId: checkout }));
      send("transaction.completed", t, txn(checkout, t, { origin: "web" }));
    },
    activate: (t, period) => {
      cur = { ...cur, status: "active", period, trial: null };
      send("subscription.activated", t, snap(t));
      send("transaction.completed", t, txn(nextTxn(), t, {}));
    },
    renew: (t, period) => {
      cur = { ...cur, period };
      send("subscription.updated", t, snap(t));
      send("transaction.completed", t, txn(nextTxn(), t, {}));
    },
    fail: (t, next) => {
      failing = nextTxn();
      cur = { ...cur, status: "past_due", period: next };
      send("transaction.payment_failed", t, txn(failing, t, { status: "past_due", paymentStatus: "error" }));
      send("subscription.past_due", t, snap(t));
    },
    recover: (t, period) => {
      cur = { ...cur, status: "active", period };
      send("transaction.completed", t, txn(failing!, t, {}));
      send("subscription.updated", t, snap(t));
    },
    cancelAtEnd: (t) => {
      cur = { ...cur, cancelAtPeriodEnd: true };
      send("subscription.updated", t, snap(t));
    },
    end: (t) => {
      cur = { ...cur, status: "canceled", canceledAt: t };
      send("subscription.canceled", t, snap(t));
    },
    buyLifetime: (t) => {
      customerCreated(t);
      const items = [{ priceId: P.lifetime, amount: LIFETIME_AMOUNT, recurring: false }];
      send("transaction.paid", t, txn(lifeTxn, t, { subscriptionId: null, status: "paid", origin: "web", items }));
      send("transaction.completed", t, txn(lifeTxn, t, { subscriptionId: null, origin: "web", items }));
    },
    refund: (t, k, amount) => {
      const id = `adj_01hS${ids.i}k${k}`;
      const adj = (status: "pending_approval" | "approved") =>
        paddle.adjustment({
          id,
          transactionId: lifeTxn,
          customerId,
          subscriptionId: null,
          status,
          amount,
          type: amount === LIFETIME_AMOUNT ? "full" : "partial",
          createdAt: ms(t),
          updatedAt: status === "pending_approval" ? null : ms(t),
        });
      // Requested and approved in one second: the phase (created, then updated) orders them.
      send("adjustment.created", t, adj("pending_approval"));
      send("adjustment.updated", t, adj("approved"));
    },
  };
};

// Lemon Squeezy: no event id and no event time (the envelope derives both from the body: the
// resource's updated_at, whole seconds), the app user in meta.custom_data of every event.
const lemonSqueezyAdapter = (ids: Ids, emit: Emit): Adapter => {
  const V = PROVIDER_PRICES.lemonsqueezy;
  const subId = String(500 + ids.i);
  const customerId = 7000 + ids.n;
  const variantId = Number(V[PLAN_PRICE[ids.plan]]);
  const firstOrder = String(8000 + ids.i * 10);
  const lifeOrder = String(8000 + ids.i * 10 + 1);
  let invoices = 0;
  const nextInvoice = () => String(9000 + ids.i * 10 + ++invoices);
  const send = (eventName: string, data: ls.Resource) => {
    const customData = ids.named() ? { customData: { user_id: ids.appUserId } } : {};
    emit(fromBody("lemonsqueezy", Buffer.from(JSON.stringify(ls.lsEvent({ eventName, data, ...customData, webhookId: "wh_1", testMode: true })))));
  };
  let cur = {
    status: "active" as "on_trial" | "active" | "past_due" | "cancelled" | "expired",
    renewsAt: ids.t0,
    endsAt: null as number | null,
    trialEndsAt: null as number | null,
  };
  const snap = (at: number) =>
    ls.subscription({
      id: subId,
      status: cur.status,
      variantId,
      customerId,
      orderId: Number(firstOrder),
      email: ids.email,
      createdAt: ids.t0,
      updatedAt: at,
      renewsAt: cur.renewsAt,
      endsAt: cur.endsAt,
      trialEndsAt: cur.trialEndsAt,
    });
  const inv = (id: string, at: number, over: Partial<ls.InvoiceInput> = {}) =>
    ls.invoice({ id, subscriptionId: Number(subId), customerId, total: AMOUNT[ids.plan], billingReason: "renewal", createdAt: at, ...over });
  let failing: { id: string; createdAt: number } | null = null;
  const lifetimeOrder = (over: Partial<ls.OrderInput>) =>
    ls.order({ id: lifeOrder, variantId: Number(V.lifetime), total: LIFETIME_AMOUNT, customerId, email: ids.email, createdAt: 0, ...over });
  let lifetimeAt = 0;
  return {
    signup: (t, period, trial) => {
      cur = { ...cur, status: trial ? "on_trial" : "active", renewsAt: period.end, trialEndsAt: trial ? period.end : null };
      send("order_created", ls.order({ id: firstOrder, variantId, total: trial ? 0 : AMOUNT[ids.plan], customerId, email: ids.email, createdAt: t }));
      send("subscription_created", snap(t));
      if (!trial) send("subscription_payment_success", inv(nextInvoice(), t, { billingReason: "initial" }));
    },
    activate: (t, period) => {
      cur = { ...cur, status: "active", renewsAt: period.end };
      send("subscription_updated", snap(t));
      send("subscription_payment_success", inv(nextInvoice(), t));
    },
    renew: (t, period) => {
      cur = { ...cur, renewsAt: period.end };
      send("subscription_payment_success", inv(nextInvoice(), t));
      send("subscription_updated", snap(t));
    },
    fail: (t) => {
      failing = { id: nextInvoice(), createdAt: t };
      cur = { ...cur, status: "past_due" };
      send("subscription_payment_failed", inv(failing.id, t, { status: "pending" }));
      send("subscription_updated", snap(t));
    },
    recover: (t, period) => {
      const paid = inv(failing!.id, failing!.createdAt, { status: "paid", updatedAt: t });
      // Lemon Squeezy sends both about one invoice.
      send("subscription_payment_success", paid);
      send("subscription_payment_recovered", paid);
      cur = { ...cur, status: "active", renewsAt: period.end };
      send("subscription_updated", snap(t));
    },
    cancelAtEnd: (t) => {
      cur = { ...cur, status: "cancelled", endsAt: cur.renewsAt };
      send("subscription_cancelled", snap(t));
    },
    end: (t, how) => {
      if (how === "immediately") {
        cur = { ...cur, status: "cancelled", endsAt: t };
        send("subscription_cancelled", snap(t));
      }
      cur = { ...cur, status: "expired", endsAt: t };
      send("subscription_expired", snap(t));
    },
    buyLifetime: (t) => {
      lifetimeAt = t;
      send("order_created", lifetimeOrder({ createdAt: t }));
    },
    refund: (t, _k, _amount, cumulative) => {
      const full = cumulative >= LIFETIME_AMOUNT;
      send("order_refunded", lifetimeOrder({ createdAt: lifetimeAt, updatedAt: t, refundedAmount: cumulative, refunded: full, status: full ? "refunded" : "partial_refund" }));
    },
  };
};

// Creem: explicit event ids, created_at in milliseconds, the app user in the metadata of the
// subscription and the checkout. A subscription's updated_at follows the true order of its changes
// (its ordering hint), a few milliseconds before the event that reports it.
const creemAdapter = (ids: Ids, emit: Emit): Adapter => {
  const C = PROVIDER_PRICES.creem;
  const subId = `sub_S${ids.i}`;
  const customerId = `cust_U${ids.n}`;
  const productId = C[PLAN_PRICE[ids.plan]];
  const named = () => (ids.named() ? { metadata: { user_id: ids.appUserId } } : {});
  let seq = 0;
  let transactions = 0;
  const nextTransaction = () => `tran_S${ids.i}_${++transactions}`;
  const send = (type: string, at: number, object: creem.JsonObject) => {
    seq += 1;
    const event = creem.creemEvent({ id: `evt_${tag(`${ids.salt}:creem:${ids.i}:${seq}`, 22)}`, type, createdAt: ms(at), object });
    emit(fromBody("creem", creem.bodyOf(event)));
  };
  let cur = {
    status: "active" as "active" | "trialing" | "past_due" | "scheduled_cancel" | "canceled",
    period: { start: ids.t0, end: ids.t0 } as Period,
    canceledAt: null as number | null,
  };
  const snap = (at: number, lastTransactionId?: string) =>
    creem.subscription({
      id: subId,
      customerId,
      productId,
      price: AMOUNT[ids.plan],
      status: cur.status,
      periodStart: ms(cur.period.start),
      periodEnd: ms(cur.period.end),
      createdAt: ms(ids.t0),
      updatedAt: ms(at) - 100 + seq,
      canceledAt: cur.canceledAt === null ? null : ms(cur.canceledAt),
      ...named(),
      ...(lastTransactionId === undefined ? {} : { lastTransactionId }),
    });
  const lifetime = { checkout: `ch_S${ids.i}_once`, order: `ord_S${ids.i}_once`, transaction: `tran_S${ids.i}_once` };
  return {
    signup: (t, period, trial) => {
      cur = { ...cur, status: trial ? "trialing" : "active", period };
      send(
        "checkout.completed",
        t,
        creem.checkout({ id: `ch_S${ids.i}_sub`, orderId: `ord_S${ids.i}_sub`, customerId, productId, type: "recurring", amount: trial ? 0 : AMOUNT[ids.plan], subscriptionId: subId, ...named(), email: ids.email }),
      );
      if (trial) {
        send("subscription.trialing", t, snap(t));
        return;
      }
      send("subscription.active", t, snap(t));
      send("subscription.paid", t, snap(t, nextTransaction()));
    },
    activate: (t, period) => {
      cur = { ...cur, status: "active", period };
      send("subscription.paid", t, snap(t, nextTransaction()));
    },
    renew: (t, period) => {
      cur = { ...cur, period };
      send("subscription.paid", t, snap(t, nextTransaction()));
    },
    fail: (t) => {
      // The period stays the one whose renewal failed: the failed payment is named after its end.
      cur = { ...cur, status: "past_due" };
      send("subscription.past_due", t, snap(t));
    },
    recover: (t, period) => {
      cur = { ...cur, status: "active", period };
      send("subscription.paid", t, snap(t, nextTransaction()));
    },
    cancelAtEnd: (t) => {
      cur = { ...cur, status: "scheduled_cancel" };
      send("subscription.scheduled_cancel", t, snap(t));
    },
    end: (t) => {
      cur = { ...cur, status: "canceled", canceledAt: t };
      send("subscription.canceled", t, snap(t));
    },
    buyLifetime: (t) => {
      send(
        "checkout.completed",
        t,
        creem.checkout({
          id: lifetime.checkout,
          orderId: lifetime.order,
          customerId,
          productId: C.lifetime,
          type: "onetime",
          amount: LIFETIME_AMOUNT,
          transactionId: lifetime.transaction,
          ...named(),
          email: ids.email,
        }),
      );
    },
    refund: (t, k, amount, cumulative) => {
      send(
        "refund.created",
        t,
        creem.refund({
          id: `ref_S${ids.i}_${k}`,
          amount,
          transaction: { id: lifetime.transaction, orderId: lifetime.order, customerId, amountPaid: LIFETIME_AMOUNT, refundedTotal: cumulative },
          checkoutId: lifetime.checkout,
          ...named(),
        }),
      );
    },
  };
};

const ADAPTERS: Readonly<Record<OtherProvider, (ids: Ids, emit: Emit) => Adapter>> = {
  paddle: paddleAdapter,
  lemonsqueezy: lemonSqueezyAdapter,
  creem: creemAdapter,
};

/** The state ids of a script's subscription and lifetime order. */
export const objectIds = (script: ProviderScript, i: number): { readonly subscription: string; readonly lifetime: string } => {
  switch (script.provider) {
    case "paddle":
      return { subscription: `paddle:sub_01hS${i}`, lifetime: `paddle:txn_01hS${i}life` };
    case "lemonsqueezy":
      return { subscription: `lemonsqueezy:${500 + i}`, lifetime: `lemonsqueezy:orders/${8000 + i * 10 + 1}` };
    case "creem":
      return { subscription: `creem:sub_S${i}`, lifetime: `creem:ch_S${i}_once` };
  }
};

type Built = {
  subscriptions: Record<string, ExpectedOtherSubscription>;
  orders: Record<string, ExpectedOtherOrder>;
  owners: Record<string, string>;
};

/** One script's lifecycle on the shared clock; records what it implies into `built`. */
const buildScript = (script: ProviderScript, i: number, salt: number, seenCustomers: Set<string>, emit: Emit, built: Built): void => {
  const n = script.user;
  const appUserId = `user_${n}`;
  const t0 = BASE + script.startOffset;
  const life = script.subscription;
  let naming = true;
  const named = () => naming || script.named === "every_event";
  const ids: Ids = { i, n, appUserId, email: `user${n}@example.com`, t0, plan: life?.plan ?? "pro", salt, named, seenCustomers };
  const a = ADAPTERS[script.provider](ids, emit);
  const objects = objectIds(script, i);

  if (life !== null) {
    let period: Period = { start: t0, end: t0 + (life.trial ? TRIAL : PERIOD) };
    a.signup(t0, period, life.trial);
    naming = false;
    let last = t0;
    /** The second of the latest same-subscription update (Lemon Squeezy cannot order two of one second). */
    let lastUpdate: number | null = null;
    if (life.trial) {
      period = { start: period.end, end: period.end + PERIOD };
      a.activate(period.start, period);
      last = lastUpdate = period.start;
    }
    let ended = false;
    const due = period.end;
    const next = { start: due, end: due + PERIOD };
    switch (life.renewal) {
      case "none":
        break;
      case "paid":
        period = next;
        a.renew(due, period);
        last = lastUpdate = due;
        break;
      case "recovered":
        a.fail(due, next);
        period = next;
        a.recover(due + 2 * DAY, period);
        last = lastUpdate = due + 2 * DAY;
        break;
      case "unrecovered":
        a.fail(due, next);
        a.end(due + 7 * DAY, "unpaid");
        last = due + 7 * DAY;
        ended = true;
        break;
    }
    let cancelAtPeriodEnd: boolean | null = false;
    if (!ended && life.cancel !== "none") {
      const tc = life.cancelTie ? last : last + 5 * DAY + 7;
      if (life.cancel === "immediately") {
        a.end(tc, "immediately");
        ended = true;
      } else {
        a.cancelAtEnd(tc);
        cancelAtPeriodEnd = script.provider === "lemonsqueezy" && lastUpdate === tc ? null : true;
        if (life.cancel === "at_period_end_then_ended") {
          a.end(period.end, "period_end");
          ended = true;
        }
      }
    }
    built.subscriptions[objects.subscription] = {
      plan: life.plan,
      status: ended ? "canceled" : "active",
      ended,
      cancelAtPeriodEnd: ended ? false : cancelAtPeriodEnd,
    };
    built.owners[objects.subscription] = appUserId;
  }

  const once = script.lifetime;
  if (once !== null) {
    const tL = t0 + once.delayDays * DAY + 17;
    naming = true;
    a.buyLifetime(tL);
    naming = false;
    const partial = Math.floor(LIFETIME_AMOUNT / 4);
    const refunds =
      once.refund === "none" ? [] : once.refund === "partial" ? [partial] : once.refund === "full" ? [LIFETIME_AMOUNT] : [partial, LIFETIME_AMOUNT - partial];
    // Lemon Squeezy states only cumulative totals, to the second: two refunds of one order in one
    // second cannot be ordered by their data, so they are never generated there.
    const tie = once.refundTie && script.provider !== "lemonsqueezy";
    let t = tL + 3 * DAY;
    let cumulative = 0;
    refunds.forEach((amount, k) => {
      cumulative += amount;
      a.refund(t, k + 1, amount, cumulative);
      if (!tie) t += 2 * DAY;
    });
    built.orders[objects.lifetime] = {
      plan: "lifetime",
      status: cumulative === 0 ? "paid" : cumulative >= LIFETIME_AMOUNT ? "refunded" : "partially_refunded",
      amount: LIFETIME_AMOUNT,
      amountRefunded: cumulative,
    };
    built.owners[objects.lifetime] = appUserId;
  }
};

type StripeData = { readonly id?: string; readonly customer?: string; readonly mode?: string };

/** Stripe subscriptions and one-time checkouts on a named, unshared customer → that customer's app user. */
const stripeOwners = (history: History): Record<string, string> => {
  const appUserOf = new Map<string, string>();
  for (const u of history.expected.users) if (u.appUserId !== null) for (const c of u.customers) appUserOf.set(c, u.appUserId);
  const owners: Record<string, string> = {};
  for (const e of history.events) {
    const o = e.data.object as StripeData;
    const owned = e.type.startsWith("customer.subscription.") || (e.type === "checkout.session.completed" && o.mode === "payment");
    const appUserId = o.customer === undefined ? undefined : appUserOf.get(o.customer);
    if (owned && o.id !== undefined && appUserId !== undefined) owners[`stripe:${o.id}`] = appUserId;
  }
  return owners;
};

export const buildMixedHistory = (stripe: History, scripts: readonly ProviderScript[], salt: number): MixedHistory => {
  const timed: { event: MixedEvent; order: number }[] = [];
  const emit: Emit = (event) => void timed.push({ event, order: timed.length });
  for (const e of stripe.events) emit(fromStripe(e));
  const built: Built = { subscriptions: {}, orders: {}, owners: stripeOwners(stripe) };
  const seenCustomers = new Set<string>();
  scripts.forEach((script, i) => buildScript(script, i, salt, seenCustomers, emit, built));
  const events = timed.sort((a, b) => a.event.occurredAt - b.event.occurredAt || a.order - b.order).map((x) => x.event);
  const appUsers = [...new Set([...stripe.expected.appUsers, ...scripts.map((s) => `user_${s.user}`)])].sort();
  const history: MixedHistory = {
    stripe,
    scripts,
    events,
    expected: { appUsers, owners: built.owners, subscriptions: built.subscriptions, orders: built.orders },
  };
  Object.defineProperty(history, fc.toStringMethod, { value: () => describeHistory(history), enumerable: false });
  return history;
};

// ── printing counterexamples ────────────────────────────────────────────────────────────────

type Loose = { readonly [key: string]: unknown };
const loose = (value: unknown): Loose => (typeof value === "object" && value !== null ? (value as Loose) : {});

/** The object an event is about, its status and a few telling fields. */
const gist = (e: MixedEvent): string => {
  const p = loose(e.payload);
  const parts: string[] = [];
  const add = (name: string, value: unknown) => {
    if (value !== undefined && value !== null) parts.push(`${name}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  };
  switch (e.provider) {
    case "stripe": {
      const o = loose(loose(p["data"])["object"]);
      parts.push(String(o["id"]));
      add("status", o["status"]);
      add("cancel_at_period_end", o["cancel_at_period_end"]);
      add("customer", o["customer"]);
      add("amount_refunded", o["amount_refunded"]);
      break;
    }
    case "paddle": {
      const d = loose(p["data"]);
      parts.push(String(d["id"]));
      add("status", d["status"]);
      add("scheduled", loose(d["scheduled_change"])["action"]);
      add("user", loose(d["custom_data"])["user_id"]);
      add("at", String(p["occurred_at"]).slice(11));
      break;
    }
    case "lemonsqueezy": {
      const d = loose(p["data"]);
      const attributes = loose(d["attributes"]);
      parts.push(`${String(d["type"])}/${String(d["id"])}`);
      add("status", attributes["status"]);
      add("refunded_amount", attributes["refunded_amount"] || undefined);
      add("user", loose(loose(p["meta"])["custom_data"])["user_id"]);
      break;
    }
    case "creem": {
      const o = loose(p["object"]);
      parts.push(String(o["id"]));
      add("status", o["status"]);
      add("user", loose(o["metadata"])["user_id"]);
      break;
    }
    default:
      break;
  }
  return parts.join(" ");
};

const shortId = (id: string): string => (id.length > 28 ? `${id.slice(0, 12)}…${id.slice(-8)}` : id);

export const describeEvent = (e: MixedEvent): string =>
  `${new Date(e.occurredAt).toISOString()} ${e.provider.padEnd(12)} ${e.type.padEnd(32)} ${gist(e)} [${shortId(e.providerEventId)}]`;

export const describeMixedEvents = (events: readonly MixedEvent[]): string => events.map(describeEvent).join("\n");

const describeScript = (s: ProviderScript, i: number): string => {
  const parts = [`#${i} ${s.provider} user_${s.user} +${s.startOffset}s${s.named === "purchases_only" ? " named-on-purchase" : ""}`];
  const sub = s.subscription;
  if (sub) parts.push(`sub{${sub.plan}${sub.trial ? " trial" : ""} renewal=${sub.renewal} cancel=${sub.cancel}${sub.cancelTie ? " tie" : ""}}`);
  const once = s.lifetime;
  if (once) parts.push(`lifetime{day ${once.delayDays} refund=${once.refund}${once.refundTie ? " tie" : ""}}`);
  return parts.join(" ");
};

export const describeHistory = (h: MixedHistory): string =>
  [
    "MixedHistory(",
    `stripe scripts: ${JSON.stringify(h.stripe.scripts)}`,
    ...h.scripts.map(describeScript),
    "stripe events:",
    describeEvents(h.stripe.events),
    "all events:",
    describeMixedEvents(h.events),
    ")",
  ].join("\n");

// ── arbitraries ─────────────────────────────────────────────────────────────────────────────

/** A Stripe history plus 0–3 lifecycles at the other providers for the same app user ids. */
export const arbMixedHistory: fc.Arbitrary<MixedHistory> = fc
  .tuple(arbHistory, fc.array(arbProviderScript, { minLength: 0, maxLength: 3 }), fc.integer({ min: 0, max: 1_000_000 }))
  .map(([stripe, scripts, salt]) => buildMixedHistory(stripe, scripts, salt));

/**
 * The same event delivered again. `variant`: as the provider delivers it to a second endpoint —
 * Paddle with another notification_id, Lemon Squeezy with another meta.webhook_id (other bytes, the
 * same event); Stripe and Creem resend the same bytes.
 */
export const redelivery = (e: MixedEvent, variant: boolean): MixedEvent => {
  if (!variant) return e;
  const p = loose(e.payload);
  switch (e.provider) {
    case "paddle":
      return fromBody("paddle", Buffer.from(JSON.stringify({ ...p, notification_id: `ntf_${tag(`second:${e.providerEventId}`, 26)}` })));
    case "lemonsqueezy":
      return fromBody("lemonsqueezy", Buffer.from(JSON.stringify({ ...p, meta: { ...loose(p["meta"]), webhook_id: "wh_2" } })));
    default:
      return e;
  }
};

const TERMINAL = new Set([
  "customer.subscription.deleted",
  "charge.refunded",
  "refund.created",
  "subscription.canceled",
  "adjustment.updated",
  "subscription_expired",
  "order_refunded",
]);

const isTerminal = (e: MixedEvent): boolean => TERMINAL.has(e.type);

/**
 * A delivery of a mixed history: every event at least once, in any order, with redeliveries (some
 * as a second endpoint receives them). Besides uniform shuffles it favours the hard orders: newest
 * first, terminal events first, and one provider's events all late (its webhooks were down, then
 * retried newest first).
 */
export const arbMixedDelivery = (history: MixedHistory): fc.Arbitrary<MixedEvent[]> => {
  const events = [...history.events];
  if (events.length === 0) return fc.constant([]);
  const shuffled = fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length });
  const newestFirst = fc.constant([...events].reverse());
  const rest = events.filter((e) => !isTerminal(e));
  const terminalFirst = fc.shuffledSubarray(rest, { minLength: rest.length, maxLength: rest.length }).map((r) => [...events.filter(isTerminal), ...r]);
  const providers = [...new Set(events.map((e) => e.provider))];
  const oneLate = fc.constantFrom(...providers).map((late) => [...events.filter((e) => e.provider !== late), ...events.filter((e) => e.provider === late).reverse()]);
  const base = fc.oneof(
    { arbitrary: shuffled, weight: 3 },
    { arbitrary: newestFirst, weight: 1 },
    { arbitrary: terminalFirst, weight: 1 },
    { arbitrary: oneLate, weight: 1 },
  );
  const redeliveries = fc.array(fc.tuple(fc.nat(events.length - 1), fc.nat(), fc.boolean()), { maxLength: Math.min(events.length, 8) });
  return fc.tuple(base, redeliveries).map(([order, extra]) => {
    const out = [...order];
    for (const [which, where, variant] of extra) out.splice(where % (out.length + 1), 0, redelivery(events[which]!, variant));
    Object.defineProperty(out, fc.toStringMethod, { value: () => `Delivery(\n${describeMixedEvents(out)}\n)`, enumerable: false });
    return out;
  });
};

/** A mixed history together with one delivery of it. */
export const arbMixedHistoryAndDelivery: fc.Arbitrary<{ history: MixedHistory; delivered: MixedEvent[] }> = arbMixedHistory.chain((history) =>
  arbMixedDelivery(history).map((delivered) => ({ history, delivered })),
);
