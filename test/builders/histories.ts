// Generated Stripe event histories for a few users, as Stripe would emit them, and the ways they
// can be delivered (any order, with redeliveries). Each history is built from a small script per
// user, so fast-check shrinks a failing case to the fewest users and lifecycle steps. Besides the
// events, a history carries what its own data implies (the final subscription, order and identity
// facts), so a test can check that canonical order follows the data rather than the arrival.
import fc from "fast-check";
import type { Catalog } from "../../src/domain/catalog.js";
import type { SubscriptionStatus } from "../../src/domain/facts.js";
import type { OrderStatus } from "../../src/domain/state.js";
import {
  apiVersionFor,
  previousPrice,
  charge,
  checkoutSession,
  customer,
  invoice,
  previousPeriod,
  refund,
  stripeEvent,
  subscription,
  tag,
  type Json,
  type JsonObject,
  type Shape,
  type StripeEvent,
  type StripeObject,
} from "./stripe.js";

// ── catalog ─────────────────────────────────────────────────────────────────────────────────

export const PRICES = {
  proMonthly: "price_pro_monthly",
  proYearly: "price_pro_yearly",
  teamMonthly: "price_team_monthly",
  teamYearly: "price_team_yearly",
  unmapped: "price_legacy_unmapped",
  lifetime: "price_lifetime",
  oneTimeUnmapped: "price_sticker_pack",
} as const;

/** The same plans' ids at the other providers: Paddle price ids, Lemon Squeezy variant ids, Creem product ids. */
export const PROVIDER_PRICES = {
  paddle: { proMonthly: "pri_01hpro0monthly", proYearly: "pri_01hpro0yearly", teamMonthly: "pri_01hteam0monthly", lifetime: "pri_01hlifetime" },
  lemonsqueezy: { proMonthly: "101", proYearly: "102", teamMonthly: "201", lifetime: "301" },
  creem: { proMonthly: "prod_pro_monthly", proYearly: "prod_pro_yearly", teamMonthly: "prod_team_monthly", lifetime: "prod_lifetime" },
} as const;

const others = (plan: "proMonthly" | "teamMonthly" | "lifetime", alt?: "proYearly") => ({
  paddle: [PROVIDER_PRICES.paddle[plan], ...(alt ? [PROVIDER_PRICES.paddle[alt]] : [])],
  lemonsqueezy: [PROVIDER_PRICES.lemonsqueezy[plan], ...(alt ? [PROVIDER_PRICES.lemonsqueezy[alt]] : [])],
  creem: [PROVIDER_PRICES.creem[plan], ...(alt ? [PROVIDER_PRICES.creem[alt]] : [])],
});

const AMOUNTS: Readonly<Record<string, number>> = {
  [PRICES.proMonthly]: 1900,
  [PRICES.proYearly]: 19000,
  [PRICES.teamMonthly]: 4900,
  [PRICES.teamYearly]: 49000,
  [PRICES.unmapped]: 900,
  [PRICES.lifetime]: 19900,
  [PRICES.oneTimeUnmapped]: 500,
};

/**
 * Plans with a boolean feature (`export`), a metered one (`api_calls`), a lifetime plan, and a
 * feature (`sso`) that only a plan nobody buys in these histories grants.
 */
export const testCatalog: Catalog = {
  plans: {
    pro: {
      code: "pro",
      name: "Pro",
      prices: { stripe: [PRICES.proMonthly, PRICES.proYearly], ...others("proMonthly", "proYearly") },
      features: {
        export: { _tag: "Flag" },
        api_calls: { _tag: "Metered", limit: 10_000, per: "month", overage: "block", decimals: 0 },
      },
      credits: null,
      lifetime: false,
      price: { amount: 1900, currency: "usd", interval: "month" },
    },
    team: {
      code: "team",
      name: "Team",
      prices: { stripe: [PRICES.teamMonthly, PRICES.teamYearly], ...others("teamMonthly") },
      features: {
        export: { _tag: "Flag" },
        api_calls: { _tag: "Metered", limit: 50_000, per: "period", overage: "allow", decimals: 0 },
      },
      credits: null,
      lifetime: false,
      price: { amount: 4900, currency: "usd", interval: "month" },
    },
    lifetime: {
      code: "lifetime",
      name: "Lifetime",
      prices: { stripe: [PRICES.lifetime], ...others("lifetime") },
      features: {
        export: { _tag: "Flag" },
        api_calls: { _tag: "Metered", limit: 5_000, per: "month", overage: "block", decimals: 0 },
      },
      credits: null,
      lifetime: true,
      price: { amount: 19900, currency: "usd", interval: "once" },
    },
    enterprise: {
      code: "enterprise",
      name: "Enterprise",
      prices: { stripe: ["price_enterprise_yearly"] },
      features: { export: { _tag: "Flag" }, sso: { _tag: "Flag" } },
      credits: null,
      lifetime: false,
      price: { amount: 99_000, currency: "usd", interval: "year" },
    },
  },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id", "userId"],
};

// ── scripts ─────────────────────────────────────────────────────────────────────────────────

export type SubscriptionScript = {
  readonly shape: Shape;
  readonly priceId: string;
  readonly trial: boolean;
  /** How the app user id reaches the subscription's customer through Checkout. */
  readonly checkout: "none" | "on_time" | "late_same_second" | "late";
  readonly metadataUserId: boolean;
  /** Extra same-second update right after activation (the app sets cancel_at_period_end at once). */
  readonly cancelAtSignup: boolean;
  readonly renewals: number;
  /** Renewal payment attempted in the same second the period moves on. */
  readonly renewalTie: boolean;
  readonly pastDue: "none" | "recovered" | "unrecovered";
  readonly cancel: "none" | "at_period_end" | "at_period_end_then_resume" | "immediately";
  /** The cancellation request in the same second as the preceding update. */
  readonly cancelTie: boolean;
  /**
   * A plan change mid-period (default prorations: no new invoice, so previous_attributes names no
   * scalar). "after_resume": a pending cancellation is lifted and the plan switched in the same second.
   */
  readonly planChange: "none" | "switch" | "after_resume";
  /** An update (metadata) in the same second as the deletion. */
  readonly updateAtDeletion: boolean;
  readonly paymentSucceededToo: boolean;
};

export type OneTimeScript = {
  readonly priceId: string;
  /** Checkout creates a second customer for the same app user: the users merge through the app id. */
  readonly ownCustomer: boolean;
  readonly identified: boolean;
  readonly delayDays: number;
  readonly refund: "none" | "partial" | "full" | "partial_then_full";
  readonly refundEvents: "both" | "charge_only" | "refund_only";
  readonly expandRefunds: boolean;
  readonly refundTie: boolean;
};

export type UserScript = {
  readonly customerMetadata: boolean;
  readonly email: boolean;
  /** Seconds after the common start: users overlap, so their events tie too. */
  readonly startOffset: number;
  readonly subscription: SubscriptionScript | null;
  readonly oneTime: OneTimeScript | null;
  /**
   * Buys on the first user's Stripe customer instead of its own (two app users on one customer, e.g.
   * a shared company card). Ignored for the first user.
   */
  readonly sharesFirstCustomer: boolean;
};

const arbSubscriptionScript: fc.Arbitrary<SubscriptionScript> = fc.record({
  shape: fc.constantFrom<Shape>("legacy", "basil"),
  priceId: fc.constantFrom(PRICES.proMonthly, PRICES.proYearly, PRICES.teamMonthly, PRICES.unmapped),
  trial: fc.boolean(),
  checkout: fc.constantFrom("none", "on_time", "late_same_second", "late"),
  metadataUserId: fc.boolean(),
  cancelAtSignup: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
  renewals: fc.integer({ min: 0, max: 2 }),
  renewalTie: fc.boolean(),
  pastDue: fc.constantFrom("none", "none", "recovered", "unrecovered"),
  cancel: fc.constantFrom("none", "at_period_end", "at_period_end_then_resume", "immediately"),
  cancelTie: fc.boolean(),
  planChange: fc.constantFrom("none", "none", "switch", "after_resume"),
  updateAtDeletion: fc.boolean(),
  paymentSucceededToo: fc.boolean(),
});

const arbOneTimeScript: fc.Arbitrary<OneTimeScript> = fc.record({
  priceId: fc.constantFrom(PRICES.lifetime, PRICES.lifetime, PRICES.oneTimeUnmapped),
  ownCustomer: fc.boolean(),
  identified: fc.boolean(),
  delayDays: fc.integer({ min: 0, max: 40 }),
  refund: fc.constantFrom("none", "partial", "full", "partial_then_full"),
  refundEvents: fc.constantFrom("both", "both", "charge_only", "refund_only"),
  expandRefunds: fc.boolean(),
  refundTie: fc.boolean(),
});

export const arbUserScript: fc.Arbitrary<UserScript> = fc.record({
  customerMetadata: fc.boolean(),
  email: fc.boolean(),
  startOffset: fc.integer({ min: 0, max: 2 }),
  subscription: fc.option(arbSubscriptionScript, { nil: null, freq: 4 }),
  oneTime: fc.option(arbOneTimeScript, { nil: null, freq: 2 }),
  sharesFirstCustomer: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
});

// ── what a history implies ──────────────────────────────────────────────────────────────────

export type ExpectedSubscription = {
  readonly priceIds: readonly string[];
  readonly status: SubscriptionStatus;
  readonly cancelAtPeriodEnd: boolean;
  /** Epoch milliseconds. */
  readonly currentPeriodEnd: number;
  readonly ended: boolean;
};

/** The values a subscription field took, in true order, each change once (what its transitions say). */
export type ExpectedPath = { readonly status: readonly string[]; readonly cancelAtPeriodEnd: readonly string[] };

export type ExpectedOrder = { readonly status: OrderStatus; readonly amount: number; readonly amountRefunded: number };

export type ExpectedUser = { readonly appUserId: string | null; readonly customers: readonly string[] };

export type Expected = {
  /** By `stripe:<subscription id>`. */
  readonly subscriptions: Readonly<Record<string, ExpectedSubscription>>;
  /** By `stripe:<subscription id>`: the status and cancel-at-period-end changes, oldest first. */
  readonly paths: Readonly<Record<string, ExpectedPath>>;
  /** One-time checkouts by `stripe:<checkout session id>`. */
  readonly orders: Readonly<Record<string, ExpectedOrder>>;
  /**
   * Which customers end up as one user, and under which app user id. Customers shared by two app
   * users are left out: which of them keeps the customer depends on what the data names first.
   */
  readonly users: readonly ExpectedUser[];
  /** App user ids the history names: each is exactly one user, never merged with another. */
  readonly appUsers: readonly string[];
};

export type History = { readonly events: StripeEvent[]; readonly expected: Expected; readonly scripts: readonly UserScript[] };

// ── building a history ──────────────────────────────────────────────────────────────────────

const BASE = 1_717_200_000; // 2024-06-01T00:00:00Z
const DAY = 86_400;

type SubState = {
  readonly priceId: string;
  readonly status: "incomplete" | "trialing" | "active" | "past_due" | "canceled";
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: number | null;
  readonly endedAt: number | null;
  readonly trialStart: number | null;
  readonly trialEnd: number | null;
  readonly latestInvoice: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly reason: "cancellation_requested" | "payment_failed" | null;
};

type Emitter = {
  readonly emit: (type: string, created: number, object: StripeObject, previous?: JsonObject, shape?: Shape) => void;
};

const emitterFor = (out: StripeEvent[], salt: number, user: number): Emitter => {
  let seq = 0;
  return {
    emit: (type, created, object, previous, shape = "legacy") => {
      seq += 1;
      out.push(
        stripeEvent({
          // Random-looking ids, so the id tie-break never happens to agree with the true order.
          id: `evt_1${tag(`${salt}:${user}:${seq}`, 23)}`,
          type,
          created,
          object,
          ...(previous === undefined ? {} : { previousAttributes: previous }),
          apiVersion: apiVersionFor(shape),
        }),
      );
    },
  };
};

const intervalSeconds = (priceId: string): number => (priceId.includes("year") ? 365 * DAY : 30 * DAY);

/** The price a plan change moves to: another plan on the same billing interval. */
const switchTarget = (priceId: string): string =>
  priceId === PRICES.teamMonthly
    ? PRICES.proMonthly
    : priceId === PRICES.proYearly
      ? PRICES.teamYearly
      : priceId === PRICES.teamYearly
        ? PRICES.proYearly
        : PRICES.teamMonthly;

/** One user's subscription life; returns the instant of its last event. */
const buildSubscription = (
  script: SubscriptionScript,
  ids: { readonly n: number; readonly customer: string; readonly appUserId: string; readonly email: string | null },
  t0: number,
  { emit }: Emitter,
  expected: { subscriptions: Record<string, ExpectedSubscription>; paths: Record<string, ExpectedPath> },
): number => {
  const subId = `sub_U${ids.n}`;
  const amountOf = (priceId: string) => AMOUNTS[priceId] ?? 1000;
  const interval = intervalSeconds(script.priceId);
  const shape = script.shape;
  let invoices = 0;
  const nextInvoice = () => `in_U${ids.n}_${++invoices}`;
  const firstInvoice = nextInvoice();
  let cur: SubState = {
    priceId: script.priceId,
    status: script.trial ? "trialing" : "incomplete",
    periodStart: t0,
    periodEnd: script.trial ? t0 + 7 * DAY : t0 + interval,
    cancelAtPeriodEnd: false,
    canceledAt: null,
    endedAt: null,
    trialStart: script.trial ? t0 : null,
    trialEnd: script.trial ? t0 + 7 * DAY : null,
    latestInvoice: firstInvoice,
    metadata: script.metadataUserId ? { user_id: ids.appUserId } : {},
    reason: null,
  };
  let last = t0;
  const statusPath: string[] = [];
  const cancelPath: string[] = [];
  /** Records the subscription's canonical status and flag as each event leaves them. */
  const observe = () => {
    if (statusPath.at(-1) !== cur.status) statusPath.push(cur.status);
    if (cancelPath.at(-1) !== String(cur.cancelAtPeriodEnd)) cancelPath.push(String(cur.cancelAtPeriodEnd));
  };
  const snap = (s: SubState): StripeObject =>
    subscription({
      id: subId,
      customer: ids.customer,
      status: s.status,
      priceId: s.priceId,
      unitAmount: amountOf(s.priceId),
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      canceledAt: s.canceledAt,
      endedAt: s.endedAt,
      trialStart: s.trialStart,
      trialEnd: s.trialEnd,
      metadata: s.metadata,
      created: t0,
      latestInvoice: s.latestInvoice,
      cancellationReason: s.reason,
      shape,
    });
  /** Moves the subscription on and emits the update with what it left in previous_attributes. */
  const update = (t: number, patch: Partial<SubState>) => {
    const before = cur;
    cur = { ...cur, ...patch };
    const prev: Record<string, Json> = {};
    if (before.periodStart !== cur.periodStart || before.periodEnd !== cur.periodEnd) {
      Object.assign(
        prev,
        previousPeriod({ subscriptionId: subId, priceId: before.priceId, periodStart: before.periodStart, periodEnd: before.periodEnd, shape }),
      );
    }
    if (before.priceId !== cur.priceId) {
      Object.assign(
        prev,
        previousPrice({
          subscriptionId: subId,
          priceId: before.priceId,
          unitAmount: amountOf(before.priceId),
          periodStart: before.periodStart,
          periodEnd: before.periodEnd,
          shape,
        }),
      );
    }
    if (before.latestInvoice !== cur.latestInvoice) prev["latest_invoice"] = before.latestInvoice;
    if (before.status !== cur.status) prev["status"] = before.status;
    if (before.cancelAtPeriodEnd !== cur.cancelAtPeriodEnd) {
      prev["cancel_at_period_end"] = before.cancelAtPeriodEnd;
      prev["cancel_at"] = before.cancelAtPeriodEnd ? before.periodEnd : null;
    }
    if (before.canceledAt !== cur.canceledAt) {
      prev["canceled_at"] = before.canceledAt;
      prev["cancellation_details"] = { comment: null, feedback: null, reason: before.reason };
    }
    if (before.trialEnd !== cur.trialEnd) prev["trial_end"] = before.trialEnd;
    if (before.metadata !== cur.metadata) {
      const old: Record<string, Json> = {};
      for (const k of new Set([...Object.keys(before.metadata), ...Object.keys(cur.metadata)])) old[k] = before.metadata[k] ?? null;
      prev["metadata"] = old;
    }
    emit("customer.subscription.updated", t, snap(cur), prev, shape);
    observe();
    last = Math.max(last, t);
  };
  const pay = (t: number, reason: "subscription_create" | "subscription_cycle", invoiceId: string, due: number, attempt = 1) => {
    const paid = due > 0;
    const object = invoice({
      id: invoiceId,
      customer: ids.customer,
      subscription: subId,
      priceId: cur.priceId,
      amountPaid: due,
      billingReason: reason,
      charge: paid ? `ch_${invoiceId.slice(3)}` : null,
      paymentIntent: paid ? `pi_${invoiceId.slice(3)}` : null,
      periodStart: cur.periodStart,
      periodEnd: cur.periodEnd,
      created: t,
      attemptCount: attempt,
      email: ids.email,
      shape,
    });
    emit("invoice.paid", t, object, undefined, shape);
    if (script.paymentSucceededToo) emit("invoice.payment_succeeded", t, object, undefined, shape);
    last = Math.max(last, t);
  };
  const fail = (t: number, invoiceId: string) => {
    emit(
      "invoice.payment_failed",
      t,
      invoice({
        id: invoiceId,
        customer: ids.customer,
        subscription: subId,
        priceId: cur.priceId,
        amountPaid: 0,
        amountDue: amountOf(cur.priceId),
        billingReason: "subscription_cycle",
        charge: `ch_${invoiceId.slice(3)}_failed`,
        paymentIntent: `pi_${invoiceId.slice(3)}`,
        periodStart: cur.periodStart,
        periodEnd: cur.periodEnd,
        created: t,
        status: "open",
        email: ids.email,
        shape,
      }),
      undefined,
      shape,
    );
    last = Math.max(last, t);
  };
  const end = (t: number, reason: SubState["reason"]) => {
    if (script.updateAtDeletion) update(t, { metadata: { ...cur.metadata, churn_reason: "too_expensive" } });
    cur = { ...cur, status: "canceled", canceledAt: cur.canceledAt ?? t, endedAt: t, reason: cur.reason ?? reason };
    emit("customer.subscription.deleted", t, snap(cur), undefined, shape);
    observe();
    last = Math.max(last, t);
  };
  const checkout = (t: number) => {
    emit(
      "checkout.session.completed",
      t,
      checkoutSession({
        id: `cs_test_U${ids.n}_sub`,
        mode: "subscription",
        customer: ids.customer,
        clientReferenceId: ids.appUserId,
        subscription: subId,
        invoice: firstInvoice,
        amountTotal: script.trial ? 0 : amountOf(script.priceId),
        currency: "usd",
        email: ids.email,
        created: t0 - 40,
        paymentStatus: script.trial ? "no_payment_required" : "paid",
      }),
    );
  };

  // 1. Signup: created, first invoice, activation, all in one second.
  emit("customer.subscription.created", t0, snap(cur), undefined, shape);
  observe();
  pay(t0, "subscription_create", firstInvoice, script.trial ? 0 : amountOf(script.priceId));
  if (!script.trial) update(t0, { status: "active" });
  if (script.checkout === "on_time") checkout(t0);
  if (script.cancelAtSignup) update(t0, { cancelAtPeriodEnd: true, canceledAt: t0, reason: "cancellation_requested" });

  // 2. Trial end and renewals: the period moves on, then the payment is attempted.
  let ended = false;
  const cycles = script.renewals + (script.trial ? 1 : 0);
  for (let r = 0; r < cycles && !ended; r++) {
    if (cur.cancelAtPeriodEnd) break;
    const t = cur.periodEnd;
    const inv = nextInvoice();
    update(t, {
      periodStart: t,
      periodEnd: t + interval,
      latestInvoice: inv,
      ...(cur.status === "trialing" ? { status: "active" as const } : {}),
    });
    const attempt = script.renewalTie ? t : t + 3600;
    const lastCycle = r === cycles - 1;
    if (lastCycle && script.pastDue !== "none") {
      fail(attempt, inv);
      update(attempt, { status: "past_due" });
      if (script.pastDue === "recovered") {
        const tr = attempt + 2 * DAY;
        pay(tr, "subscription_cycle", inv, amountOf(cur.priceId), 2);
        update(tr, { status: "active" });
      } else {
        end(attempt + 7 * DAY, "payment_failed");
        ended = true;
      }
    } else {
      pay(attempt, "subscription_cycle", inv, amountOf(cur.priceId));
    }
  }

  // 3. A plan change within the current period.
  if (!ended && !cur.cancelAtPeriodEnd && script.planChange !== "none") {
    const tp = Math.max(last + 3 * DAY + 1, cur.periodStart + 9 * DAY + 11);
    if (script.planChange === "after_resume") {
      update(tp - 3 * DAY, { cancelAtPeriodEnd: true, canceledAt: tp - 3 * DAY, reason: "cancellation_requested" });
      update(tp, { cancelAtPeriodEnd: false, canceledAt: null, reason: null });
    }
    update(tp, { priceId: switchTarget(cur.priceId) });
  }

  // 4. Cancellation.
  if (!ended && !cur.cancelAtPeriodEnd && script.cancel !== "none") {
    const tc = script.cancelTie ? last : Math.max(last + 1, cur.periodStart + 5 * DAY + 7);
    if (script.cancel === "immediately") {
      end(tc, "cancellation_requested");
      ended = true;
    } else {
      update(tc, { cancelAtPeriodEnd: true, canceledAt: tc, reason: "cancellation_requested" });
      if (script.cancel === "at_period_end_then_resume") {
        update(tc + 2 * DAY, { cancelAtPeriodEnd: false, canceledAt: null, reason: null });
      }
    }
  }
  if (!ended && cur.cancelAtPeriodEnd) {
    end(cur.periodEnd, "cancellation_requested");
    ended = true;
  }

  // 5. The checkout that names the app user, when it occurs after the rest.
  if (script.checkout === "late_same_second") checkout(last);
  if (script.checkout === "late") checkout(last + 60);

  expected.subscriptions[`stripe:${subId}`] = {
    priceIds: [cur.priceId],
    status: cur.status,
    cancelAtPeriodEnd: cur.cancelAtPeriodEnd,
    currentPeriodEnd: cur.periodEnd * 1000,
    ended,
  };
  expected.paths[`stripe:${subId}`] = { status: statusPath, cancelAtPeriodEnd: cancelPath };
  return last;
};

const buildOneTime = (
  script: OneTimeScript,
  ids: { readonly n: number; readonly customer: string; readonly appUserId: string; readonly email: string | null },
  tO: number,
  { emit }: Emitter,
  expected: { orders: Record<string, ExpectedOrder> },
): void => {
  const amount = AMOUNTS[script.priceId] ?? 1000;
  const checkoutId = `cs_test_U${ids.n}_once`;
  const pi = `pi_U${ids.n}_once`;
  const ch = `ch_U${ids.n}_once`;
  if (script.ownCustomer) emit("customer.created", tO, customer({ id: ids.customer, email: ids.email, created: tO }));
  emit(
    "checkout.session.completed",
    tO,
    checkoutSession({
      id: checkoutId,
      mode: "payment",
      customer: ids.customer,
      clientReferenceId: script.identified ? ids.appUserId : null,
      paymentIntent: pi,
      amountTotal: amount,
      currency: "usd",
      metadata: { price_id: script.priceId },
      email: ids.email,
      created: tO - 90,
    }),
  );
  emit("charge.succeeded", tO, charge({ id: ch, customer: ids.customer, paymentIntent: pi, amount, amountRefunded: 0, created: tO, email: ids.email }));

  const partial = Math.floor(amount / 4);
  const refunds: { id: string; amount: number }[] =
    script.refund === "none"
      ? []
      : script.refund === "partial"
        ? [{ id: `re_U${ids.n}_1`, amount: partial }]
        : script.refund === "full"
          ? [{ id: `re_U${ids.n}_1`, amount }]
          : [
              { id: `re_U${ids.n}_1`, amount: partial },
              { id: `re_U${ids.n}_2`, amount: amount - partial },
            ];
  let refunded = 0;
  let t = tO + 3 * DAY;
  const issued: StripeObject[] = [];
  for (const r of refunds) {
    const object = refund({ id: r.id, charge: ch, paymentIntent: pi, amount: r.amount, status: "succeeded", created: t });
    issued.push(object);
    const before = refunded;
    refunded += r.amount;
    if (script.refundEvents !== "refund_only") {
      const previous: Record<string, Json> = { amount_refunded: before };
      if (refunded >= amount) previous["refunded"] = false;
      emit(
        "charge.refunded",
        t,
        charge({
          id: ch,
          customer: ids.customer,
          paymentIntent: pi,
          amount,
          amountRefunded: refunded,
          created: tO,
          email: ids.email,
          ...(script.expandRefunds ? { refunds: [...issued].reverse() } : {}),
        }),
        previous,
      );
    }
    if (script.refundEvents !== "charge_only") emit("refund.created", t, object);
    if (!script.refundTie) t += 2 * DAY;
  }
  expected.orders[`stripe:${checkoutId}`] = {
    status: refunded === 0 ? "paid" : refunded >= amount ? "refunded" : "partially_refunded",
    amount,
    amountRefunded: refunded,
  };
};

/** Turns user scripts into the events Stripe would have sent, oldest first. */
export const buildHistory = (scripts: readonly UserScript[], salt: number): History => {
  const events: StripeEvent[] = [];
  const subscriptions: Record<string, ExpectedSubscription> = {};
  const paths: Record<string, ExpectedPath> = {};
  const orders: Record<string, ExpectedOrder> = {};
  const users: ExpectedUser[] = [];
  const appUsers: string[] = [];
  const sharing = scripts.some((script, index) => index > 0 && script.sharesFirstCustomer);
  scripts.forEach((script, index) => {
    const n = index + 1;
    const emitter = emitterFor(events, salt, n);
    const appUserId = `user_${n}`;
    const email = script.email ? `user${n}@example.com` : null;
    const shares = index > 0 && script.sharesFirstCustomer;
    const primary = shares ? "cus_U1a" : `cus_U${n}a`;
    const t0 = BASE + script.startOffset;
    if (!shares) {
      emitter.emit(
        "customer.created",
        t0,
        customer({ id: primary, email, metadata: script.customerMetadata ? { user_id: appUserId } : {}, created: t0 }),
      );
    }
    const sub = script.subscription;
    if (sub !== null) buildSubscription(sub, { n, customer: primary, appUserId, email }, t0, emitter, { subscriptions, paths });
    const once = script.oneTime;
    const secondary = once?.ownCustomer ? `cus_U${n}b` : null;
    if (once !== null) {
      const tO = t0 + once.delayDays * DAY + 17;
      buildOneTime(once, { n, customer: secondary ?? primary, appUserId, email }, tO, emitter, { orders });
    }
    const primaryNamed =
      (script.customerMetadata && !shares) ||
      (sub !== null && (sub.metadataUserId || sub.checkout !== "none")) ||
      (once !== null && once.identified && secondary === null);
    const secondaryNamed = once !== null && once.identified;
    if (primaryNamed || secondaryNamed) appUsers.push(appUserId);
    // The first user's customer and every sharer's customers: attribution follows the data's order.
    if (sharing && (index === 0 || shares)) return;
    if (secondary === null) users.push({ appUserId: primaryNamed ? appUserId : null, customers: [primary] });
    else if (primaryNamed && secondaryNamed) users.push({ appUserId, customers: [primary, secondary] });
    else {
      users.push({ appUserId: primaryNamed ? appUserId : null, customers: [primary] });
      users.push({ appUserId: secondaryNamed ? appUserId : null, customers: [secondary] });
    }
  });
  events.sort((a, b) => a.created - b.created);
  return withPrinter({ events, expected: { subscriptions, paths, orders, users, appUsers }, scripts });
};

// ── printing counterexamples ────────────────────────────────────────────────────────────────

const summary = (e: StripeEvent): string => {
  const o = e.data.object as Readonly<Record<string, Json>>;
  const parts = [`${e.id} ${e.created} ${e.type} ${o["id"]}`];
  for (const f of ["status", "cancel_at_period_end", "amount_refunded", "client_reference_id", "customer"]) {
    if (f in o) parts.push(`${f}=${JSON.stringify(o[f])}`);
  }
  if (e.data.previous_attributes) parts.push(`prev=${JSON.stringify(Object.keys(e.data.previous_attributes))}`);
  return parts.join(" ");
};

/** Compact one-line-per-event rendering, so a shrunk counterexample is readable. */
export const describeEvents = (events: readonly StripeEvent[]): string => events.map(summary).join("\n");

const withPrinter = <T extends object>(value: T & { readonly events: readonly StripeEvent[] }): T => {
  Object.defineProperty(value, fc.toStringMethod, { value: () => `History(\n${describeEvents(value.events)}\n)`, enumerable: false });
  return value;
};

// ── arbitraries ─────────────────────────────────────────────────────────────────────────────

/** Histories of one to three users. */
export const arbHistory: fc.Arbitrary<History> = fc
  .tuple(fc.array(arbUserScript, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 1_000_000 }))
  .map(([scripts, salt]) => buildHistory(scripts, salt));

const isTerminal = (e: StripeEvent): boolean => e.type === "customer.subscription.deleted" || e.type.includes("refund");

/**
 * A delivery of a history: every event at least once, in any order, with redeliveries inserted.
 * Besides uniform shuffles it favours the hard orders: newest first, and terminal events first.
 */
export const arbDelivery = (history: History): fc.Arbitrary<StripeEvent[]> => {
  const events = history.events;
  if (events.length === 0) return fc.constant([]);
  const shuffled = fc.shuffledSubarray([...events], { minLength: events.length, maxLength: events.length });
  const newestFirst = fc.constant([...events].reverse());
  const terminalFirst = fc
    .shuffledSubarray(events.filter((e) => !isTerminal(e)), { minLength: events.filter((e) => !isTerminal(e)).length })
    .map((rest) => [...events.filter(isTerminal), ...rest]);
  const base = fc.oneof({ arbitrary: shuffled, weight: 3 }, { arbitrary: newestFirst, weight: 1 }, { arbitrary: terminalFirst, weight: 1 });
  const redeliveries = fc.array(fc.tuple(fc.nat(events.length - 1), fc.nat()), { maxLength: Math.min(events.length, 8) });
  return fc.tuple(base, redeliveries).map(([order, extra]) => {
    const out = [...order];
    for (const [which, where] of extra) out.splice(where % (out.length + 1), 0, events[which]!);
    Object.defineProperty(out, fc.toStringMethod, { value: () => `Delivery(\n${describeEvents(out)}\n)`, enumerable: false });
    return out;
  });
};

/** A history together with one delivery of it. */
export const arbHistoryAndDelivery: fc.Arbitrary<{ history: History; delivered: StripeEvent[] }> = arbHistory.chain((history) =>
  arbDelivery(history).map((delivered) => ({ history, delivered })),
);
