// Projects stored events into users, subscriptions, orders, entitlements and the transition log.
// Events are projected per connected component (the events whose identity keys connect; see
// src/domain/components.ts). A component keeps its folded state and a watermark, the occurredAt of
// its latest event: events strictly later than it (the common case) are folded onto that state
// and only the rows they change are written, their transitions appended. Events of the watermark's
// own instant are folded with that instant's events onto the state before it (kept in memory),
// replacing that instant's transitions. An event before the watermark (late), or one that joins
// components, re-derives them from all their events in canonical order, so arrival order never
// changes the result. A batch's groups are folded in memory and written together, table by table.
// Rows, the event→keys index, the components and the checkpoint are written in one transaction.
//
// This room orchestrates (normalize → fold → the rows that changed); src/store persists: every
// read and write here is a named function of the store (projection-writes.ts, components.ts, …).
import { createHash } from "node:crypto";
import type { Catalog } from "../domain/catalog.js";
import { connectedGroups, eventKeys } from "../domain/components.js";
import type { NormalizedEvent } from "../domain/event.js";
import { replayEvents } from "../domain/resolver/step.js";
import { initialState, type Order, type State, type Subscription, type Transition, type User } from "../domain/state.js";
import { Table } from "../domain/table.js";
import {
  componentHeads,
  componentsOfKeys,
  dropComponents,
  eventSeqsOfComponents,
  keysOfComponents,
  newToken,
  PendingStates,
  createComponents,
  saveStates,
  shouldSave,
  stateCacheOf,
  usersOfComponents,
  writeComponent,
  type CachedState,
  type ComponentHead,
} from "../store/components.js";
import type { Database } from "../store/database.js";
import { readEventsBySeq, readEventsInTimeOrder, type StoredEvent } from "../store/events.js";
import { gainedTransitions, type FeedTransition } from "../store/feed.js";
import { normalizeStored } from "../store/normalize-stored.js";
import { grantRowsOf, identityRow, orderRow, subscriptionRow, transitionRows, userRow, type ProjectedGrant, type ProjectedIdentity } from "../store/projection-rows.js";
import {
  CHUNK,
  derivedWith,
  hasProjections,
  inProjectionTransaction,
  isDeadlock,
  pendingSeqs,
  projectedFloor,
  setProjectedFloor,
  setDerivedWith,
  type ProjectionWrites,
} from "../store/projection-writes.js";
import { lastEventSeq } from "../store/partition.js";
import { announceProjected } from "../store/read-model.js";
import { lockAppends, rebuildUsageCounters } from "../store/usage.js";
import { rebuildLeases } from "../store/leases.js";
import { rebuildActivations } from "../store/activations.js";
import type { Sql } from "../store/sql.js";
/**
 * `users`: the users the projected components now hold; `affected`: every user whose rows it
 * wrote or removed; `incremental` / `rederived`: how many of the events were folded onto a saved
 * state and how many took a re-derivation of their component.
 */
export type ProjectionResult = {
  readonly seqs: readonly number[];
  readonly users: readonly string[];
  readonly affected: readonly string[];
  readonly incremental: number;
  readonly rederived: number;
};

type Projected = { readonly seq: number; readonly event: NormalizedEvent; readonly keys: readonly string[] };

const projected = (stored: StoredEvent, catalog: Catalog): Projected => {
  const event = normalizeStored(stored, catalog);
  return { seq: stored.seq, event, keys: eventKeys(event) };
};

type Options = {
  readonly w: ProjectionWrites;
  readonly states: PendingStates;
  /** Whether new transitions go to the live feed (a rebuild appends what it gained at the end). */
  readonly feed: boolean;
  /**
   * A rebuild's components whose folded state is not saved yet, with the token and event count it
   * is current as of: a rebuild saves each state once, at its end, instead of with every fold.
   */
  readonly unsaved?: Map<string, { readonly token: string; readonly events: number }>;
};

/** What a component's projection changed, for the result and the cache. */
type Outcome = {
  readonly users: readonly string[];
  readonly affected: readonly string[];
  readonly incremental: boolean;
  /** How many of the batch's events it projected. */
  readonly events: number;
  readonly cached: readonly [string, CachedState];
};

const maxAt = (events: readonly Projected[], from = -Infinity): number => events.reduce((m, p) => Math.max(m, p.event.occurredAt), from);

/** The smallest: component ids are keys, and a merged component keeps the smallest of their ids. */
const smallest = (values: Iterable<string>): string => [...values].reduce((a, b) => (b < a ? b : a));

const save = (state: State): string => JSON.stringify(state);

/**
 * Events folded onto `base` in canonical order, in two steps: those before the latest instant, then
 * those of it, so the state before that instant is kept too (see CachedState). Canonical order sorts
 * by time first, so this is the same fold as one step.
 */
const foldAtInstants = (catalog: Catalog, base: State, events: readonly NormalizedEvent[]) => {
  const last = events.reduce((m, e) => Math.max(m, e.occurredAt), -Infinity);
  const earlier = replayEvents(catalog, events.filter((e) => e.occurredAt < last), base);
  const lastInstant = events.filter((e) => e.occurredAt === last);
  const folded = replayEvents(catalog, lastInstant, earlier.state);
  return { state: folded.state, transitions: [...earlier.transitions, ...folded.transitions], beforeLastInstant: earlier.state, lastInstant };
};

/** A group folded onto its component's state in memory: what it changed, to be written with the batch's others. */
type FoldPlan = {
  readonly head: ComponentHead | undefined;
  readonly base: CachedState | null;
  readonly group: readonly Projected[];
  readonly state: State;
  readonly transitions: readonly Transition[];
  readonly beforeLastInstant: State;
  readonly lastInstant: readonly NormalizedEvent[];
  /** The events of the watermark's instant folded again with the group: their transitions are replaced. */
  readonly refolded: readonly NormalizedEvent[];
  readonly createdUsers: readonly User[];
  readonly updatedUsers: readonly User[];
  readonly identities: readonly ProjectedIdentity[];
  readonly subscriptions: { readonly created: readonly Subscription[]; readonly updated: readonly Subscription[] };
  readonly orders: { readonly created: readonly Order[]; readonly updated: readonly Order[] };
  /** Users whose grants may have changed, or who got transitions. */
  readonly touched: ReadonlySet<string>;
};

/** The records of `now` that are new or replaced since `was` (the fold never writes into a record it keeps); null if one was dropped. */
const changedRecords = <T extends { readonly userId: string }>(now: Table<T>, was: Table<T>, touched: Set<string>): { created: T[]; updated: T[] } | null => {
  const created: T[] = [];
  const updated: T[] = [];
  for (const { was: old, now: row } of Table.changes(was, now)) {
    if (row === undefined) return null;
    touched.add(row.userId);
    if (old === undefined) created.push(row);
    else (updated.push(row), touched.add(old.userId));
  }
  return { created, updated };
};

const sameUserRow = (a: User, b: User): boolean => a.appUserId === b.appUserId && a.email === b.email && a.status === b.status && a.createdAt === b.createdAt;

/** The keys `now` holds that `was` did not; null if `now` lost one (only a merge does that). */
const addedKeys = (was: readonly string[], now: readonly string[]): readonly string[] | null => {
  // Keys are appended in fold order, so usually `was` is a prefix of `now`.
  if (was.length === 0 || (now.length >= was.length && now[was.length - 1] === was[was.length - 1])) return now.slice(was.length);
  const held = new Set(now);
  if (was.some((k) => !held.has(k))) return null;
  const had = new Set(was);
  return now.filter((k) => !had.has(k));
};

/**
 * Folds `group` onto the component's state in memory: onto the state itself when the group is later
 * than the watermark, or, with `refold` (the events of the watermark's instant), onto the state
 * before that instant. Rows are compared with what the database holds (`base.state`). Returns null
 * when the fold merged users or dropped a record (their rows would move or renumber): the caller
 * re-derives instead.
 */
const planFold = (catalog: Catalog, head: ComponentHead | undefined, base: CachedState | null, group: readonly Projected[], refold: readonly NormalizedEvent[] = []): FoldPlan | null => {
  const before = base?.state ?? initialState();
  const from = refold.length > 0 ? base!.beforeLastInstant! : before;
  const { state, transitions, beforeLastInstant, lastInstant } = foldAtInstants(catalog, from, [...refold, ...group.map((p) => p.event)]);
  if (transitions.some((t) => (t.entity === "user" && t.field === "merged") || !state.users.has(t.userId))) return null;
  const touched = new Set<string>();
  const createdUsers: User[] = [];
  const updatedUsers: User[] = [];
  const identities: ProjectedIdentity[] = [];
  // Only what differs from the database's state is visited: the tables share everything else.
  for (const { key: id, was, now: user } of Table.changes(before.users, state.users)) {
    if (user === undefined) return null;
    touched.add(id);
    if (was === undefined) createdUsers.push(user);
    else if (!sameUserRow(was, user)) updatedUsers.push(user);
    const added = addedKeys(was?.keys ?? [], user.keys);
    if (added === null) return null;
    for (const key of added) identities.push(identityRow(key, id));
  }
  const subscriptions = changedRecords(state.subscriptions, before.subscriptions, touched);
  const orders = changedRecords(state.orders, before.orders, touched);
  if (subscriptions === null || orders === null) return null;
  for (const t of transitions) touched.add(t.userId);
  return { head, base, group, state, transitions, beforeLastInstant, lastInstant, refolded: refold, createdUsers, updatedUsers, identities, subscriptions, orders, touched };
};

/** Writes what the planned folds changed, table by table for all of them at once, and their components. */
const writeFolds = async (catalog: Catalog, plans: readonly FoldPlan[], known: ReadonlyMap<string, string>, options: Options): Promise<Outcome[]> => {
  if (plans.length === 0) return [];
  const all = <T>(pick: (p: FoldPlan) => readonly T[]): T[] => plans.flatMap(pick);
  const { w } = options;
  // Rows are written without reading them back (inserts, updateMany), and updates leave the id alone.
  await w.insert("User", all((p) => p.createdUsers).map(userRow));
  await w.updateRows("User", all((p) => p.updatedUsers).map(userRow));
  await w.insert("UserIdentity", all((p) => p.identities));
  await w.insert("Subscription", all((p) => p.subscriptions.created).map(subscriptionRow));
  await w.updateRows("Subscription", all((p) => p.subscriptions.updated).map(subscriptionRow));
  await w.insert("Order", all((p) => p.orders.created).map(orderRow));
  await w.updateRows("Order", all((p) => p.orders.updated).map(orderRow));

  // Grants derive from a user's subscriptions and orders: only touched users' can differ.
  const touched = plans.flatMap((p) => [...p.touched].filter((u) => p.state.users.has(u)).map((u) => [u, p.state] as const));
  const held = new Map<string, string>();
  for (let i = 0; i < touched.length; i += CHUNK) {
    for (const g of await w.grantsOf(touched.slice(i, i + CHUNK).map(([u]) => u))) held.set(g.id, JSON.stringify(g));
  }
  const dropped: string[] = [];
  const added: ProjectedGrant[] = [];
  for (const [userId, state] of touched) {
    for (const g of grantRowsOf(state, userId, catalog)) {
      const old = held.get(g.id);
      held.delete(g.id);
      if (old === JSON.stringify(g)) continue;
      if (old !== undefined) dropped.push(g.id);
      added.push(g);
    }
  }
  dropped.push(...held.keys());
  await w.deleteGrants(dropped);
  await w.insert("Entitlement", added);

  // A refolded instant's transitions are the tail of its users' logs: they are replaced, and the
  // feed gets only what the new ones add.
  const replaced: FeedTransition[] = [];
  for (const p of plans) {
    if (p.refolded.length === 0) continue;
    const causes = [...new Set(p.refolded.flatMap((e) => e.facts.map((f) => f.cause)))];
    replaced.push(...(await w.takeTransitions([...p.base!.state.users.keys()], causes)));
  }
  // Transitions continue each owner's log where it stands.
  const owners = [...new Set(plans.flatMap((p) => p.transitions.map((t) => t.userId)))];
  const next = owners.length === 0 ? new Map<string, number>() : await w.nextOrdinals(owners);
  const transitions = plans.flatMap((p) => transitionRows(p.transitions, p.state, (userId) => next.get(userId) ?? 0));
  await w.insert("Transition", transitions);
  const gained = replaced.length === 0 ? transitions : gainedTransitions(replaced, transitions);
  if (options.feed) await w.appendToFeed(gained);

  const outcomes: Outcome[] = [];
  const createdComponents = [];
  const componentKeys: { key: string; componentId: string }[] = [];
  for (const p of plans) {
    const id = p.head?.id ?? smallest(p.group.flatMap((e) => e.keys));
    for (const key of new Set(p.group.flatMap((e) => e.keys))) if (!known.has(key)) componentKeys.push({ key, componentId: id });
    const events = (p.head?.events ?? 0) + p.group.length;
    const stateEvents = p.head?.stateEvents ?? 0;
    const token = newToken();
    const saved = options.unsaved === undefined && (p.base === null || shouldSave(p.base.savedSize, events, stateEvents)) ? save(p.state) : null;
    options.unsaved?.set(id, { token, events });
    const write = { id, token, watermark: maxAt(p.group, p.head?.watermark), events, saved, stateEvents: saved === null ? stateEvents : events };
    if (p.head === undefined) createdComponents.push(write);
    else await writeComponent(w.sql, true, write);
    outcomes.push({
      users: [...p.state.users.keys()],
      affected: [...p.touched],
      incremental: true,
      events: p.group.length,
      cached: [id, { token, catalog, state: p.state, savedSize: saved?.length ?? p.base?.savedSize ?? 0, beforeLastInstant: p.beforeLastInstant, lastInstant: p.lastInstant }],
    });
  }
  await w.insert("ComponentKey", componentKeys);
  await createComponents(w.sql, createdComponents);
  return outcomes;
};

/** Re-derives the components `heads` together with `group` from all their events, in canonical order. */
const rederive = async (catalog: Catalog, heads: readonly ComponentHead[], group: readonly Projected[], options: Options): Promise<Outcome> => {
  const ids = heads.map((h) => h.id);
  const ours = new Set(group.map((p) => p.seq));
  const seqs = (await eventSeqsOfComponents(options.w.sql, ids)).filter((seq) => !ours.has(seq));
  const events = [...group];
  for (const stored of await readEventsBySeq(options.w.sql, seqs)) events.push(projected(stored, catalog));
  const { state, transitions, beforeLastInstant, lastInstant } = foldAtInstants(catalog, initialState(), events.map((p) => p.event));

  const owners = await usersOfComponents(options.w.sql, ids);
  const previous = options.feed ? await options.w.transitionsOf(owners) : [];
  await options.w.deleteUsers(owners);
  const written = await options.w.writeState(state, transitions, catalog);
  const gained = gainedTransitions(previous, written);
  if (options.feed) await options.w.appendToFeed(gained);

  const keys = new Set([...(await keysOfComponents(options.w.sql, ids)), ...events.flatMap((p) => p.keys)]);
  const id = smallest(keys);
  await options.w.dropComponents(ids);
  await options.w.insert("ComponentKey", [...keys].map((key) => ({ key, componentId: id })));
  const token = newToken();
  const saved = save(state);
  await writeComponent(options.w.sql, false, { id, token, watermark: maxAt(events), events: events.length, saved, stateEvents: events.length });
  options.states.forget(ids);
  for (const merged of ids) options.unsaved?.delete(merged);
  const users = [...state.users.keys()];
  return { users, affected: [...new Set([...owners, ...users])], incremental: false, events: group.length, cached: [id, { token, catalog, state, savedSize: saved.length, beforeLastInstant, lastInstant }] };
};

/**
 * Projects the batch's groups of connected events: each onto its component's saved state when it
 * can (all of those written together), else by re-deriving its components.
 */
const projectGroups = async (catalog: Catalog, groups: readonly (readonly Projected[])[], known: ReadonlyMap<string, string>, options: Options): Promise<Outcome[]> => {
  const componentsOf = (group: readonly Projected[]) => [...new Set(group.flatMap((p) => p.keys.flatMap((k) => (known.has(k) ? [known.get(k)!] : []))))].sort();
  const heads = new Map((await componentHeads(options.w.sql, [...new Set(groups.flatMap(componentsOf))])).map((h) => [h.id, h]));
  const candidates: { group: readonly Projected[]; head: ComponentHead | undefined }[] = [];
  const slow: { group: readonly Projected[]; heads: ComponentHead[] }[] = [];
  for (const group of groups) {
    const ids = componentsOf(group);
    const head = ids.length === 1 ? heads.get(ids[0]!) : undefined;
    const earliest = group.reduce((m, p) => Math.min(m, p.event.occurredAt), Infinity);
    if (ids.length === 0 || (head !== undefined && earliest >= head.watermark)) candidates.push({ group, head });
    else slow.push({ group, heads: ids.map((id) => heads.get(id)!) });
  }
  // States not in memory are read back from the database, all at once, where they were saved current.
  const cachedStates = new Map<string, CachedState>();
  const missing: ComponentHead[] = [];
  for (const { head } of candidates) {
    if (head === undefined) continue;
    const cached = options.states.get(head.id, head.token, catalog);
    if (cached !== undefined) cachedStates.set(head.id, cached);
    else missing.push(head);
  }
  for (const [id, saved] of await options.w.savedStates(missing)) {
    cachedStates.set(id, { token: heads.get(id)!.token, catalog, state: saved.state, savedSize: saved.size, beforeLastInstant: null, lastInstant: [] });
  }
  const plans: FoldPlan[] = [];
  for (const { group, head } of candidates) {
    const base = head === undefined ? null : (cachedStates.get(head.id) ?? null);
    // An event of the watermark's instant is folded with that instant's events onto the state before
    // it, when that state is known (in memory); else the component is re-derived.
    const atWatermark = head !== undefined && group.some((p) => p.event.occurredAt === head.watermark);
    const refold = atWatermark && base?.beforeLastInstant != null ? base.lastInstant : null;
    const plan = head !== undefined && (base === null || (atWatermark && refold === null)) ? null : planFold(catalog, head, base, group, refold ?? []);
    if (plan === null) slow.push({ group, heads: head === undefined ? [] : [head] });
    else plans.push(plan);
  }
  const outcomes = await writeFolds(catalog, plans, known, options);
  for (const { group, heads: theirs } of slow) outcomes.push(await rederive(catalog, theirs, group, options));
  return outcomes;
};

/** Locks the batch's keys, then the components they belong to, until no key has moved to another component. */
const lockedComponents = async (w: ProjectionWrites, keys: readonly string[]): Promise<Map<string, string>> => {
  await w.lockKeys(keys);
  const locked = new Set<string>();
  for (;;) {
    const found = await componentsOfKeys(w.sql, keys);
    const unlocked = [...new Set(found.values())].filter((id) => !locked.has(id));
    if (unlocked.length === 0 || !w.locking) return found;
    await w.lockComponents(unlocked);
    for (const id of unlocked) locked.add(id);
  }
};

/** The body of a projection of stored events, inside the caller's transaction (see projectEvents). */
const projectWithin = async (catalog: Catalog, rows: readonly StoredEvent[], options: Options): Promise<ProjectionResult> => {
  const done = await options.w.projectedAmong(rows.map((r) => r.seq));
  const batch = rows.filter((r) => !done.has(r.seq)).map((r) => projected(r, catalog));
  const keys = [...new Set(batch.flatMap((p) => p.keys))].sort();
  const known = await lockedComponents(options.w, keys);

  // Events that share a key, or whose keys belong to one component, are projected together.
  const groups = connectedGroups(batch.map((p) => [...p.keys, ...p.keys.flatMap((k) => (known.has(k) ? [`\u0000${known.get(k)!}`] : []))]));
  const users = new Set<string>();
  const affected = new Set<string>();
  let incremental = 0;
  let rederived = 0;
  // An event that names no identity changes nothing (the resolver skips it).
  const withKeys = groups.map((indices) => indices.map((i) => batch[i]!)).filter((group) => group[0]!.keys.length > 0);
  for (const outcome of await projectGroups(catalog, withKeys, known, options)) {
    for (const u of outcome.users) users.add(u);
    for (const u of outcome.affected) affected.add(u);
    options.states.set(...outcome.cached);
    if (outcome.incremental) incremental += outcome.events;
    else rederived += outcome.events;
  }

  const eventKeysRows = batch.flatMap((p) => p.keys.map((key) => ({ eventSeq: p.seq, key })));
  await options.w.insert("EventKey", eventKeysRows);
  const now = new Date();
  await options.w.insert("ProjectedEvent", batch.map((p) => ({ seq: p.seq, projectedAt: now })));
  return { seqs: batch.map((p) => p.seq).sort((a, b) => a - b), users: [...users], affected: [...affected], incremental, rederived };
};

/**
 * Projects the events `seqs` (those not projected yet), in one transaction with the checkpoint:
 * each connected group of them is folded onto its component's saved state, or its components are
 * re-derived from all their events (see the top of this file).
 */
export const projectEvents = async (db: Database, catalog: Catalog, seqs: readonly number[]): Promise<ProjectionResult> => {
  const shared = stateCacheOf(db);
  const attempt = async () => {
    const states = new PendingStates(shared);
    const result = await inProjectionTransaction(db, "shared", async (w) =>
      projectWithin(catalog, await readEventsBySeq(w.sql, seqs), { w, states, feed: true }),
    );
    states.publish();
    return result;
  };
  // Two projections that reach each other's components in opposite orders deadlock; PostgreSQL
  // aborts one of them, which then runs again (and waits its turn).
  let result: ProjectionResult;
  for (let tries = 1; ; tries++) {
    try {
      result = await attempt();
      break;
    } catch (e) {
      if (tries >= 5 || !isDeadlock(e)) throw e;
    }
  }
  // Other processes' read models drop these users (see read-model.ts).
  await announceProjected(db, result.affected);
  return result;
};

/**
 * Re-derives the components an already stored event belongs to from all their events (an operator
 * asking for it: the webhook-replay of other tools, without asking the provider to resend). An
 * event not projected yet is projected. Idempotent: the same events give the same rows, and the
 * feed gets only transitions the logs did not hold. Returns the users those components hold.
 */
export const rederiveEvent = async (db: Database, catalog: Catalog, seq: number): Promise<{ readonly users: readonly string[]; readonly affected: readonly string[] }> => {
  const states = new PendingStates(stateCacheOf(db));
  const result = await inProjectionTransaction(db, "shared", async (w) => {
    const [stored] = await readEventsBySeq(w.sql, [seq]);
    if (stored === undefined) return { users: [], affected: [] };
    if (!(await w.projectedAmong([seq])).has(seq)) return projectWithin(catalog, [stored], { w, states, feed: true });
    const { keys } = projected(stored, catalog);
    const known = await lockedComponents(w, [...keys].sort());
    const ids = [...new Set(keys.flatMap((k) => (known.has(k) ? [known.get(k)!] : [])))].sort();
    if (ids.length === 0) return { users: [], affected: [] };
    const heads = await componentHeads(w.sql, ids);
    const outcome = await rederive(catalog, heads, [], { w, states, feed: true });
    states.set(...outcome.cached);
    return outcome;
  });
  states.publish();
  await announceProjected(db, result.affected);
  return { users: result.users, affected: result.affected };
};

/**
 * Bump when a change to normalizers or the resolver means existing projections are out of date:
 * the next start rebuilds them from the event store.
 * 2: Paddle, Lemon Squeezy and Creem events derive facts; a cancelAt beyond the period end ends
 *    access at cancelAt, not at the period end.
 * 3: components and their folded states (Component, ComponentKey) are kept for incremental projection.
 */
export const PROJECTION_VERSION = "3";

/** What the projections were derived with: the projection version and the plan catalog. */
export const catalogFingerprint = (catalog: Catalog): string =>
  `${PROJECTION_VERSION}:${createHash("sha256").update(JSON.stringify(catalog)).digest("hex")}`;

/** A turn of the event loop, so requests waiting for I/O are answered between batches of synchronous work. */
const yieldToRequests = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Events a rebuild reads and projects at a time. */
const REBUILD_BATCH = 1_000;

/** The next events in time order (then seq) after `after`: a rebuild folds mostly onto saved states. */
/**
 * Rebuilds every projection from the event store, in one transaction (readers see the old state or
 * the new, never a half-built one), and records the catalog they were derived with. Events are read
 * in batches in time order and projected as they would have been had they arrived in that order,
 * so memory holds a batch and the folded states of the components it touches (an LRU), not the
 * store. The feed gets the transitions the old logs did not hold. `observe` runs inside that
 * transaction, just before the rebuild and just after it. Returns how many events were re-derived
 * and how many users they gave.
 */
export const rebuildProjections = async (
  db: Database,
  catalog: Catalog,
  observe: { readonly before?: (sql: Sql) => Promise<void>; readonly after?: (sql: Sql) => Promise<void> } = {},
): Promise<{ readonly events: number; readonly users: number }> => {
  const wanted = catalogFingerprint(catalog);
  const rebuilt = await inProjectionTransaction(db, "alone", async (w) => {
    await observe.before?.(w.sql);
    // What the old logs hold, as a multiset of contents (a rebuild renumbers, and may move, them).
    const tally = await w.tallyTransitions();
    await w.clearProjections();

    const states = new PendingStates(null, 10_000);
    const unsaved = new Map<string, { token: string; events: number }>();
    let events = 0;
    // In time order, so most events fold onto the states in memory.
    for (let after: StoredEvent | null = null; ; ) {
      const rows = await readEventsInTimeOrder(w.sql, { after, take: REBUILD_BATCH });
      if (rows.length === 0) break;
      await projectWithin(catalog, rows, { w, states, feed: false, unsaved });
      events += rows.length;
      after = rows.at(-1)!;
      await yieldToRequests();
    }
    // Each state is saved once, as it ends. One dropped from memory meanwhile stays unsaved: its
    // component is re-derived when an event next reaches it.
    await saveStates(
      w.sql,
      [...unsaved].flatMap(([id, { token, events }]) => {
        const cached = states.get(id, token, catalog);
        return cached === undefined ? [] : [{ id, token, events, state: save(cached.state) }];
      }),
    );

    // Usage counters, leases and credit draws are derived too, from the app's events. Those are
    // decided and written under the append lock (store/usage.ts), so the rebuild takes it: a usage
    // committing meanwhile would be decided on counters this transaction is rewriting, and its feed
    // rows would race the ones appended here. Appends wait for the rest of the rebuild (until it
    // commits); SQLite has one writer anyway. Taken before the feed is written: the append lock comes
    // before the feed lock everywhere.
    await lockAppends(w.sql);
    // The feed gets what the rebuilt logs hold and the old ones did not, per user in log order.
    await w.appendGained(tally);
    await rebuildUsageCounters(w.sql);
    await rebuildLeases(w.sql);
    await rebuildActivations(w.sql);
    await w.setDerivedWith(wanted);
    await observe.after?.(w.sql);
    return { events, users: await w.countUsers() };
  });
  // Every component got a new token: cached states are stale anyway; drop them to free the memory.
  stateCacheOf(db).clear();
  await announceProjected(db, "all");
  return rebuilt;
};

/**
 * Rebuilds every projection from the event store when the plan catalog or the projection version
 * changed since they were derived; one transaction, so readers see the old state or the new.
 * Returns whether it rebuilt.
 */
export const rebuildIfStale = async (db: Database, catalog: Catalog, rebuilding: () => void = () => undefined): Promise<boolean> => {
  const wanted = catalogFingerprint(catalog);
  if ((await derivedWith(db)) === wanted) return false;
  const rebuild = await hasProjections(db);
  if (rebuild) rebuilding(), await rebuildProjections(db, catalog);
  else await setDerivedWith(db, wanted);
  return rebuild;
};

export const projectEvent = (db: Database, catalog: Catalog, seq: number): Promise<ProjectionResult> => projectEvents(db, catalog, [seq]);

/** Events projected in one transaction by the live projector (a catch-up takes larger batches). */
const MAX_PROJECTION_BATCH = 64;

/** Longest a projection waits for appends under way before it runs anyway. */
const MAX_YIELD_MS = 50;

/**
 * Serializes projection within this process and catches up on anything left pending (after a
 * crash, a failed projection, or when another process appended). Events that arrive while a
 * projection runs are projected together in the next transaction; if that fails, each is tried on
 * its own so one bad event cannot hold the others back. PostgreSQL serializes across processes
 * with the lock.
 */
export class Projector {
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: { seq: number; resolve: (r: ProjectionResult) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  // How far projections have got, as this process knows it: events handed to project() and not
  // yet committed, events whose projection failed (catch-up retries them), the newest seq known.
  private readonly inFlight = new Set<number>();
  private readonly failed = new Set<number>();
  private newest = 0;

  constructor(
    private readonly db: Database,
    private readonly catalog: Catalog,
    /**
     * Whether appends are under way. A projection blocks the event loop while it folds and writes
     * (SQLite is synchronous), so it waits for them, up to MAX_YIELD_MS: deliveries are appended
     * together and answered first, and their events are then projected in one transaction.
     */
    private readonly appendsUnderWay: () => boolean = () => false,
    /** Told, after each commit, which users it changed (this process's read model drops them). */
    private readonly onCommitted: (users: readonly string[] | "all") => void = () => undefined,
  ) {}

  private commit(seqs: readonly number[]): Promise<ProjectionResult> {
    return projectEvents(this.db, this.catalog, seqs).then((result) => {
      this.onCommitted(result.affected);
      return result;
    });
  }

  /**
   * The largest seq such that every event up to it is projected, as far as this process knows:
   * its own deliveries and what catch-up found (another process's newer events count once a
   * catch-up or a delivery here has seen them).
   */
  get projectedThrough(): number {
    let lowest = this.newest + 1;
    for (const seq of this.inFlight) lowest = Math.min(lowest, seq);
    for (const seq of this.failed) lowest = Math.min(lowest, seq);
    return lowest - 1;
  }

  /** Events whose projection failed and waits for a catch-up to retry it. */
  get failing(): ReadonlySet<number> {
    return this.failed;
  }

  /** Notes events just appended, before they are handed to project(): they are not projected yet. */
  expect(seqs: readonly number[]): void {
    for (const seq of seqs) {
      this.inFlight.add(seq);
      this.newest = Math.max(this.newest, seq);
    }
  }

  /** Notes events stored already projected (usage records, whose projection is their counter). */
  noteProjected(seqs: readonly number[]): void {
    for (const seq of seqs) this.newest = Math.max(this.newest, seq);
  }

  /** Projects one event; resolves when its effects are committed. */
  project(seq: number): Promise<ProjectionResult> {
    this.inFlight.add(seq);
    this.newest = Math.max(this.newest, seq);
    return new Promise<ProjectionResult>((resolve, reject) => {
      this.waiting.push({ seq, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the pending I/O (deliveries being read): they append first and are then projected
        // together with this one, instead of waiting behind a projection one by one.
        setImmediate(() => void this.enqueue(() => this.flush()));
      }
    }).then(
      (result) => {
        this.inFlight.delete(seq);
        this.failed.delete(seq);
        return result;
      },
      (e: unknown) => {
        this.inFlight.delete(seq);
        this.failed.add(seq);
        throw e;
      },
    );
  }

  private async flush(): Promise<void> {
    const until = performance.now() + MAX_YIELD_MS;
    while (this.waiting.length < MAX_PROJECTION_BATCH && this.appendsUnderWay() && performance.now() < until) await new Promise((r) => setImmediate(r));
    // A bounded batch: projection runs on the thread that answers requests, and SQLite's
    // statements are synchronous, so one long batch would hold every delivery behind it.
    const batch = this.waiting.splice(0, MAX_PROJECTION_BATCH);
    if (this.waiting.length > 0) setImmediate(() => void this.enqueue(() => this.flush()));
    else this.scheduled = false;
    try {
      const result = await this.commit(batch.map((w) => w.seq));
      for (const w of batch) w.resolve(result);
    } catch (e) {
      if (batch.length === 1) return batch[0]!.reject(e);
      for (const w of batch) await this.commit([w.seq]).then(w.resolve, w.reject);
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Projects every pending event; returns how many events the projections now include anew and
   * which ones failed (they stay pending, to be tried again by the next catch-up).
   */
  catchUp(batchSize = 200): Promise<{ readonly projected: number; readonly failed: readonly number[] }> {
    return this.enqueue(async () => {
      const failed = new Set<number>();
      // Counted from what each commit projected: counting the projected rows would scan them.
      let projected = 0;
      // Read before looking: every event up to it is stored already, so once none above the floor
      // is left unprojected (failures aside), everything up to it is projected.
      const last = await lastEventSeq(this.db);
      const floor = await projectedFloor(this.db);
      for (;;) {
        const batch = (await pendingSeqs(this.db, batchSize + failed.size, floor)).filter((seq) => !failed.has(seq)).slice(0, batchSize);
        if (batch.length === 0) break;
        try {
          projected += (await this.commit(batch)).seqs.length;
        } catch {
          for (const seq of batch) {
            await this.commit([seq]).then(
              (r) => void (projected += r.seqs.length),
              () => failed.add(seq),
            );
          }
        }
        // SQLite's statements run synchronously: without a turn of the event loop between batches,
        // a long catch-up would leave requests (health probes among them) unanswered until it ends.
        await yieldToRequests();
      }
      this.failed.clear();
      for (const seq of failed) this.failed.add(seq);
      const through = failed.size === 0 ? last : Math.min(...failed) - 1;
      if (through > floor) await setProjectedFloor(this.db, through);
      this.newest = Math.max(this.newest, await lastEventSeq(this.db));
      return { projected, failed: [...failed] };
    });
  }
}
