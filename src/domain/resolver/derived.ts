// Per-user derivation: what the user's subscriptions and orders grant, and its status. It runs
// after the views that write records, and reports the changes of status and of granted features
// against what they were before the fact (the claim's `was`, taken by `before`), for the claimed
// user and, when an identity conflict kept the fact's object with another user, for that user too.
import type { Catalog } from "../catalog.js";
import { grantedSources, grantsFor } from "../entitlements.js";
import type { Fact } from "../facts.js";
import type { IdentityKey } from "../identity.js";
import { grantingRecordAt, grantingRecordsOf, type GrantingIndex, type GrantingRecords, type State, type Transition, type User, type UserStatus } from "../state.js";
import { change, type Claim, type Ctx, type Evolve, type Step, type Was } from "./view.js";

/** What a user's records grant, and its subscriptions (its status reads them too). */
const userRecords = (userId: string, { subscriptions, orders }: GrantingRecords, catalog: Catalog) => ({ grants: grantsFor(userId, subscriptions, orders, catalog), subscriptions });

/** Active while anything grants features or a subscription is not canceled. */
const userStatus = ({ grants, subscriptions }: ReturnType<typeof userRecords>): UserStatus =>
  grants.length > 0 || subscriptions.some((s) => s.status !== "canceled") ? "active" : "inactive";

/** A user's derived values in `state`; a user not there yet (the fact creates it) was nobody: no status, no features. */
export const before = (state: State, userId: string, catalog: Catalog): Was => {
  const user = state.users.get(userId);
  if (user === undefined) return { status: null, sources: {} };
  return { status: user.status, sources: user.sources ?? grantedSources(userRecords(userId, grantingRecordsOf(state, userId), catalog).grants) };
};

/**
 * The user's granting index after a fact that names `named`, and the records it finds: a record
 * can only have started to grant, or come to this user, if its key was revealed since the index was
 * taken or the fact names it (facts that create or change a record name its key; a merge appends
 * the absorbed keys), and one that stopped is dropped by the check. Without an index, every key is
 * visited.
 */
const grantingAfter = (state: State, user: User, named: readonly IdentityKey[]): { readonly index: GrantingIndex; readonly records: GrantingRecords } => {
  const was = user.granting;
  const keys: IdentityKey[] = [];
  const records: GrantingRecords = { subscriptions: [], orders: [] };
  const visit = (key: IdentityKey): void => {
    const found = grantingRecordAt(state, user.id, key);
    if (found === null) return;
    keys.push(key);
    if ("subscription" in found) records.subscriptions.push(found.subscription);
    else records.orders.push(found.order);
  };
  if (was === undefined) {
    for (const key of user.keys) visit(key);
    return { index: { scanned: user.keys.length, keys: keys.sort() }, records };
  }
  for (const key of was.keys) visit(key);
  const kept = keys.length;
  for (let i = was.scanned; i < user.keys.length; i++) if (!keys.includes(user.keys[i]!)) visit(user.keys[i]!);
  // A named key is the user's when the user owns it (a record's key stays with the record's owner).
  for (const key of named) if (!keys.includes(key) && state.owners.get(key) === user.id) visit(key);
  if (keys.length > kept) return { index: { scanned: user.keys.length, keys: keys.sort() }, records };
  // Nothing joined or left: the same index, so the user need not be written again for it.
  return { index: kept === was.keys.length && was.scanned === user.keys.length ? was : { scanned: user.keys.length, keys }, records };
};

/** The features whose granting plan differs between two sources maps, sorted. */
const changedFeatures = (was: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] => {
  const changed: string[] = [];
  for (const f in was) if (was[f] !== now[f]) changed.push(f);
  for (const f in now) if (!(f in was)) changed.push(f);
  return changed.sort();
};

/** A user's status and granted features now, reported against what they were, and its status stored. */
const derive = (state: State, { status: wasStatus, sources: was }: Was, userId: string, fact: Fact, ctx: Ctx): Step => {
  const user = state.users.get(userId)!;
  const { index: granting, records: found } = grantingAfter(state, user, fact.keys);
  const records = userRecords(userId, found, ctx.catalog);
  const now = grantedSources(records.grants);
  const status = userStatus(records);
  const transitions: Transition[] = change(ctx, userId, "user", userId, "status", wasStatus, status);
  const changed = changedFeatures(was, now);
  for (const f of changed) transitions.push(...change(ctx, userId, "entitlement", `${userId}:${f}`, "source", was[f] ?? null, now[f] ?? null));
  const same = user.status === status && user.sources !== undefined && changedFeatures(user.sources, now).length === 0 && user.granting === granting;
  return { state: same ? state : { ...state, users: state.users.set(userId, { ...user, status, sources: now, granting }) }, transitions };
};

export const evolve: Evolve = (state, fact, claim: Claim) => {
  const own = derive(state, claim.was.get(claim.userId)!, claim.userId, fact, claim);
  if (claim.subject === claim.userId) return own;
  const other = derive(own.state, claim.was.get(claim.subject)!, claim.subject, fact, claim);
  return { state: other.state, transitions: [...own.transitions, ...other.transitions] };
};
