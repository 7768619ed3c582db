// The resolver's state: users, subscriptions, orders and what refunds touched, all plain readonly
// data keyed by stable ids. Credits and usage have their place here, filled by later work.
import type { IdentityKey } from "./identity.js";
import type { Provider } from "./provider.js";
import type { SubscriptionSnapshot } from "./facts.js";
import type { Instant } from "./time.js";

export type UserStatus = "active" | "inactive" | "blocked";

export type User = {
  readonly id: string;
  readonly appUserId: string | null;
  readonly email: string | null;
  /** In the order they were revealed. */
  readonly keys: readonly IdentityKey[];
  readonly createdAt: Instant;
  readonly status: UserStatus;
};

/** A subscription is the latest snapshot its provider sent, with what Verity derives beside it. */
export type Subscription = SubscriptionSnapshot & {
  readonly id: string;
  readonly provider: Provider;
  readonly providerId: string;
  readonly userId: string;
  readonly plan: string | null;
  readonly pastDueSince: Instant | null;
  /** A deletion or expiry was seen: nothing later revives it. */
  readonly ended: boolean;
  readonly updatedAt: Instant;
};

export type OrderStatus = "pending" | "paid" | "partially_refunded" | "refunded";

export type Order = {
  readonly id: string;
  readonly provider: Provider;
  readonly providerId: string;
  readonly userId: string;
  readonly kind: "one_time" | "subscription";
  readonly plan: string | null;
  readonly priceIds: readonly string[];
  readonly subscriptionId: string | null;
  readonly amount: number;
  readonly amountRefunded: number;
  readonly currency: string;
  readonly status: OrderStatus;
  readonly paidAt: Instant;
  /** Charge / payment ids by which refunds find this order. */
  readonly paymentRefs: readonly string[];
};

/**
 * Refunds seen per payment reference, as of the latest fact in canonical order:
 * - `byId`: each refund's latest amount (a failed or canceled refund is 0);
 * - `statedTotal`: the latest cumulative total the provider stated (not the largest ever seen: a
 *   total can go down when a refund fails), or null when none was stated;
 * - `counted`: the refunds (id → amount) known to count (amount > 0) when that total was stated,
 *   so a later failure of one of them can be taken back out of it.
 * See refundedAmount in resolver.ts for how they combine.
 */
export type RefundLedger = {
  readonly byId: Readonly<Record<string, number>>;
  readonly statedTotal: number | null;
  readonly counted: Readonly<Record<string, number>>;
};

export type State = {
  readonly users: Readonly<Record<string, User>>;
  readonly owners: Readonly<Record<IdentityKey, string>>;
  readonly subscriptions: Readonly<Record<string, Subscription>>;
  readonly orders: Readonly<Record<string, Order>>;
  /** By `${provider}:${payment reference}`. */
  readonly refunds: Readonly<Record<string, RefundLedger>>;
  /** Payment references learned apart from the order they belong to (order id → refs). */
  readonly paymentLinks: Readonly<Record<string, readonly string[]>>;
  /** Fetched line items by `${provider}:${checkout id}`. */
  readonly checkoutItems: Readonly<Record<string, readonly string[]>>;
  /** Credit balances and usage counters: filled by the credits and usage facts of later issues. */
  readonly credits: Readonly<Record<string, never>>;
  readonly usage: Readonly<Record<string, never>>;
};

export const initialState = (): State => ({
  users: {},
  owners: {},
  subscriptions: {},
  orders: {},
  refunds: {},
  paymentLinks: {},
  checkoutItems: {},
  credits: {},
  usage: {},
});

export type TransitionEntity = "user" | "subscription" | "order" | "entitlement" | "payment";

export type Transition = {
  readonly userId: string;
  readonly entity: TransitionEntity;
  readonly entityId: string;
  readonly field: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly at: Instant;
  readonly cause: string;
};

/**
 * A user's subscriptions and orders, found through the keys that name them, so the cost follows
 * the user's size, not the state's. Facts that create one name its key (subscription:…, invoice:…
 * for a paid invoice or transaction, checkout:… for a one-time checkout); the record's id is the
 * key without its kind (`${provider}:${value}`). Called several times per fact, so it compares
 * prefixes rather than parsing every key.
 */
const recordsOf = <T extends { readonly userId: string }>(state: State, userId: string, records: Readonly<Record<string, T>>, kinds: readonly string[]): T[] => {
  const found: T[] = [];
  for (const key of state.users[userId]?.keys ?? []) {
    for (const kind of kinds) {
      if (!key.startsWith(kind)) continue;
      const record = records[key.slice(kind.length)];
      if (record !== undefined && record.userId === userId) found.push(record);
      break;
    }
  }
  return found;
};

const SUBSCRIPTION_KINDS = ["subscription:"] as const;
const ORDER_KINDS = ["invoice:", "checkout:"] as const;

export const subscriptionsOf = (state: State, userId: string): Subscription[] => recordsOf(state, userId, state.subscriptions, SUBSCRIPTION_KINDS);

export const ordersOf = (state: State, userId: string): Order[] => recordsOf(state, userId, state.orders, ORDER_KINDS);
