// Per-user derivation: what the user's subscriptions and orders grant, and its status. It runs
// after the views that write records, and reports the changes of status and of granted features
// against the state before the fact (the claim's `previous`), for the claimed user and, when an
// identity conflict kept the fact's object with another user, for that user too.
import type { Catalog } from "../catalog.js";
import { grantedSources, grantsFor } from "../entitlements.js";
import { ordersOf, subscriptionsOf, type State, type Transition, type UserStatus } from "../state.js";
import { change, type Claim, type Ctx, type Evolve, type Step } from "./view.js";

const userGrants = (state: State, userId: string, catalog: Catalog) =>
  state.users.has(userId) ? grantsFor(userId, subscriptionsOf(state, userId), ordersOf(state, userId), catalog) : [];

/** Active while anything grants features or a subscription is not canceled. */
const userStatus = (state: State, userId: string, grants: readonly unknown[]): UserStatus =>
  grants.length > 0 || subscriptionsOf(state, userId).some((s) => s.status !== "canceled") ? "active" : "inactive";

/**
 * A user's status and granted features now, reported against `previous`, and its status stored.
 * A user new with the fact was nobody before: no status, no features.
 */
const derive = (state: State, previous: State, userId: string, ctx: Ctx): Step => {
  const was = grantedSources(userGrants(previous, userId, ctx.catalog));
  const grantsNow = userGrants(state, userId, ctx.catalog);
  const now = grantedSources(grantsNow);
  const features = [...new Set([...Object.keys(was), ...Object.keys(now)])].sort();
  const user = state.users.get(userId)!;
  const status = userStatus(state, userId, grantsNow);
  const transitions: Transition[] = [
    ...change(ctx, userId, "user", userId, "status", previous.users.get(userId)?.status ?? null, status),
    ...features.flatMap((f) => change(ctx, userId, "entitlement", `${userId}:${f}`, "source", was[f] ?? null, now[f] ?? null)),
  ];
  return { state: user.status === status ? state : { ...state, users: state.users.set(userId, { ...user, status }) }, transitions };
};

export const evolve: Evolve = (state, _fact, claim: Claim) => {
  const own = derive(state, claim.previous, claim.userId, claim);
  if (claim.subject === claim.userId) return own;
  const other = derive(own.state, claim.previous, claim.subject, claim);
  return { state: other.state, transitions: [...own.transitions, ...other.transitions] };
};
