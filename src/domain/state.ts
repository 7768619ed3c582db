// The resolver's state: users, subscriptions, orders and what refunds touched, readonly records
// keyed by stable ids in persistent tables (a step that writes one record shares the rest).
// Each table belongs to one view of the fold (src/domain/resolver/); a new family of facts adds
// its own tables here beside the view that folds them.
import type { IdentityKey } from "./identity.js";
import type { Provider } from "./provider.js";
import type { SubscriptionSnapshot } from "./facts.js";
import { Table } from "./table.js";
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
  /**
   * Which plan grants each feature, as the derivation left it after the user's last fact: the
   * before-value of the next one, kept like `status` so it is a lookup, not a walk over everything
   * the user owns. Absent in states saved before it was kept (then derived from the records).
   */
  readonly sources?: Readonly<Record<string, string>>;
  /**
   * The keys of the user's records that can grant (its subscriptions, its orders with a plan),
   * sorted, among its first `scanned` keys: the derivation visits these, the keys revealed since
   * and the fact's own, not every record the user owns (a usage-heavy user owns thousands of
   * orders that grant nothing). Absent in states saved before it was kept (then every key is visited).
   */
  readonly granting?: GrantingIndex;
};

export type GrantingIndex = { readonly scanned: number; readonly keys: readonly IdentityKey[] };

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
 * See refundedAmount in resolver/orders.ts for how they combine.
 */
export type RefundLedger = {
  readonly byId: Readonly<Record<string, number>>;
  readonly statedTotal: number | null;
  readonly counted: Readonly<Record<string, number>>;
};

export type State = {
  /** Identity view: users by id, and the user each identity key belongs to. */
  readonly users: Table<User>;
  readonly owners: Table<string>;
  /** Subscriptions view. */
  readonly subscriptions: Table<Subscription>;
  /** Orders view: orders by id, refund ledgers by `${provider}:${payment reference}`, payment
   *  references learned apart from their order (order id → refs), fetched line items by
   *  `${provider}:${checkout id}`. */
  readonly orders: Table<Order>;
  readonly refunds: Table<RefundLedger>;
  readonly paymentLinks: Table<readonly string[]>;
  readonly checkoutItems: Table<readonly string[]>;
};

const TABLES = ["users", "owners", "subscriptions", "orders", "refunds", "paymentLinks", "checkoutItems"] as const satisfies readonly (keyof State)[];

export const initialState = (): State => ({
  users: Table.empty(),
  owners: Table.empty(),
  subscriptions: Table.empty(),
  orders: Table.empty(),
  refunds: Table.empty(),
  paymentLinks: Table.empty(),
  checkoutItems: Table.empty(),
});

/** The state with every table transient (written in place, for one fold: see Table.transient). */
export const transientState = (state: State): State => Object.fromEntries(TABLES.map((t) => [t, state[t].transient()])) as unknown as State;

/** The state with every table persistent again. */
export const persistentState = (state: State): State => Object.fromEntries(TABLES.map((t) => [t, state[t].persistent()])) as unknown as State;

/** The state as plain records, keys sorted: what JSON.stringify(state) writes and reads back. */
export type StateRecords = { readonly [K in keyof State]: State[K] extends Table<infer V> ? Readonly<Record<string, V>> : never };

export const stateRecords = (state: State): StateRecords =>
  Object.fromEntries(TABLES.map((t) => [t, state[t].toRecord()])) as unknown as StateRecords;

/** A state saved as JSON (tables missing from an older save start empty; fields no longer kept are ignored). */
export const stateFromRecords = (records: Partial<Record<keyof State, Readonly<Record<string, unknown>>>>): State =>
  Object.fromEntries(TABLES.map((t) => [t, Table.fromRecord(records[t] ?? {})])) as unknown as State;

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
 * key without its kind (`${provider}:${value}`). Compares prefixes rather than parsing every key.
 */
const recordsOf = <T extends { readonly userId: string }>(state: State, userId: string, keys: readonly IdentityKey[], records: Table<T>, kinds: readonly string[]): T[] => {
  const found: T[] = [];
  for (const key of keys) {
    for (const kind of kinds) {
      if (!key.startsWith(kind)) continue;
      const record = records.get(key.slice(kind.length));
      if (record !== undefined && record.userId === userId) found.push(record);
      break;
    }
  }
  return found;
};

const SUBSCRIPTION_KINDS = ["subscription:"] as const;
const ORDER_KINDS = ["invoice:", "checkout:"] as const;

const keysOf = (state: State, userId: string): readonly IdentityKey[] => state.users.get(userId)?.keys ?? [];

export const subscriptionsOf = (state: State, userId: string): Subscription[] => recordsOf(state, userId, keysOf(state, userId), state.subscriptions, SUBSCRIPTION_KINDS);

export const ordersOf = (state: State, userId: string): Order[] => recordsOf(state, userId, keysOf(state, userId), state.orders, ORDER_KINDS);

/** The record `key` names when it is `userId`'s and can grant (a subscription, or an order with a plan), else null. */
export const grantingRecordAt = (state: State, userId: string, key: IdentityKey): { readonly subscription: Subscription } | { readonly order: Order } | null => {
  if (key.startsWith(SUBSCRIPTION_KINDS[0])) {
    const subscription = state.subscriptions.get(key.slice(SUBSCRIPTION_KINDS[0].length));
    return subscription !== undefined && subscription.userId === userId ? { subscription } : null;
  }
  for (const kind of ORDER_KINDS) {
    if (!key.startsWith(kind)) continue;
    const order = state.orders.get(key.slice(kind.length));
    return order !== undefined && order.userId === userId && order.plan !== null ? { order } : null;
  }
  return null;
};

export type GrantingRecords = { readonly subscriptions: Subscription[]; readonly orders: Order[] };

/** The user's subscriptions and orders with a plan among the records `keys` name. */
export const recordsNamed = (state: State, userId: string, keys: readonly IdentityKey[]): GrantingRecords => {
  const subscriptions: Subscription[] = [];
  const orders: Order[] = [];
  for (const key of keys) {
    const found = grantingRecordAt(state, userId, key);
    if (found === null) continue;
    if ("subscription" in found) subscriptions.push(found.subscription);
    else orders.push(found.order);
  }
  return { subscriptions, orders };
};

/**
 * A user's subscriptions and the orders that can grant: what its entitlements and status derive
 * from. Through its granting index when that is current (see User.granting), else every key.
 */
export const grantingRecordsOf = (state: State, userId: string): GrantingRecords => {
  const user = state.users.get(userId);
  return recordsNamed(state, userId, user?.granting !== undefined && user.granting.scanned === user.keys.length ? user.granting.keys : (user?.keys ?? []));
};
