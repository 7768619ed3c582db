// Projects stored events into users, subscriptions, orders, entitlements and the transition log.
// A new event re-derives the whole user it touches (the connected component of its identity keys)
// from that user's events in canonical order, so a late or out-of-order event can never corrupt
// state. Projections, the event→keys index and the checkpoint are written in one transaction.
import { createHash } from "node:crypto";
import type { Catalog } from "../domain/catalog.js";
import type { NormalizedEvent } from "../domain/event.js";
import { replayEvents } from "../domain/resolver.js";
import type { State, Transition } from "../domain/state.js";
import type { Database, Prisma } from "./database.js";
import { toStoredEvent } from "./events.js";
import { appendToFeed, gainedTransitions, type FeedTransition } from "./feed.js";
import { normalizeStored } from "./normalize-stored.js";
import { projectionRows } from "./projection-rows.js";
import { announceProjected } from "./read-model.js";

type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];


const keysOf = (event: NormalizedEvent): string[] => [...new Set(event.facts.flatMap((f) => f.keys))];

/** Writes the projection rows of `state`; returns the transition rows written, in fold order. */
const writeState = async (tx: Tx, state: State, transitions: readonly Transition[], catalog: Catalog): Promise<FeedTransition[]> => {
  const rows = projectionRows(state, transitions, catalog);
  if (rows.users.length === 0) return [];
  await tx.user.createMany({ data: rows.users });
  await tx.userIdentity.createMany({ data: rows.identities });
  if (rows.subscriptions.length > 0) await tx.subscription.createMany({ data: rows.subscriptions });
  if (rows.orders.length > 0) await tx.order.createMany({ data: rows.orders });
  if (rows.grants.length > 0) await tx.entitlement.createMany({ data: rows.grants });
  if (rows.transitions.length > 0) await tx.transition.createMany({ data: rows.transitions });
  return rows.transitions;
};

/**
 * A database takes a bounded number of parameters per statement (Prisma splits the `in` lists of
 * reads itself, not those of deletes): writes over many ids go in chunks of this size.
 */
const CHUNK = 500;

const inChunks = async <T>(values: readonly T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> => {
  for (let i = 0; i < values.length; i += CHUNK) await write(values.slice(i, i + CHUNK));
};

/** Removes users and, through ON DELETE CASCADE, everything projected for them. */
const deleteUsers = async (tx: Tx, userIds: readonly string[]): Promise<void> =>
  inChunks(userIds, (chunk) => tx.user.deleteMany({ where: { id: { in: chunk } } }));

// On PostgreSQL, a projection holds this lock shared and locks each identity key of the component
// it re-derives: projections of different users run at once, in any process; projections that share
// a key take turns; a rebuild of everything holds it exclusively.
const PROJECTION_LOCK = 4_242_002;
// Feed rows are appended under this lock, held to commit, so feed seq order is commit order and a
// subscriber paging by seq never passes a row that commits later with a smaller seq.
const FEED_LOCK = 4_242_004;

/** Locks these identity keys for the rest of the transaction (PostgreSQL), in one order to limit deadlocks. */
type KeyLocker = (keys: readonly string[]) => Promise<void>;

const noLocks: KeyLocker = async () => undefined;

const postgresKeyLocks =
  (tx: Tx): KeyLocker =>
  async (keys) => {
    if (keys.length === 0) return;
    await tx.$queryRawUnsafe(
      `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 4242))) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted`,
      [...keys],
    );
  };

/** `users`: the users the projection gives; `affected`: every user whose rows it rewrote or removed. */
export type ProjectionResult = { readonly seqs: readonly number[]; readonly users: readonly string[]; readonly affected: readonly string[] };

const EVENT_COLUMNS = { seq: true, provider: true, providerEventId: true, type: true, occurredAt: true, receivedAt: true, origin: true, rawBody: true } as const;

/** The body of a projection, inside the caller's transaction (see projectEvents). */
const projectWithin = async (tx: Tx, catalog: Catalog, seqs: readonly number[], lock: KeyLocker = noLocks): Promise<ProjectionResult> => {
  const fresh = await tx.event.findMany({ where: { seq: { in: [...seqs] } }, select: EVENT_COLUMNS });
  const normalized = new Map(fresh.map((r) => [r.seq, normalizeStored(toStoredEvent({ ...r, payload: null }), catalog)]));
  // The whole connected component: users owning any key, their keys, events naming those keys,
  // their keys in turn — until nothing new. (Two users with different app ids can share a key, so
  // one hop is not enough.) On PostgreSQL each key is locked before the pass that reads through it,
  // and the search ends only with a pass that found nothing new with every key already locked, so
  // the component is read as the projections that held those keys left it.
  const keys = new Set([...normalized.values()].flatMap(keysOf));
  const locked = new Set<string>();
  const owners = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    const unlocked = lock === noLocks ? [] : [...keys].filter((k) => !locked.has(k));
    if (unlocked.length > 0) {
      await lock(unlocked);
      for (const k of unlocked) locked.add(k);
    }
    for (const r of await tx.userIdentity.findMany({ where: { key: { in: [...keys] } }, select: { userId: true } })) {
      if (!owners.has(r.userId)) (owners.add(r.userId), (grew = true));
    }
    for (const r of await tx.userIdentity.findMany({ where: { userId: { in: [...owners] } }, select: { key: true } })) keys.add(r.key);
    const related = await tx.eventKey.findMany({ where: { key: { in: [...keys] } }, select: { eventSeq: true } });
    const others = [...new Set(related.map((r) => r.eventSeq))].filter((seq) => !normalized.has(seq));
    // Keys found in this pass are locked, and read through, in the next.
    if (lock !== noLocks && [...keys].some((k) => !locked.has(k))) grew = true;
    if (others.length === 0) continue;
    grew = true;
    for (const r of await tx.event.findMany({ where: { seq: { in: others } }, select: EVENT_COLUMNS })) {
      const event = normalizeStored(toStoredEvent({ ...r, payload: null }), catalog);
      normalized.set(r.seq, event);
      for (const k of keysOf(event)) keys.add(k);
    }
  }

  const { state, transitions } = replayEvents(catalog, [...normalized.values()]);

  const previous = await tx.transition.findMany({ where: { userId: { in: [...owners] } }, orderBy: [{ userId: "asc" }, { ordinal: "asc" }] });
  await deleteUsers(tx, [...owners]);
  const written = await writeState(tx, state, transitions, catalog);
  const gained = gainedTransitions(previous, written);
  if (gained.length > 0 && lock !== noLocks) await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${FEED_LOCK})`);
  await appendToFeed(tx, gained);
  // Events already projected keep their key index and checkpoint row; only new ones get them.
  const done = new Set((await tx.projectedEvent.findMany({ where: { seq: { in: [...normalized.keys()] } }, select: { seq: true } })).map((r) => r.seq));
  const added = [...normalized.keys()].filter((seq) => !done.has(seq)).sort((a, b) => a - b);
  const eventKeys = added.flatMap((seq) => keysOf(normalized.get(seq)!).map((key) => ({ eventSeq: seq, key })));
  if (eventKeys.length > 0) {
    await inChunks(added, (chunk) => tx.eventKey.deleteMany({ where: { eventSeq: { in: chunk } } }));
    await tx.eventKey.createMany({ data: eventKeys });
  }
  if (added.length > 0) await tx.projectedEvent.createMany({ data: added.map((seq) => ({ seq, projectedAt: new Date() })) });
  const users = Object.keys(state.users);
  return { seqs: [...normalized.keys()].sort((a, b) => a - b), users, affected: [...new Set([...owners, ...users])] };
};

const TX_OPTIONS = { maxWait: 30_000, timeout: 300_000 };

const isDeadlock = (e: unknown): boolean => /deadlock detected|40P01/.test(String((e as Error | null)?.message ?? "")) || (e as { code?: string } | null)?.code === "40P01";

/**
 * Re-derives the users that the events `seqs` touch, in one transaction with the checkpoint:
 * finds every event of those users (through the identity keys they share), folds them in
 * canonical order, and replaces the users' projections with the result.
 */
export const projectEvents = async (db: Database, catalog: Catalog, seqs: readonly number[]): Promise<ProjectionResult> => {
  const attempt = () =>
    db.prisma.$transaction(async (tx) => {
      if (db.kind !== "postgresql") return projectWithin(tx, catalog, seqs);
      await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock_shared(${PROJECTION_LOCK})`);
      return projectWithin(tx, catalog, seqs, postgresKeyLocks(tx));
    }, TX_OPTIONS);
  // Two projections that discover each other's keys in opposite orders deadlock; PostgreSQL
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
 * Bump when a change to normalizers or the resolver means existing projections are out of date:
 * the next start rebuilds them from the event store.
 * 2: Paddle, Lemon Squeezy and Creem events derive facts; a cancelAt beyond the period end ends
 *    access at cancelAt, not at the period end.
 */
export const PROJECTION_VERSION = "2";

/** What the projections were derived with: the projection version and the plan catalog. */
export const catalogFingerprint = (catalog: Catalog): string =>
  `${PROJECTION_VERSION}:${createHash("sha256").update(JSON.stringify(catalog)).digest("hex")}`;

/**
 * Rebuilds every projection from the event store, in one transaction (readers see the old state or
 * the new, never a half-built one), and records the catalog they were derived with. `observe` runs
 * inside that transaction, just before the rebuild and just after it. Returns how many events were
 * re-derived and how many users they gave.
 */
export const rebuildProjections = async (
  db: Database,
  catalog: Catalog,
  observe: { readonly before?: (tx: Tx) => Promise<void>; readonly after?: (tx: Tx) => Promise<void> } = {},
): Promise<{ readonly events: number; readonly users: number }> => {
  const wanted = catalogFingerprint(catalog);
  const rebuilt = await db.prisma.$transaction(async (tx) => {
    if (db.kind === "postgresql") await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${PROJECTION_LOCK})`);
    await observe.before?.(tx);
    // Re-deriving every event replaces every user that owns a key (so the feed gets only what
    // changed); users no event derives any more are removed after.
    await tx.eventKey.deleteMany({});
    await tx.projectedEvent.deleteMany({});
    const seqs = (await tx.event.findMany({ select: { seq: true }, orderBy: { seq: "asc" } })).map((r) => r.seq);
    const derived = seqs.length > 0 ? (await projectWithin(tx, catalog, seqs)).users : [];
    const kept = new Set(derived);
    const gone = (await tx.user.findMany({ select: { id: true } })).map((u) => u.id).filter((id) => !kept.has(id));
    await deleteUsers(tx, gone);
    await tx.projectionMeta.upsert({ where: { key: "derivedWith" }, create: { key: "derivedWith", value: wanted }, update: { value: wanted } });
    await observe.after?.(tx);
    return { events: seqs.length, users: derived.length };
  }, TX_OPTIONS);
  await announceProjected(db, "all");
  return rebuilt;
};

/**
 * Rebuilds every projection from the event store when the plan catalog or the projection version
 * changed since they were derived; one transaction, so readers see the old state or the new.
 * Returns whether it rebuilt.
 */
export const rebuildIfStale = async (db: Database, catalog: Catalog): Promise<boolean> => {
  const wanted = catalogFingerprint(catalog);
  const current = await db.prisma.projectionMeta.findUnique({ where: { key: "derivedWith" } });
  if (current?.value === wanted) return false;
  const hasProjections = (await db.prisma.projectedEvent.count()) > 0;
  if (hasProjections) await rebuildProjections(db, catalog);
  else await db.prisma.projectionMeta.upsert({ where: { key: "derivedWith" }, create: { key: "derivedWith", value: wanted }, update: { value: wanted } });
  return hasProjections;
};

export const projectEvent = (db: Database, catalog: Catalog, seq: number): Promise<ProjectionResult> => projectEvents(db, catalog, [seq]);

/** Sequence numbers of stored events whose effects the projections do not include yet. */
export const pendingSeqs = async (db: Database, limit = 500): Promise<number[]> => {
  const rows = await db.prisma.$queryRawUnsafe<{ seq: number | bigint }[]>(
    `SELECT e."seq" FROM "Event" e LEFT JOIN "ProjectedEvent" p ON p."seq" = e."seq" WHERE p."seq" IS NULL ORDER BY e."seq" LIMIT ${Number(limit)}`,
  );
  return rows.map((r) => Number(r.seq));
};

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

  /** Notes events just appended, before they are handed to project(): they are not projected yet. */
  expect(seqs: readonly number[]): void {
    for (const seq of seqs) {
      this.inFlight.add(seq);
      this.newest = Math.max(this.newest, seq);
    }
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
    while (this.appendsUnderWay() && performance.now() < until) await new Promise((r) => setImmediate(r));
    this.scheduled = false;
    const batch = this.waiting.splice(0);
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
      const before = await this.db.prisma.projectedEvent.count();
      for (;;) {
        const batch = (await pendingSeqs(this.db, batchSize + failed.size)).filter((seq) => !failed.has(seq)).slice(0, batchSize);
        if (batch.length === 0) break;
        try {
          await this.commit(batch);
        } catch {
          for (const seq of batch) await this.commit([seq]).catch(() => failed.add(seq));
        }
      }
      this.failed.clear();
      for (const seq of failed) this.failed.add(seq);
      const last = await this.db.prisma.event.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } });
      this.newest = Math.max(this.newest, last?.seq ?? 0);
      return { projected: (await this.db.prisma.projectedEvent.count()) - before, failed: [...failed] };
    });
  }
}
