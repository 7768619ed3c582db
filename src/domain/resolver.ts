// The resolver: a pure fold (state, fact) → (state, transitions). No clock, no IO, no randomness.
// Users are the connected components of identity keys: every key a fact names joins one user,
// except that two different app user ids are never joined (see "identity" below).
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
import { appUserKey, objectKey, parseKey, userIdFor, type IdentityKey } from "./identity.js";
import {
  initialState,
  ordersOf,
  subscriptionsOf,
  type Order,
  type OrderStatus,
  type RefundLedger,
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
//
// A fact's keys all name one user, so a fact joins the users that own them, except that two
// different app user ids are never one user (two app users may share one provider customer, e.g.
// a team's card). The rule, per fact:
//
// - No conflict (the owners of its keys and the app key it names carry at most one app user id):
//   the owners merge into the earliest created (a new user when none), which takes every key.
// - Conflict (two or more app user ids among them): the target user is
//   1. the owner of the fact's app key, if it names one (a new user when nobody owns it yet); else
//   2. the owner of its most specific owned object key: subscription, then checkout, invoice,
//      payment (keys of one kind in the fact's order); else
//   3. the owner of its first owned key.
//   Touched users without an app user id (or with the target's) merge into the target. Users with
//   another app user id keep what they own, so a shared customer key stays with its first owner.
//   Keys nobody owns go to the target (but an app key other than the target's app id goes nowhere).
//   Each key that stays with another user is recorded on the target as a transition
//   (entity "user", field "conflict", from = that user's id, to = the key).
//
// Everything here depends on the state and the fact only, so folding a user's events (all the
// events whose keys connect, including those of the other app users they share keys with) in
// canonical order gives the same users whatever the arrival order.
// Limitation: an object first seen through a shared key alone (a subscription event naming only
// the customer) goes to that key's owner and stays there when a later fact names another app user.

type Claim = { readonly state: State; readonly userId: string; readonly transitions: readonly Transition[] };

/** The app user id among keys: the value of the first app key. */
const appIdIn = (keys: readonly IdentityKey[]): string | null => {
  for (const key of keys) {
    const { kind, value } = parseKey(key);
    if (kind === "app") return value;
  }
  return null;
};

/** The app's user id a user is known by: the one revealed, else the one its keys name. */
const appIdOf = (user: User): string | null => user.appUserId ?? appIdIn(user.keys);

const byAge = (a: User, b: User): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const newUser = (firstKey: IdentityKey, ctx: Ctx): User => ({
  id: userIdFor(firstKey),
  appUserId: null,
  email: null,
  keys: [],
  createdAt: ctx.at,
  status: "inactive",
});

/** Merges `absorbed` into `survivor` (a new user when `created`) and gives it the keys `claimed`. */
const join = (state: State, survivor: User, created: boolean, absorbed: readonly User[], claimed: readonly IdentityKey[], ctx: Ctx): Claim => {
  const transitions: Transition[] = created ? change(ctx, survivor.id, "user", survivor.id, "created", null, claimed[0] ?? null) : [];
  let user = survivor;
  let subscriptions = state.subscriptions;
  let orders = state.orders;
  for (const other of absorbed) {
    const held = new Set(user.keys);
    user = {
      ...user,
      appUserId: user.appUserId ?? other.appUserId,
      email: user.email ?? other.email,
      keys: [...user.keys, ...other.keys.filter((k) => !held.has(k))],
    };
    subscriptions = reassign(subscriptions, other.id, user.id);
    orders = reassign(orders, other.id, user.id);
    transitions.push(...change(ctx, user.id, "user", user.id, "merged", other.id, user.id));
  }
  const held = new Set(user.keys);
  const fresh = claimed.filter((k) => !held.has(k));
  // The common case (one known user, no new key) changes nothing: the large maps are not copied.
  if (!created && absorbed.length === 0 && fresh.length === 0) return { state, userId: user.id, transitions };
  user = { ...user, keys: [...user.keys, ...fresh] };
  for (const k of fresh) {
    const { kind } = parseKey(k);
    if (kind === "app" || kind === "customer") transitions.push(...change(ctx, user.id, "user", user.id, "identity", null, k));
  }
  const users = { ...state.users };
  for (const other of absorbed) delete users[other.id];
  users[user.id] = user;
  const owners = { ...state.owners };
  for (const k of user.keys) if (owners[k] !== user.id) owners[k] = user.id;
  return { state: { ...state, users, owners, subscriptions, orders }, userId: user.id, transitions };
};

/** Object keys from most to least specific: the first one owned decides a conflict without app key. */
const SPECIFICITY = ["subscription", "checkout", "invoice", "payment"] as const;

/** Who a conflicting fact belongs to (rules 1–3 above); null for a new user of the fact's app key. */
const conflictTarget = (state: State, keys: readonly IdentityKey[], factApp: string | null): string | null => {
  if (factApp !== null) return state.owners[appUserKey(factApp)] ?? null;
  for (const kind of SPECIFICITY) {
    const key = keys.find((k) => parseKey(k).kind === kind && state.owners[k] !== undefined);
    if (key !== undefined) return state.owners[key]!;
  }
  return state.owners[keys.find((k) => state.owners[k] !== undefined)!]!;
};

/** Finds or makes the user a fact belongs to and gives it the fact's keys (see the rule above). */
const claimKeys = (state: State, keys: readonly IdentityKey[], ctx: Ctx): Claim => {
  const unique = [...new Set(keys)];
  const ownerIds = [...new Set(unique.map((k) => state.owners[k]).filter((o): o is string => o !== undefined))];
  const touched = ownerIds.map((id) => state.users[id]!);
  const factApp = appIdIn(unique);
  const appIds = new Set([...touched.map(appIdOf), factApp].filter((a): a is string => a !== null));
  if (appIds.size <= 1) {
    const [oldest, ...rest] = [...touched].sort(byAge);
    return oldest === undefined ? join(state, newUser(unique[0]!, ctx), true, [], unique, ctx) : join(state, oldest, false, rest, unique, ctx);
  }
  const targetId = conflictTarget(state, unique, factApp);
  const target = targetId === null ? newUser(appUserKey(factApp!), ctx) : state.users[targetId]!;
  const targetApp = appIdOf(target) ?? factApp;
  const joins = (u: User): boolean => appIdOf(u) === null || appIdOf(u) === targetApp;
  const others = touched.filter((u) => u.id !== target.id);
  const kept = new Set(others.filter((u) => !joins(u)).map((u) => u.id));
  const claimed = unique.filter((k) => {
    const owner = state.owners[k];
    if (owner !== undefined) return !kept.has(owner);
    const { kind, value } = parseKey(k);
    return kind !== "app" || value === targetApp;
  });
  // A new target is named by its app key (its id derives from it), so that key comes first.
  const ordered = targetId === null ? [appUserKey(factApp!), ...claimed.filter((k) => k !== appUserKey(factApp!))] : claimed;
  const joined = join(state, target, targetId === null, others.filter(joins).sort(byAge), ordered, ctx);
  const conflicts = unique.flatMap((k) => {
    const owner = state.owners[k];
    return owner !== undefined && kept.has(owner) ? change(ctx, target.id, "user", target.id, "conflict", owner, k) : [];
  });
  return { ...joined, transitions: [...joined.transitions, ...conflicts] };
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
    cancelAt: snap.cancelAt,
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
    ...change(ctx, userId, "subscription", id, "cancelAt", iso(before?.cancelAt ?? null), iso(after.cancelAt)),
  ];
  return { state: { ...state, subscriptions: { ...state.subscriptions, [id]: after } }, transitions };
};

// ── orders and refunds ──────────────────────────────────────────────────────────────────────

const emptyLedger: RefundLedger = { byId: {}, statedTotal: null, counted: {} };

/**
 * One refund fact folded into a payment reference's ledger. Amounts per refund id are replaced by
 * the latest (the normalizer gives a failed or canceled refund 0). A stated total replaces the
 * previous one, and records which refunds counted when it was stated: those known by id with an
 * amount above 0 after this fact (an event that lists its refunds states both at once).
 */
const foldLedger = (ledger: RefundLedger, fact: RefundIssued): RefundLedger => {
  const byId = { ...ledger.byId, ...fact.refunds };
  if (fact.totalRefunded === null) return { ...ledger, byId };
  const counted = Object.fromEntries(Object.entries(byId).filter(([, amount]) => amount > 0));
  return { byId, statedTotal: fact.totalRefunded, counted };
};

/**
 * The stated total less what refunds it counted have since given back: a refund counted at 500
 * that later failed (now 0) takes 500 out of it.
 * Limitation: a total stated before a refund was known by id cannot tell whether it included that
 * refund, so that refund's later failure does not lower it; only a newer stated total (or the
 * per-id sum, when it is larger) corrects it. In canonical order Stripe's refund.created comes
 * before the charge.refunded of the same second, so the usual case is covered.
 */
const adjustedStatedTotal = (ledger: RefundLedger): number | null => {
  if (ledger.statedTotal === null) return null;
  let total = ledger.statedTotal;
  for (const [id, amount] of Object.entries(ledger.counted)) total -= Math.max(amount - (ledger.byId[id] ?? amount), 0);
  return Math.max(total, 0);
};

/**
 * How much of a payment went back: the larger of the sum of the refunds known by id (over all
 * the order's payment references) and the adjusted stated total of any of them (the charge and its
 * payment intent carry the same totals; the larger covers a fact that named only one of them).
 * The caller caps it at the order amount.
 */
const refundedAmount = (state: State, refs: readonly string[]): number => {
  const ledgers = refs.map((r) => state.refunds[r]).filter((l) => l !== undefined);
  const byId: Record<string, number> = {};
  for (const l of ledgers) Object.assign(byId, l.byId);
  const summed = Object.values(byId).reduce((a, b) => a + b, 0);
  const stated = ledgers.map(adjustedStatedTotal).filter((t): t is number => t !== null);
  return Math.max(summed, ...stated, 0);
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

const applyCheckout = (state: State, userId: string, subject: string, fact: CheckoutCompleted, ctx: Ctx): Step => {
  const revealed = revealUser(state, userId, fact.appUserId, fact.email, ctx);
  if (fact.mode === "subscription") return revealed;
  const priceIds = fact.priceIds ?? revealed.state.checkoutItems[fact.checkoutId] ?? [];
  const placed = recordOrder(
    revealed.state,
    {
      id: `${fact.provider}:${fact.checkoutId}`,
      provider: fact.provider,
      providerId: fact.checkoutId,
      userId: subject,
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
  for (const ref of fact.paymentRefs) refunds[ref] = foldLedger(refunds[ref] ?? emptyLedger, fact);
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

/**
 * The key of the object a fact records (its subscription, one-time checkout or paid invoice), if any.
 * After an identity conflict that key may stay with another user than the one the fact was claimed
 * for; the object's row then stays with the user that owns its key, so nobody loses sight of it.
 */
const subjectKey = (fact: Fact): IdentityKey | null => {
  switch (fact._tag) {
    case "SubscriptionObserved":
    case "SubscriptionEnded":
      return objectKey("subscription", fact.provider, fact.subscriptionId);
    case "CheckoutCompleted":
      return fact.mode === "payment" ? objectKey("checkout", fact.provider, fact.checkoutId) : null;
    case "PaymentSucceeded":
      return objectKey("invoice", fact.provider, fact.paymentId);
    default:
      return null;
  }
};

/** `userId` is the user the fact was claimed for; `subject` the owner of the object it records. */
const applyFact = (state: State, userId: string, subject: string, fact: Fact, ctx: Ctx): Step => {
  switch (fact._tag) {
    case "CustomerSeen":
      return revealUser(state, userId, fact.appUserId, fact.email, ctx);
    case "CheckoutCompleted":
      return applyCheckout(state, userId, subject, fact, ctx);
    case "CheckoutItemsFetched":
      return applyCheckoutItems(state, fact, ctx);
    case "SubscriptionObserved":
    case "SubscriptionEnded": {
      const revealed = revealUser(state, userId, fact.appUserId, null, ctx);
      const applied = applySnapshot(revealed.state, subject, fact, ctx);
      return { state: applied.state, transitions: [...revealed.transitions, ...applied.transitions] };
    }
    case "PaymentSucceeded":
      return applyPayment(state, subject, fact, ctx);
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
    const key = subjectKey(fact);
    const subject = (key === null ? undefined : claimed.state.owners[key]) ?? claimed.userId;
    const applied = applyFact(claimed.state, claimed.userId, subject, fact, ctx);
    const derived = deriveUser(state, applied.state, claimed.userId, ctx);
    if (subject === claimed.userId) {
      return { state: derived.state, transitions: [...claimed.transitions, ...applied.transitions, ...derived.transitions] };
    }
    const other = deriveUser(state, derived.state, subject, ctx);
    return { state: other.state, transitions: [...claimed.transitions, ...applied.transitions, ...derived.transitions, ...other.transitions] };
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

