// The resolver: a pure fold (state, fact) → (state, transitions). No clock, no IO, no randomness.
// Users are the connected components of identity keys: every key a fact names joins one user.
import { planForPrices, type Catalog } from "./catalog.js";
import { canonicalOrder } from "./canonical-order.js";
import { grantedSources, grantsFor } from "./entitlements.js";
import type { NormalizedEvent } from "./event.js";
import type {
  CheckoutCompleted,
  CheckoutItemsFetched,
  Fact,
  PaymentFailed,
  PaymentLinked,
  PaymentSucceeded,
  RefundIssued,
  SubscriptionEnded,
  SubscriptionObserved,
} from "./facts.js";
import { parseKey, userIdFor, type IdentityKey } from "./identity.js";
import {
  initialState,
  ordersOf,
  subscriptionsOf,
  type Order,
  type OrderStatus,
  type State,
  type Subscription,
  type Transition,
  type User,
  type UserStatus,
} from "./state.js";

export type Step = { readonly state: State; readonly transitions: readonly Transition[] };

type Ctx = { readonly catalog: Catalog; readonly at: number; readonly cause: string };

const change = (
  ctx: Ctx,
  userId: string,
  entity: Transition["entity"],
  entityId: string,
  field: string,
  from: string | null,
  to: string | null,
): Transition[] => (from === to ? [] : [{ userId, entity, entityId, field, from, to, at: ctx.at, cause: ctx.cause }]);

const str = (v: number | boolean | null): string | null => (v === null ? null : String(v));
const iso = (v: number | null): string | null => (v === null ? null : new Date(v).toISOString());

// ── identity ────────────────────────────────────────────────────────────────────────────────

/** Merges the users that own any of `keys` into one (the earliest revealed) and gives it every key. */
const claimKeys = (state: State, keys: readonly IdentityKey[], ctx: Ctx): { state: State; userId: string; transitions: Transition[] } => {
  const ownerIds = [...new Set(keys.map((k) => state.owners[k]).filter((o): o is string => o !== undefined))];
  const existing = ownerIds.map((id) => state.users[id]!).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  const transitions: Transition[] = [];
  let survivor: User;
  let subscriptions = state.subscriptions;
  let orders = state.orders;
  if (existing.length === 0) {
    survivor = { id: userIdFor(keys[0]!), appUserId: null, email: null, keys: [], createdAt: ctx.at, status: "inactive" };
    transitions.push(...change(ctx, survivor.id, "user", survivor.id, "created", null, keys[0]!));
  } else {
    survivor = existing[0]!;
    for (const absorbed of existing.slice(1)) {
      const held = new Set(survivor.keys);
      survivor = {
        ...survivor,
        appUserId: survivor.appUserId ?? absorbed.appUserId,
        email: survivor.email ?? absorbed.email,
        keys: [...survivor.keys, ...absorbed.keys.filter((k) => !held.has(k))],
      };
      subscriptions = reassign(subscriptions, absorbed.id, survivor.id);
      orders = reassign(orders, absorbed.id, survivor.id);
      transitions.push(...change(ctx, survivor.id, "user", survivor.id, "merged", absorbed.id, survivor.id));
    }
  }
  const held = new Set(survivor.keys);
  const fresh = [...new Set(keys)].filter((k) => !held.has(k));
  // The common case (one known user, no new key) changes nothing: the large maps are not copied.
  if (existing.length === 1 && fresh.length === 0) return { state, userId: survivor.id, transitions };
  survivor = { ...survivor, keys: [...survivor.keys, ...fresh] };
  for (const k of fresh) {
    const { kind } = parseKey(k);
    if (kind === "app" || kind === "customer") transitions.push(...change(ctx, survivor.id, "user", survivor.id, "identity", null, k));
  }
  const users = { ...state.users };
  for (const absorbed of existing.slice(1)) delete users[absorbed.id];
  users[survivor.id] = survivor;
  const owners = { ...state.owners };
  for (const k of survivor.keys) if (owners[k] !== survivor.id) owners[k] = survivor.id;
  return { state: { ...state, users, owners, subscriptions, orders }, userId: survivor.id, transitions };
};

const reassign = <T extends { readonly userId: string }>(rows: Readonly<Record<string, T>>, from: string, to: string) =>
  Object.fromEntries(Object.entries(rows).map(([id, row]) => [id, row.userId === from ? { ...row, userId: to } : row]));

const revealUser = (state: State, userId: string, appUserId: string | null, email: string | null, ctx: Ctx): Step => {
  const user = state.users[userId]!;
  const next: User = { ...user, appUserId: user.appUserId ?? appUserId, email: email ?? user.email };
  if (next.appUserId === user.appUserId && next.email === user.email) return { state, transitions: [] };
  const transitions = [
    ...change(ctx, userId, "user", userId, "appUserId", user.appUserId, next.appUserId),
    ...change(ctx, userId, "user", userId, "email", user.email, next.email),
  ];
  return { state: { ...state, users: { ...state.users, [userId]: next } }, transitions };
};

// ── subscriptions ───────────────────────────────────────────────────────────────────────────

const applySnapshot = (state: State, userId: string, fact: SubscriptionObserved | SubscriptionEnded, ctx: Ctx): Step => {
  const id = `${fact.provider}:${fact.subscriptionId}`;
  const before = state.subscriptions[id];
  if (before?.ended && fact._tag === "SubscriptionObserved") {
    return { state, transitions: change(ctx, userId, "subscription", id, "anomaly", null, "update_after_end") };
  }
  const snap = fact.snapshot;
  const ended = fact._tag === "SubscriptionEnded";
  const status = ended ? "canceled" : snap.status;
  const after: Subscription = {
    id,
    provider: fact.provider,
    providerId: fact.subscriptionId,
    userId,
    plan: planForPrices(ctx.catalog, fact.provider, snap.priceIds),
    priceIds: snap.priceIds,
    status,
    providerStatus: snap.providerStatus,
    currentPeriodStart: snap.currentPeriodStart,
    currentPeriodEnd: snap.currentPeriodEnd,
    cancelAtPeriodEnd: snap.cancelAtPeriodEnd,
    canceledAt: snap.canceledAt ?? (ended ? fact.at : null),
    startedAt: snap.startedAt ?? before?.startedAt ?? null,
    endedAt: snap.endedAt ?? (ended ? fact.at : null),
    trialStart: snap.trialStart,
    trialEnd: snap.trialEnd,
    pastDueSince: status === "past_due" ? (before?.status === "past_due" ? before.pastDueSince : fact.at) : null,
    ended: ended || (before?.ended ?? false),
    updatedAt: fact.at,
  };
  const transitions = [
    ...change(ctx, userId, "subscription", id, "status", before?.status ?? null, after.status),
    ...change(ctx, userId, "subscription", id, "plan", before?.plan ?? null, after.plan),
    ...change(ctx, userId, "subscription", id, "cancelAtPeriodEnd", str(before?.cancelAtPeriodEnd ?? null), str(after.cancelAtPeriodEnd)),
    ...change(ctx, userId, "subscription", id, "currentPeriodEnd", iso(before?.currentPeriodEnd ?? null), iso(after.currentPeriodEnd)),
  ];
  return { state: { ...state, subscriptions: { ...state.subscriptions, [id]: after } }, transitions };
};

// ── orders and refunds ──────────────────────────────────────────────────────────────────────

const refundedAmount = (state: State, refs: readonly string[]): number => {
  const ledgers = refs.map((r) => state.refunds[r]).filter((l) => l !== undefined);
  const byId: Record<string, number> = {};
  for (const l of ledgers) Object.assign(byId, l.byId);
  const summed = Object.values(byId).reduce((a, b) => a + b, 0);
  return Math.max(summed, ...ledgers.map((l) => l.statedTotal), 0);
};

const orderStatus = (amount: number, refunded: number, paid: boolean): OrderStatus =>
  !paid ? "pending" : refunded <= 0 ? "paid" : refunded >= amount ? "refunded" : "partially_refunded";

/** Recomputes refunds on an order and reports its status change. */
const settleOrder = (state: State, order: Order, before: Order | undefined, ctx: Ctx): Step => {
  const amountRefunded = Math.min(refundedAmount(state, order.paymentRefs), order.amount);
  const status = orderStatus(order.amount, amountRefunded, order.status !== "pending");
  const after = { ...order, amountRefunded, status };
  return {
    state: { ...state, orders: { ...state.orders, [order.id]: after } },
    transitions: [
      ...change(ctx, order.userId, "order", order.id, "status", before?.status ?? null, after.status),
      ...change(ctx, order.userId, "order", order.id, "plan", before?.plan ?? null, after.plan),
    ],
  };
};

const recordOrder = (state: State, placed: Order, ctx: Ctx): Step => {
  const before = state.orders[placed.id];
  const order = { ...placed, paymentRefs: [...new Set([...placed.paymentRefs, ...(state.paymentLinks[placed.id] ?? [])])] };
  const merged: Order = before
    ? { ...order, paymentRefs: [...new Set([...before.paymentRefs, ...order.paymentRefs])], status: before.status === "pending" ? order.status : before.status }
    : order;
  return settleOrder(state, merged, before, ctx);
};

const applyCheckout = (state: State, userId: string, fact: CheckoutCompleted, ctx: Ctx): Step => {
  const revealed = revealUser(state, userId, fact.appUserId, fact.email, ctx);
  if (fact.mode === "subscription") return revealed;
  const priceIds = fact.priceIds ?? revealed.state.checkoutItems[fact.checkoutId] ?? [];
  const placed = recordOrder(
    revealed.state,
    {
      id: `${fact.provider}:${fact.checkoutId}`,
      provider: fact.provider,
      providerId: fact.checkoutId,
      userId,
      kind: "one_time",
      plan: planForPrices(ctx.catalog, fact.provider, priceIds),
      priceIds,
      subscriptionId: null,
      amount: fact.amount,
      amountRefunded: 0,
      currency: fact.currency,
      status: fact.paid ? "paid" : "pending",
      paidAt: fact.at,
      paymentRefs: fact.paymentRefs,
    },
    ctx,
  );
  return { state: placed.state, transitions: [...revealed.transitions, ...placed.transitions] };
};

const applyCheckoutItems = (state: State, fact: CheckoutItemsFetched, ctx: Ctx): Step => {
  const withItems = { ...state, checkoutItems: { ...state.checkoutItems, [fact.checkoutId]: fact.priceIds } };
  const order = withItems.orders[`${fact.provider}:${fact.checkoutId}`];
  if (!order || order.priceIds.length > 0) return { state: withItems, transitions: [] };
  const updated = { ...order, priceIds: fact.priceIds, plan: planForPrices(ctx.catalog, fact.provider, fact.priceIds) };
  return settleOrder(withItems, updated, order, ctx);
};

const applyPayment = (state: State, userId: string, fact: PaymentSucceeded, ctx: Ctx): Step =>
  recordOrder(
    state,
    {
      id: `${fact.provider}:${fact.paymentId}`,
      provider: fact.provider,
      providerId: fact.paymentId,
      userId,
      kind: fact.subscriptionId === null ? "one_time" : "subscription",
      plan: planForPrices(ctx.catalog, fact.provider, fact.priceIds),
      priceIds: fact.priceIds,
      subscriptionId: fact.subscriptionId === null ? null : `${fact.provider}:${fact.subscriptionId}`,
      amount: fact.amount,
      amountRefunded: 0,
      currency: fact.currency,
      status: "paid",
      paidAt: fact.at,
      paymentRefs: fact.paymentRefs,
    },
    ctx,
  );

const applyPaymentFailed = (_state: State, userId: string, fact: PaymentFailed, ctx: Ctx): Step => ({
  state: _state,
  transitions: change(ctx, userId, "payment", `${fact.provider}:${fact.paymentId}`, "status", null, "failed"),
});

const applyPaymentLinked = (state: State, fact: PaymentLinked, ctx: Ctx): Step => {
  const id = `${fact.provider}:${fact.paymentId}`;
  const paymentLinks = { ...state.paymentLinks, [id]: [...new Set([...(state.paymentLinks[id] ?? []), ...fact.paymentRefs])] };
  const linked = { ...state, paymentLinks };
  const order = linked.orders[id];
  if (!order) return { state: linked, transitions: [] };
  return settleOrder(linked, { ...order, paymentRefs: [...new Set([...order.paymentRefs, ...fact.paymentRefs])] }, order, ctx);
};

const applyRefund = (state: State, userId: string, fact: RefundIssued, ctx: Ctx): Step => {
  const refunds = { ...state.refunds };
  for (const ref of fact.paymentRefs) {
    const ledger = refunds[ref] ?? { byId: {}, statedTotal: 0 };
    refunds[ref] = { byId: { ...ledger.byId, ...fact.refunds }, statedTotal: Math.max(ledger.statedTotal, fact.totalRefunded ?? 0) };
  }
  let next: Step = { state: { ...state, refunds }, transitions: [] };
  // The refund names payment keys, so the orders it can touch belong to the user it was claimed by.
  const touched = ordersOf(state, userId).filter((o) => o.paymentRefs.some((r) => fact.paymentRefs.includes(r)));
  for (const order of touched) {
    const step = settleOrder(next.state, next.state.orders[order.id]!, order, ctx);
    next = { state: step.state, transitions: [...next.transitions, ...step.transitions] };
  }
  return next;
};

// ── derived per-user values ─────────────────────────────────────────────────────────────────

const userGrants = (state: State, userId: string, catalog: Catalog) =>
  state.users[userId] ? grantsFor(userId, subscriptionsOf(state, userId), ordersOf(state, userId), catalog) : [];

/** Active while anything grants features or a subscription is not canceled. */
const userStatus = (state: State, userId: string, grants: readonly unknown[]): UserStatus =>
  grants.length > 0 || subscriptionsOf(state, userId).some((s) => s.status !== "canceled") ? "active" : "inactive";

/** Reports changes of status and of granted features between two states of one user. */
const deriveUser = (before: State, after: State, userId: string, ctx: Ctx): Step => {
  const grantsNow = userGrants(after, userId, ctx.catalog);
  const was = grantedSources(userGrants(before, userId, ctx.catalog));
  const now = grantedSources(grantsNow);
  const features = [...new Set([...Object.keys(was), ...Object.keys(now)])].sort();
  const user = after.users[userId]!;
  const status = userStatus(after, userId, grantsNow);
  const transitions = [
    ...change(ctx, userId, "user", userId, "status", before.users[userId]?.status ?? null, status),
    ...features.flatMap((f) => change(ctx, userId, "entitlement", `${userId}:${f}`, "source", was[f] ?? null, now[f] ?? null)),
  ];
  const state = user.status === status ? after : { ...after, users: { ...after.users, [userId]: { ...user, status } } };
  return { state, transitions };
};

// ── the fold ────────────────────────────────────────────────────────────────────────────────

const applyFact = (state: State, userId: string, fact: Fact, ctx: Ctx): Step => {
  switch (fact._tag) {
    case "CustomerSeen":
      return revealUser(state, userId, fact.appUserId, fact.email, ctx);
    case "CheckoutCompleted":
      return applyCheckout(state, userId, fact, ctx);
    case "CheckoutItemsFetched":
      return applyCheckoutItems(state, fact, ctx);
    case "SubscriptionObserved":
    case "SubscriptionEnded": {
      const revealed = revealUser(state, userId, fact.appUserId, null, ctx);
      const applied = applySnapshot(revealed.state, userId, fact, ctx);
      return { state: applied.state, transitions: [...revealed.transitions, ...applied.transitions] };
    }
    case "PaymentSucceeded":
      return applyPayment(state, userId, fact, ctx);
    case "PaymentFailed":
      return applyPaymentFailed(state, userId, fact, ctx);
    case "PaymentLinked":
      return applyPaymentLinked(state, fact, ctx);
    case "RefundIssued":
      return applyRefund(state, userId, fact, ctx);
    default: {
      const unreachable: never = fact;
      return unreachable;
    }
  }
};

/** One step of the fold. A fact that names no identity cannot belong to a user and changes nothing. */
export const evolve =
  (catalog: Catalog) =>
  (state: State, fact: Fact): Step => {
    if (fact.keys.length === 0) return { state, transitions: [] };
    const ctx: Ctx = { catalog, at: fact.at, cause: fact.cause };
    const claimed = claimKeys(state, fact.keys, ctx);
    const applied = applyFact(claimed.state, claimed.userId, fact, ctx);
    const derived = deriveUser(state, applied.state, claimed.userId, ctx);
    return { state: derived.state, transitions: [...claimed.transitions, ...applied.transitions, ...derived.transitions] };
  };

/** Folds facts in the order given. */
export const foldFacts = (catalog: Catalog, state: State, facts: readonly Fact[]): Step => {
  const step = evolve(catalog);
  let current = state;
  const transitions: Transition[] = [];
  for (const fact of facts) {
    const next = step(current, fact);
    current = next.state;
    transitions.push(...next.transitions);
  }
  return { state: current, transitions };
};

/** Folds a set of events: deduplicated, put in canonical order, then folded from `state`. */
export const replayEvents = (catalog: Catalog, events: readonly NormalizedEvent[], state: State = initialState()): Step =>
  foldFacts(catalog, state, canonicalOrder(events).flatMap((e) => e.facts));

