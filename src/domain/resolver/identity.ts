// Identity view: users and the keys they own. Users are the connected components of identity
// keys: a fact's keys all name one user, so a fact joins the users that own them, except that two
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
import type { Fact } from "../facts.js";
import { appUserKey, objectKey, parseKey, userIdFor, type IdentityKey } from "../identity.js";
import type { State, Transition, User } from "../state.js";
import { change, unchanged, type Claim, type Ctx, type Evolve, type Step, type Was } from "./view.js";

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
  sources: {},
});

/** Object keys from most to least specific: the first one owned decides a conflict without app key. */
const SPECIFICITY = ["subscription", "checkout", "invoice", "payment"] as const;

/** Who a conflicting fact belongs to (rules 1–3 above); null for a new user of the fact's app key. */
const conflictTarget = (state: State, keys: readonly IdentityKey[], factApp: string | null): string | null => {
  if (factApp !== null) return state.owners.get(appUserKey(factApp)) ?? null;
  for (const kind of SPECIFICITY) {
    const key = keys.find((k) => parseKey(k).kind === kind && state.owners.has(k));
    if (key !== undefined) return state.owners.get(key)!;
  }
  return state.owners.get(keys.find((k) => state.owners.has(k))!)!;
};

/** Finds or makes the user a fact belongs to (see the rule above); reads the state, writes nothing. */
const planClaim = (state: State, keys: readonly IdentityKey[], ctx: Ctx): ClaimPlan => {
  const unique = [...new Set(keys)];
  const ownerIds = [...new Set(unique.map((k) => state.owners.get(k)).filter((o): o is string => o !== undefined))];
  const touched = ownerIds.map((id) => state.users.get(id)!);
  const factApp = appIdIn(unique);
  const appIds = new Set([...touched.map(appIdOf), factApp].filter((a): a is string => a !== null));
  if (appIds.size <= 1) {
    const [oldest, ...rest] = [...touched].sort(byAge);
    return oldest === undefined
      ? { survivor: newUser(unique[0]!, ctx), created: true, absorbed: [], claimed: unique, conflicts: [] }
      : { survivor: oldest, created: false, absorbed: rest, claimed: unique, conflicts: [] };
  }
  const targetId = conflictTarget(state, unique, factApp);
  const target = targetId === null ? newUser(appUserKey(factApp!), ctx) : state.users.get(targetId)!;
  const targetApp = appIdOf(target) ?? factApp;
  const joins = (u: User): boolean => appIdOf(u) === null || appIdOf(u) === targetApp;
  const others = touched.filter((u) => u.id !== target.id);
  const kept = new Set(others.filter((u) => !joins(u)).map((u) => u.id));
  const claimed = unique.filter((k) => {
    const owner = state.owners.get(k);
    if (owner !== undefined) return !kept.has(owner);
    const { kind, value } = parseKey(k);
    return kind !== "app" || value === targetApp;
  });
  // A new target is named by its app key (its id derives from it), so that key comes first.
  const ordered = targetId === null ? [appUserKey(factApp!), ...claimed.filter((k) => k !== appUserKey(factApp!))] : claimed;
  const conflicts = unique.flatMap((k) => {
    const owner = state.owners.get(k);
    return owner !== undefined && kept.has(owner) ? change(ctx, target.id, "user", target.id, "conflict", owner, k) : [];
  });
  return { survivor: target, created: targetId === null, absorbed: others.filter(joins).sort(byAge), claimed: ordered, conflicts };
};

/**
 * Merges the absorbed users into the survivor and gives it the claimed keys. Every key a user
 * holds is owned by it, so only the absorbed users' keys and keys nobody owned change owner.
 */
const join = (state: State, { survivor, created, absorbed, claimed }: ClaimPlan, ctx: Ctx): Step => {
  const transitions: Transition[] = created ? change(ctx, survivor.id, "user", survivor.id, "created", null, claimed[0] ?? null) : [];
  const fresh = claimed.filter((k) => !state.owners.has(k));
  // The common case (one known user, no new key) writes nothing.
  if (!created && absorbed.length === 0 && fresh.length === 0) return { state, transitions };
  let user = survivor;
  let { users, owners } = state;
  for (const other of absorbed) {
    const held = new Set(user.keys);
    user = {
      ...user,
      appUserId: user.appUserId ?? other.appUserId,
      email: user.email ?? other.email,
      keys: [...user.keys, ...other.keys.filter((k) => !held.has(k))],
    };
    transitions.push(...change(ctx, user.id, "user", user.id, "merged", other.id, user.id));
    users = users.remove(other.id);
    for (const k of other.keys) owners = owners.set(k, user.id);
  }
  user = { ...user, keys: [...user.keys, ...fresh] };
  for (const k of fresh) {
    owners = owners.set(k, user.id);
    const { kind } = parseKey(k);
    if (kind === "app" || kind === "customer") transitions.push(...change(ctx, user.id, "user", user.id, "identity", null, k));
  }
  return { state: { ...state, users: users.set(user.id, user), owners }, transitions };
};

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

/**
 * The first part of every step: the fact's keys claimed for one user (joins and conflicts
 * written), and who the fact is about. `was` reads a user's derived values (see derived.ts): the
 * claimed user's are taken before the join, the subject's (a user the join left untouched) after.
 * The fact must name at least one key.
 */
export const claimFact = (state: State, fact: Fact, ctx: Ctx, was: (state: State, userId: string) => Was): Step & { readonly claim: Claim } => {
  const plan = planClaim(state, fact.keys, ctx);
  const userId = plan.survivor.id;
  const wasUser = was(state, userId);
  const joined = join(state, plan, ctx);
  const key = subjectKey(fact);
  const subject = (key === null ? undefined : joined.state.owners.get(key)) ?? userId;
  const before = new Map([[userId, wasUser]]);
  if (subject !== userId) before.set(subject, was(joined.state, subject));
  return {
    state: joined.state,
    transitions: [...joined.transitions, ...plan.conflicts],
    claim: { catalog: ctx.catalog, at: ctx.at, cause: ctx.cause, userId, subject, absorbed: plan.absorbed, was: before },
  };
};

/** A user's app id (kept once known) and email (the latest) as a fact reveals them. */
const reveal = (state: State, userId: string, appUserId: string | null, email: string | null, ctx: Ctx): Step => {
  const user = state.users.get(userId)!;
  const next: User = { ...user, appUserId: user.appUserId ?? appUserId, email: email ?? user.email };
  if (next.appUserId === user.appUserId && next.email === user.email) return unchanged(state);
  return {
    state: { ...state, users: state.users.set(userId, next) },
    transitions: [
      ...change(ctx, userId, "user", userId, "appUserId", user.appUserId, next.appUserId),
      ...change(ctx, userId, "user", userId, "email", user.email, next.email),
    ],
  };
};

export const evolve: Evolve = (state, fact, claim) => {
  switch (fact._tag) {
    case "CustomerSeen":
    case "CheckoutCompleted":
      return reveal(state, claim.userId, fact.appUserId, fact.email, claim);
    case "SubscriptionObserved":
    case "SubscriptionEnded":
      return reveal(state, claim.userId, fact.appUserId, null, claim);
    default:
      return unchanged(state);
  }
};
