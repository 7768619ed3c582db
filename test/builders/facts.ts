// Canonical facts, as the normalizers emit them, for specs of the resolver in Verity's own words.
// Every builder takes the ids that matter and fills the rest; the keys a fact names are the ones
// a normalizer would derive from those ids.
import type {
  CheckoutCompleted,
  CheckoutItemsFetched,
  CustomerSeen,
  PaymentFailed,
  PaymentLinked,
  PaymentSucceeded,
  RefundIssued,
  SubscriptionEnded,
  SubscriptionObserved,
  SubscriptionSnapshot,
} from "../../src/domain/facts.js";
import { appUserKey, customerKey, objectKey, type IdentityKey } from "../../src/domain/identity.js";
import type { Provider } from "../../src/domain/provider.js";
import type { Instant } from "../../src/domain/time.js";

export const DAY = 86_400_000;
/** 2024-06-01T00:00:00Z. */
export const T0: Instant = Date.UTC(2024, 5, 1);

let serial = 0;
/** Each fact its own cause unless one is given (an event with several facts shares one). */
const nextCause = (provider: Provider): string => `${provider}:evt_${++serial}`;

type Common = { readonly at?: Instant; readonly cause?: string; readonly provider?: Provider };

const base = (c: Common, keys: readonly (IdentityKey | null)[]) => {
  const provider = c.provider ?? "stripe";
  return { at: c.at ?? T0, cause: c.cause ?? nextCause(provider), provider, keys: [...new Set(keys.filter((k): k is IdentityKey => k !== null))] };
};

const customer = (provider: Provider, id: string | null | undefined) => (id ? customerKey(provider, id) : null);
const app = (id: string | null | undefined) => (id ? appUserKey(id) : null);

export const customerSeen = (c: Common & { customer: string; appUserId?: string | null; email?: string | null }): CustomerSeen => {
  const b = base(c, [customer(c.provider ?? "stripe", c.customer), app(c.appUserId)]);
  return { _tag: "CustomerSeen", ...b, customerId: c.customer, appUserId: c.appUserId ?? null, email: c.email ?? null };
};

export const snapshot = (s: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot => ({
  status: "active",
  providerStatus: s.status ?? "active",
  priceIds: ["price_pro_monthly"],
  currentPeriodStart: T0,
  currentPeriodEnd: T0 + 30 * DAY,
  cancelAtPeriodEnd: false,
  cancelAt: null,
  canceledAt: null,
  startedAt: T0,
  endedAt: null,
  trialStart: null,
  trialEnd: null,
  ...s,
});

type SubscriptionInput = Common & { subscription: string; customer?: string | null; appUserId?: string | null; snapshot?: Partial<SubscriptionSnapshot> };

const subscriptionBase = (c: SubscriptionInput) => {
  const provider = c.provider ?? "stripe";
  return {
    ...base(c, [objectKey("subscription", provider, c.subscription), customer(provider, c.customer), app(c.appUserId)]),
    subscriptionId: c.subscription,
    customerId: c.customer ?? null,
    appUserId: c.appUserId ?? null,
    snapshot: snapshot(c.snapshot),
  };
};

export const subscriptionObserved = (c: SubscriptionInput): SubscriptionObserved => ({ _tag: "SubscriptionObserved", ...subscriptionBase(c) });

export const subscriptionEnded = (c: SubscriptionInput): SubscriptionEnded => ({
  _tag: "SubscriptionEnded",
  ...subscriptionBase({ ...c, snapshot: { status: "canceled", providerStatus: "canceled", ...c.snapshot } }),
});

export const checkoutCompleted = (
  c: Common & {
    checkout: string;
    mode?: "subscription" | "payment";
    customer?: string | null;
    appUserId?: string | null;
    email?: string | null;
    subscription?: string | null;
    priceIds?: readonly string[] | null;
    amount?: number;
    paid?: boolean;
    paymentRefs?: readonly string[];
  },
): CheckoutCompleted => {
  const provider = c.provider ?? "stripe";
  const mode = c.mode ?? "payment";
  const paymentRefs = c.paymentRefs ?? [];
  return {
    _tag: "CheckoutCompleted",
    ...base(c, [
      objectKey("checkout", provider, c.checkout),
      customer(provider, c.customer),
      app(c.appUserId),
      c.subscription ? objectKey("subscription", provider, c.subscription) : null,
      ...paymentRefs.map((r) => objectKey("payment", provider, r)),
    ]),
    checkoutId: c.checkout,
    mode,
    customerId: c.customer ?? null,
    appUserId: c.appUserId ?? null,
    email: c.email ?? null,
    subscriptionId: c.subscription ?? null,
    priceIds: c.priceIds === undefined ? ["price_lifetime"] : c.priceIds,
    amount: c.amount ?? 19900,
    currency: "usd",
    paid: c.paid ?? true,
    paymentRefs,
  };
};

export const checkoutItemsFetched = (c: Common & { checkout: string; priceIds: readonly string[] }): CheckoutItemsFetched => ({
  _tag: "CheckoutItemsFetched",
  ...base(c, [objectKey("checkout", c.provider ?? "stripe", c.checkout)]),
  checkoutId: c.checkout,
  priceIds: c.priceIds,
});

export const paymentSucceeded = (
  c: Common & { payment: string; customer?: string | null; subscription?: string | null; priceIds?: readonly string[]; amount?: number; paymentRefs?: readonly string[] },
): PaymentSucceeded => {
  const provider = c.provider ?? "stripe";
  const paymentRefs = c.paymentRefs ?? [];
  return {
    _tag: "PaymentSucceeded",
    ...base(c, [
      objectKey("invoice", provider, c.payment),
      customer(provider, c.customer),
      c.subscription ? objectKey("subscription", provider, c.subscription) : null,
      ...paymentRefs.map((r) => objectKey("payment", provider, r)),
    ]),
    paymentId: c.payment,
    customerId: c.customer ?? null,
    subscriptionId: c.subscription ?? null,
    reason: c.subscription ? "subscription_cycle" : "one_time",
    amount: c.amount ?? 1900,
    currency: "usd",
    priceIds: c.priceIds ?? ["price_pro_monthly"],
    paymentRefs,
  };
};

export const paymentFailed = (c: Common & { payment: string; customer?: string | null; subscription?: string | null }): PaymentFailed => {
  const provider = c.provider ?? "stripe";
  return {
    _tag: "PaymentFailed",
    ...base(c, [objectKey("invoice", provider, c.payment), customer(provider, c.customer), c.subscription ? objectKey("subscription", provider, c.subscription) : null]),
    paymentId: c.payment,
    customerId: c.customer ?? null,
    subscriptionId: c.subscription ?? null,
    amount: 1900,
    currency: "usd",
  };
};

export const paymentLinked = (c: Common & { payment: string; paymentRefs: readonly string[] }): PaymentLinked => {
  const provider = c.provider ?? "stripe";
  return {
    _tag: "PaymentLinked",
    ...base(c, [objectKey("invoice", provider, c.payment), ...c.paymentRefs.map((r) => objectKey("payment", provider, r))]),
    paymentId: c.payment,
    paymentRefs: c.paymentRefs,
  };
};

export const refundIssued = (c: Common & { paymentRefs: readonly string[]; refunds?: Readonly<Record<string, number>>; totalRefunded?: number | null }): RefundIssued => {
  const provider = c.provider ?? "stripe";
  return {
    _tag: "RefundIssued",
    ...base(c, c.paymentRefs.map((r) => objectKey("payment", provider, r))),
    paymentRefs: c.paymentRefs,
    refunds: c.refunds ?? {},
    totalRefunded: c.totalRefunded ?? null,
    currency: "usd",
  };
};
