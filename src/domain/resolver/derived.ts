// Per-user derivation: what the user's subscriptions and orders grant, and its status. It runs
// after the views that write records, and reports the changes of status and of granted features
// against what they were before the fact (the claim's `was`, taken by `before`), for the claimed
// user and, when an identity conflict kept the fact's object with another user, for that user too.
import type { Catalog } from "../catalog.js";
import { grantedSources, grantsFor } from "../entitlements.js";
import { ordersOf, subscriptionsOf, type State, type Transition, type UserStatus } from "../state.js";
import { change, type Claim, type Ctx, type Evolve, type Step, type Was } from "./view.js";

/** What a user's subscriptions and orders grant, and the subscriptions (its status reads them too). */
const userRecords = (state: State, userId: string, catalog: Catalog) => {
  if (!state.users.has(userId)) return { grants: [], subscriptions: [] };
  const subscriptions = subscriptionsOf(state, userId);
  return { grants: grantsFor(userId, subscriptions, ordersOf(state, userId), catalog), subscriptions };
};

/** Active while anything grants features or a subscription is not canceled. */
const userStatus = ({ grants, subscriptions }: ReturnType<typeof userRecords>): UserStatus =>
  grants.length > 0 || subscriptions.some((s) => s.status !== "canceled") ? "active" : "inactive";

/** A user's derived values in `state`; a user not there yet (the fact creates it) was nobody: no status, no features. */
export const before = (state: State, userId: string, catalog: Catalog): Was => {
  const user = state.users.get(userId);
  if (user === undefined) return { status: null, sources: {} };
  return { status: user.status, sources: user.sources ?? grantedSources(userRecords(state, userId, catalog).grants) };
};

/** The features whose granting plan differs between two sources maps, sorted. */
const changedFeatures = (was: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] => {
  const changed: string[] = [];
  for (const f in was) if (was[f] !== now[f]) changed.push(f);
  for (const f in now) if (!(f in was)) changed.push(f);
  return changed.sort();
};

/** A user's status and granted features now, reported against what they were, and its status stored. */
const derive = (state: State, { status: wasStatus, sources: was }: Was, userId: string, ctx: Ctx): Step => {
  const records = userRecords(state, userId, ctx.catalog);
  const now = grantedSources(records.grants);
  const user = state.users.get(userId)!;
  const status = userStatus(records);
  const transitions: Transition[] = change(ctx, userId, "user", userId, "status", wasStatus, status);
  const changed = changedFeatures(was, now);
  for (const f of changed) transitions.push(...change(ctx, userId, "entitlement", `${userId}:${f}`, "source", was[f] ?? null, now[f] ?? null));
  const same = user.status === status && user.sources !== undefined && changedFeatures(user.sources, now).length === 0;
  return { state: same ? state : { ...state, users: state.users.set(userId, { ...user, status, sources: now }) }, transitions };
};

export const evolve: Evolve = (state, _fact, claim: Claim) => {
  const own = derive(state, claim.was.get(claim.userId)!, claim.userId, claim);
  if (claim.subject === claim.userId) return own;
  const other = derive(own.state, claim.was.get(claim.subject)!, claim.subject, claim);
  return { state: other.state, transitions: [...own.transitions, ...other.transitions] };
};
