// The resolver: a pure fold (state, fact) → (state, transitions). No clock, no IO, no randomness.
// Users are the connected components of identity keys: every key a fact names joins one user,
// except that two different app user ids are never joined (see "identity" below).
//
// Cost: a fold copies each record of the state once into a draft and then writes facts into it in
// place, so a fact costs what the users it touches hold, not what the state holds (replaying
// millions of events stays linear). The values inside the records (users, rows, ledgers, arrays)
// are shared with the caller's state, so they are replaced, never changed.
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
import type { Provider } from "./provider.js";
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

/** The fold's working copy of a state: the same records, writable. */
type Draft = { -readonly [K in keyof State]: { -readonly [Id in keyof State[K]]: State[K][Id] } };

/** One shallow copy of each record (the caller's state is never written), in the state's field order. */
const draftOf = (state: State): Draft => {
  const records: Draft = {
    users: { ...state.users },
    owners: { ...state.owners },
    subscriptions: { ...state.subscriptions },
    orders: { ...state.orders },
    refunds: { ...state.refunds },
    paymentLinks: { ...state.paymentLinks },
    checkoutItems: { ...state.checkoutItems },
    credits: { ...state.credits },
    usage: { ...state.usage },
  };
  return { ...state, ...records };
};

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

/** How a fact's keys are claimed, decided from the state before anything is written. */
type ClaimPlan = {
  /** The user the fact belongs to, as it was before the fact (a new one when `created`). */
  readonly survivor: User;
  readonly created: boolean;
  /** Users merged into the survivor, oldest first. */
  readonly absorbed: readonly User[];
  readonly claimed: readonly IdentityKey[];
  /** Keys that stay with another app user, reported on the survivor after the join. */
  readonly conflicts: readonly Transition[];
};

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

/**
 * Moves an absorbed user's subscriptions and orders to `to`. They are found through its keys, as
 * subscriptionsOf / ordersOf find them (a fact that creates a row names its key), not by a scan.
 */
const reassign = (d: Draft, from: User, to: string): void => {
  for (const key of from.keys) {
    const { kind, provider, value } = parseKey(key);
    const id = `${provider}:${value}`;
    const sub = kind === "subscription" ? d.subscriptions[id] : undefined;
    if (sub !== undefined && sub.userId === from.id) d.subscriptions[id] = { ...sub, userId: to };
    const order = kind === "invoice" || kind === "checkout" ? d.orders[id] : undefined;
    if (order !== undefined && order.userId === from.id) d.orders[id] = { ...order, userId: to };
  }
};

/** Merges the absorbed users into the survivor and gives it the claimed keys. */
const join = (d: Draft, { survivor, created, absorbed, claimed }: ClaimPlan, ctx: Ctx): Transition[] => {
  const transitions: Transition[] = created ? change(ctx, survivor.id, "user", survivor.id, "created", null, claimed[0] ?? null) : [];
  let user = survivor;
  for (const other of absorbed) {
    const held = new Set(user.keys);
    user = {
      ...user,
      appUserId: user.appUserId ?? other.appUserId,
      email: user.email ?? other.email,
      keys: [...user.keys, ...other.keys.filter((k) => !held.has(k))],
    };
    reassign(d, other, user.id);
    transitions.push(...change(ctx, user.id, "user", user.id, "merged", other.id, user.id));
  }
  const held = new Set(user.keys);
  const fresh = claimed.filter((k) => !held.has(k));
  // The common case (one known user, no new key) writes nothing.
  if (!created && absorbed.length === 0 && fresh.length === 0) return transitions;
  user = { ...user, keys: [...user.keys, ...fresh] };
  for (const k of fresh) {
    const { kind } = parseKey(k);
    if (kind === "app" || kind === "customer") transitions.push(...change(ctx, user.id, "user", user.id, "identity", null, k));
  }
  for (const other of absorbed) delete d.users[other.id];
  d.users[user.id] = user;
  for (const k of user.keys) if (d.owners[k] !== user.id) d.owners[k] = user.id;
  return transitions;
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

/** Finds or makes the user a fact belongs to (see the rule above); reads the state, writes nothing. */
const planClaim = (state: State, keys: readonly IdentityKey[], ctx: Ctx): ClaimPlan => {
  const unique = [...new Set(keys)];
  const ownerIds = [...new Set(unique.map((k) => state.owners[k]).filter((o): o is string => o !== undefined))];
  const touched = ownerIds.map((id) => state.users[id]!);
  const factApp = appIdIn(unique);
  const appIds = new Set([...touched.map(appIdOf), factApp].filter((a): a is string => a !== null));
  if (appIds.size <= 1) {
    const [oldest, ...rest] = [...touched].sort(byAge);
    return oldest === undefined
      ? { survivor: newUser(unique[0]!, ctx), created: true, absorbed: [], claimed: unique, conflicts: [] }
      : { survivor: oldest, created: false, absorbed: rest, claimed: unique, conflicts: [] };
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
  const conflicts = unique.flatMap((k) => {
    const owner = state.owners[k];
    return owner !== undefined && kept.has(owner) ? change(ctx, target.id, "user", target.id, "conflict", owner, k) : [];
  });
  return { survivor: target, created: targetId === null, absorbed: others.filter(joins).sort(byAge), claimed: ordered, conflicts };
};

/** Writes a planned claim: the join, then the conflicts it left. */
const claimKeys = (d: Draft, plan: ClaimPlan, ctx: Ctx): Transition[] => [...join(d, plan, ctx), ...plan.conflicts];

const revealUser = (d: Draft, userId: string, appUserId: string | null, email: string | null, ctx: Ctx): Transition[] => {
  const user = d.users[userId]!;
  const next: User = { ...user, appUserId: user.appUserId ?? appUserId, email: email ?? user.email };
  if (next.appUserId === user.appUserId && next.email === user.email) return [];
  d.users[userId] = next;
  return [
    ...change(ctx, userId, "user", userId, "appUserId", user.appUserId, next.appUserId),
    ...change(ctx, userId, "user", userId, "email", user.email, next.email),
  ];
};

// ── subscriptions ───────────────────────────────────────────────────────────────────────────

const applySnapshot = (d: Draft, userId: string, fact: SubscriptionObserved | SubscriptionEnded, ctx: Ctx): Transition[] => {
  const id = `${fact.provider}:${fact.subscriptionId}`;
  const before = d.subscriptions[id];
  if (before?.ended && fact._tag === "SubscriptionObserved") {
    return change(ctx, userId, "subscription", id, "anomaly", null, "update_after_end");
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
  d.subscriptions[id] = after;
  return [
    ...change(ctx, userId, "subscription", id, "status", before?.status ?? null, after.status),
    ...change(ctx, userId, "subscription", id, "plan", before?.plan ?? null, after.plan),
    ...change(ctx, userId, "subscription", id, "cancelAtPeriodEnd", str(before?.cancelAtPeriodEnd ?? null), str(after.cancelAtPeriodEnd)),
    ...change(ctx, userId, "subscription", id, "currentPeriodEnd", iso(before?.currentPeriodEnd ?? null), iso(after.currentPeriodEnd)),
    ...change(ctx, userId, "subscription", id, "cancelAt", iso(before?.cancelAt ?? null), iso(after.cancelAt)),
  ];
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
 * Ledgers are kept per provider and payment reference: two providers' ids may coincide, and a
 * reference is provider data (a prefix also keeps names like "__proto__" plain keys).
 */
const ledgerKey = (provider: Provider, ref: string): string => `${provider}:${ref}`;

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
const refundedAmount = (state: State, provider: Provider, refs: readonly string[]): number => {
  const ledgers = refs.map((r) => state.refunds[ledgerKey(provider, r)]).filter((l) => l !== undefined);
  const byId: Record<string, number> = {};
  for (const l of ledgers) for (const [id, amount] of Object.entries(l.byId)) byId[`#${id}`] = amount;
  const summed = Object.values(byId).reduce((a, b) => a + b, 0);
  const stated = ledgers.map(adjustedStatedTotal).filter((t): t is number => t !== null);
  return Math.max(summed, ...stated, 0);
};

const orderStatus = (amount: number, refunded: number, paid: boolean): OrderStatus =>
  !paid ? "pending" : refunded <= 0 ? "paid" : refunded >= amount ? "refunded" : "partially_refunded";

/** Recomputes refunds on an order and reports its status change against `before` (read before any write). */
const settleOrder = (d: Draft, order: Order, before: Order | undefined, ctx: Ctx): Transition[] => {
  const amountRefunded = Math.min(refundedAmount(d, order.provider, order.paymentRefs), order.amount);
  const status = orderStatus(order.amount, amountRefunded, order.status !== "pending");
  const after = { ...order, amountRefunded, status };
  d.orders[order.id] = after;
  return [
    ...change(ctx, order.userId, "order", order.id, "status", before?.status ?? null, after.status),
    ...change(ctx, order.userId, "order", order.id, "plan", before?.plan ?? null, after.plan),
  ];
};

const recordOrder = (d: Draft, placed: Order, ctx: Ctx): Transition[] => {
  const before = d.orders[placed.id];
  const order = { ...placed, paymentRefs: [...new Set([...placed.paymentRefs, ...(d.paymentLinks[placed.id] ?? [])])] };
  const merged: Order = before
    ? { ...order, paymentRefs: [...new Set([...before.paymentRefs, ...order.paymentRefs])], status: before.status === "pending" ? order.status : before.status }
    : order;
  return settleOrder(d, merged, before, ctx);
};

const applyCheckout = (d: Draft, userId: string, subject: string, fact: CheckoutCompleted, ctx: Ctx): Transition[] => {
  const revealed = revealUser(d, userId, fact.appUserId, fact.email, ctx);
  if (fact.mode === "subscription") return revealed;
  const priceIds = fact.priceIds ?? d.checkoutItems[`${fact.provider}:${fact.checkoutId}`] ?? [];
  const placed = recordOrder(
    d,
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
  return [...revealed, ...placed];
};

const applyCheckoutItems = (d: Draft, fact: CheckoutItemsFetched, ctx: Ctx): Transition[] => {
  d.checkoutItems[`${fact.provider}:${fact.checkoutId}`] = fact.priceIds;
  const order = d.orders[`${fact.provider}:${fact.checkoutId}`];
  if (!order || order.priceIds.length > 0) return [];
  const updated = { ...order, priceIds: fact.priceIds, plan: planForPrices(ctx.catalog, fact.provider, fact.priceIds) };
  return settleOrder(d, updated, order, ctx);
};

const applyPayment = (d: Draft, userId: string, fact: PaymentSucceeded, ctx: Ctx): Transition[] =>
  recordOrder(
    d,
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

const applyPaymentFailed = (userId: string, fact: PaymentFailed, ctx: Ctx): Transition[] =>
  change(ctx, userId, "payment", `${fact.provider}:${fact.paymentId}`, "status", null, "failed");

const applyPaymentLinked = (d: Draft, fact: PaymentLinked, ctx: Ctx): Transition[] => {
  const id = `${fact.provider}:${fact.paymentId}`;
  d.paymentLinks[id] = [...new Set([...(d.paymentLinks[id] ?? []), ...fact.paymentRefs])];
  const order = d.orders[id];
  if (!order) return [];
  return settleOrder(d, { ...order, paymentRefs: [...new Set([...order.paymentRefs, ...fact.paymentRefs])] }, order, ctx);
};

const applyRefund = (d: Draft, userId: string, fact: RefundIssued, ctx: Ctx): Transition[] => {
  // The refund names payment keys, so the orders it can touch belong to the user it was claimed by.
  const touched = ordersOf(d, userId).filter((o) => o.paymentRefs.some((r) => fact.paymentRefs.includes(r)));
  for (const key of fact.paymentRefs.map((ref) => ledgerKey(fact.provider, ref))) d.refunds[key] = foldLedger(d.refunds[key] ?? emptyLedger, fact);
  return touched.flatMap((order) => settleOrder(d, d.orders[order.id]!, order, ctx));
};

// ── derived per-user values ─────────────────────────────────────────────────────────────────

const userGrants = (state: State, userId: string, catalog: Catalog) =>
  state.users[userId] ? grantsFor(userId, subscriptionsOf(state, userId), ordersOf(state, userId), catalog) : [];

/** Active while anything grants features or a subscription is not canceled. */
const userStatus = (state: State, userId: string, grants: readonly unknown[]): UserStatus =>
  grants.length > 0 || subscriptionsOf(state, userId).some((s) => s.status !== "canceled") ? "active" : "inactive";

/** What a user's fact reports against: its status and granted features before the fact. */
type Before = { readonly status: UserStatus | null; readonly sources: Readonly<Record<string, string>> };

const userBefore = (state: State, userId: string, catalog: Catalog): Before => ({
  status: state.users[userId]?.status ?? null,
  sources: grantedSources(userGrants(state, userId, catalog)),
});

/** Reports changes of status and of granted features since `was`, and stores the user's status. */
const deriveUser = (d: Draft, was: Before, userId: string, ctx: Ctx): Transition[] => {
  const grantsNow = userGrants(d, userId, ctx.catalog);
  const now = grantedSources(grantsNow);
  const features = [...new Set([...Object.keys(was.sources), ...Object.keys(now)])].sort();
  const user = d.users[userId]!;
  const status = userStatus(d, userId, grantsNow);
  if (user.status !== status) d.users[userId] = { ...user, status };
  return [
    ...change(ctx, userId, "user", userId, "status", was.status, status),
    ...features.flatMap((f) => change(ctx, userId, "entitlement", `${userId}:${f}`, "source", was.sources[f] ?? null, now[f] ?? null)),
  ];
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
const applyFact = (d: Draft, userId: string, subject: string, fact: Fact, ctx: Ctx): Transition[] => {
  switch (fact._tag) {
    case "CustomerSeen":
      return revealUser(d, userId, fact.appUserId, fact.email, ctx);
    case "CheckoutCompleted":
      return applyCheckout(d, userId, subject, fact, ctx);
    case "CheckoutItemsFetched":
      return applyCheckoutItems(d, fact, ctx);
    case "SubscriptionObserved":
    case "SubscriptionEnded": {
      const revealed = revealUser(d, userId, fact.appUserId, null, ctx);
      return [...revealed, ...applySnapshot(d, subject, fact, ctx)];
    }
    case "PaymentSucceeded":
      return applyPayment(d, subject, fact, ctx);
    case "PaymentFailed":
      return applyPaymentFailed(userId, fact, ctx);
    case "PaymentLinked":
      return applyPaymentLinked(d, fact, ctx);
    case "RefundIssued":
      return applyRefund(d, userId, fact, ctx);
    default: {
      const unreachable: never = fact;
      return unreachable;
    }
  }
};

/** Writes one fact into the draft. A fact that names no identity cannot belong to a user and changes nothing. */
const applyStep = (d: Draft, fact: Fact, catalog: Catalog): Transition[] => {
  if (fact.keys.length === 0) return [];
  const ctx: Ctx = { catalog, at: fact.at, cause: fact.cause };
  const plan = planClaim(d, fact.keys, ctx);
  const userId = plan.survivor.id;
  // The claimed user as it was before the fact: read before the join rewrites it.
  const wasUser = userBefore(d, userId, ctx.catalog);
  const claimed = claimKeys(d, plan, ctx);
  const key = subjectKey(fact);
  const subject = (key === null ? undefined : d.owners[key]) ?? userId;
  // Another subject is a user the claim kept apart and left untouched: as it is now, it was before.
  const wasSubject = subject === userId ? wasUser : userBefore(d, subject, ctx.catalog);
  const applied = applyFact(d, userId, subject, fact, ctx);
  const derived = deriveUser(d, wasUser, userId, ctx);
  if (subject === userId) return [...claimed, ...applied, ...derived];
  return [...claimed, ...applied, ...derived, ...deriveUser(d, wasSubject, subject, ctx)];
};

/** Folds facts in the order given: one copy of the state, then each fact costs what its users hold. */
export const foldFacts = (catalog: Catalog, state: State, facts: readonly Fact[]): Step => {
  const draft = draftOf(state);
  const transitions: Transition[] = [];
  for (const fact of facts) transitions.push(...applyStep(draft, fact, catalog));
  return { state: draft, transitions };
};

/** One step of the fold. It copies the state's records, so to fold many facts use foldFacts. */
export const evolve =
  (catalog: Catalog) =>
  (state: State, fact: Fact): Step =>
    foldFacts(catalog, state, [fact]);

/** Folds a set of events: deduplicated, put in canonical order, then folded from `state`. */
export const replayEvents = (catalog: Catalog, events: readonly NormalizedEvent[], state: State = initialState()): Step =>
  foldFacts(catalog, state, canonicalOrder(events).flatMap((e) => e.facts));
