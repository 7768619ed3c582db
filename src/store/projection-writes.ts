// What projection writes and reads inside its transaction, and the transaction itself: the
// persistence side of src/projection/projector.ts. Rows go through bound SQL (sql.ts), not
// Prisma's engine; on PostgreSQL, advisory locks let projections of different users run at once in
// any process while projections of one component take turns and a rebuild runs alone.
import type { Catalog } from "../domain/catalog.js";
import type { State, Transition } from "../domain/state.js";
import { dropComponents, savedStates, type ComponentHead } from "./components.js";
import type { Database, Prisma as Client } from "./database.js";
import { instantOf } from "./events.js";
import { appendToFeed, lockFeed, TransitionTally, type FeedTransition } from "./feed.js";
import { Prisma } from "./generated/postgresql/client.js";
import { insertRows, sqlValue, type SqlValue } from "./insert-rows.js";
import { projectionRows, PROJECTION_COLUMNS, type ProjectedGrant, type ProjectedTransition } from "./projection-rows.js";
import { sqlOf, type Sql } from "./sql.js";

type Tx = Parameters<Parameters<Client["$transaction"]>[0]>[0];

/** Column lists of the rows projection inserts (projection tables from PROJECTION_COLUMNS). */
const columnsOf = <T extends object>(select: T) => Object.keys(select) as (keyof T & string)[];
const COLUMNS = {
  User: columnsOf(PROJECTION_COLUMNS.users),
  UserIdentity: columnsOf(PROJECTION_COLUMNS.identities),
  Subscription: columnsOf(PROJECTION_COLUMNS.subscriptions),
  Order: columnsOf(PROJECTION_COLUMNS.orders),
  Entitlement: columnsOf(PROJECTION_COLUMNS.grants),
  Transition: columnsOf(PROJECTION_COLUMNS.transitions),
  EventKey: ["eventSeq", "key"] as const,
  ProjectedEvent: ["seq", "projectedAt"] as const,
  ComponentKey: ["key", "componentId"] as const,
};

export type InsertTable = keyof typeof COLUMNS;
export type RowOf<T extends InsertTable> = { readonly [K in (typeof COLUMNS)[T][number]]: SqlValue };

/**
 * A database takes a bounded number of parameters per statement (Prisma splits the `in` lists of
 * reads itself, not those of deletes and inserts): writes over many rows go in chunks of this size.
 */
export const CHUNK = 500;

const inChunks = async <T>(values: readonly T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> => {
  for (let i = 0; i < values.length; i += CHUNK) await write(values.slice(i, i + CHUNK));
};

// On PostgreSQL, a projection holds this lock shared and locks the identity keys of its events and
// then the components they belong to: projections of different users run at once, in any process;
// projections of one component take turns; a rebuild of everything holds it exclusively.
const PROJECTION_LOCK = 4_242_002;

/** Locks names (identity keys, component ids) for the rest of the transaction, in one order to limit deadlocks. */
const advisoryLocks = (tx: Tx, seed: number) => async (names: readonly string[]) => {
  if (names.length === 0) return;
  await tx.$queryRawUnsafe(
    `SELECT count(pg_advisory_xact_lock(hashtextextended(k, ${seed}))) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted`,
    [...names],
  );
};

type GrantRow = Omit<ProjectedGrant, "limit" | "credits" | "validUntil" | "periodEnd"> & {
  limit: number | bigint | null;
  credits: number | bigint | null;
  validUntil: Date | string | null;
  periodEnd: Date | string | null;
};

const GRANT_COLUMNS = Prisma.raw(Object.keys(PROJECTION_COLUMNS.grants).map((c) => `"${c}"`).join(", "));

/** The reads and writes of one projection transaction. */
export class ProjectionWrites {
  readonly sql: Sql;
  /** Whether keys and components are locked (PostgreSQL, unless the transaction runs alone). */
  readonly locking: boolean;

  constructor(
    private readonly tx: Tx,
    db: Database,
    locking: boolean,
  ) {
    this.sql = sqlOf(db, tx);
    this.locking = locking;
  }

  /** Inserts rows of one table (see insert-rows.ts). */
  insert<T extends InsertTable>(table: T, rows: readonly RowOf<T>[]): Promise<void> {
    return insertRows(this.sql, table, COLUMNS[table] as readonly (typeof COLUMNS)[T][number][], rows);
  }

  /** Updates rows by id, every column but the id, one statement each. */
  async updateRows(table: "User" | "Subscription" | "Order", rows: readonly ({ readonly id: string } & Readonly<Record<string, SqlValue>>)[]): Promise<void> {
    for (const { id, ...columns } of rows) {
      const sets = Object.entries(columns).map(([c, v]) => Prisma.sql`${Prisma.raw(`"${c}"`)} = ${sqlValue(this.sql.kind, v)}`);
      await this.sql.run(Prisma.sql`UPDATE ${Prisma.raw(`"${table}"`)} SET ${Prisma.join(sets)} WHERE "id" = ${id}`);
    }
  }

  /** Writes the projection rows of `state`; returns the transition rows written, in fold order. */
  async writeState(state: State, transitions: readonly Transition[], catalog: Catalog): Promise<FeedTransition[]> {
    const rows = projectionRows(state, transitions, catalog);
    if (rows.users.length === 0) return [];
    await this.insert("User", rows.users);
    await this.insert("UserIdentity", rows.identities);
    await this.insert("Subscription", rows.subscriptions);
    await this.insert("Order", rows.orders);
    await this.insert("Entitlement", rows.grants);
    await this.insert("Transition", rows.transitions);
    return rows.transitions;
  }

  /** Removes users and, through ON DELETE CASCADE, everything projected for them. */
  deleteUsers(userIds: readonly string[]): Promise<void> {
    return inChunks(userIds, (chunk) => this.tx.user.deleteMany({ where: { id: { in: chunk } } }));
  }

  deleteGrants(ids: readonly string[]): Promise<void> {
    return inChunks(ids, (chunk) => this.sql.run(Prisma.sql`DELETE FROM "Entitlement" WHERE "id" IN (${Prisma.join(chunk)})`));
  }

  /** These users' transition logs, per user in log order. */
  transitionsOf(userIds: readonly string[]): Promise<ProjectedTransition[]> {
    return this.tx.transition.findMany({ where: { userId: { in: [...userIds] } }, orderBy: [{ userId: "asc" }, { ordinal: "asc" }] });
  }

  /** Removes and returns these users' transitions caused by these events (a refolded instant's tail of their logs). */
  async takeTransitions(userIds: readonly string[], causes: readonly string[]): Promise<ProjectedTransition[]> {
    const where = { userId: { in: [...userIds] }, cause: { in: [...causes] } };
    const taken = await this.tx.transition.findMany({ where, orderBy: [{ userId: "asc" }, { ordinal: "asc" }] });
    await this.tx.transition.deleteMany({ where });
    return taken;
  }

  /** The grant rows these users hold, as projection writes them (so they compare as JSON). */
  async grantsOf(userIds: readonly string[]): Promise<ProjectedGrant[]> {
    const number = (v: number | bigint | null) => (v === null ? null : Number(v));
    const date = (v: Date | string | null) => (v === null ? null : new Date(instantOf(v)));
    const found: ProjectedGrant[] = [];
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const rows = await this.sql.query<GrantRow>(Prisma.sql`SELECT ${GRANT_COLUMNS} FROM "Entitlement" WHERE "userId" IN (${Prisma.join(userIds.slice(i, i + CHUNK))})`);
      for (const g of rows) found.push({ ...g, limit: number(g.limit), credits: number(g.credits), validUntil: date(g.validUntil), periodEnd: date(g.periodEnd) });
    }
    return found;
  }

  /** Each owner's next free transition ordinal: one indexed max per owner, in one statement. */
  async nextOrdinals(owners: readonly string[]): Promise<Map<string, number>> {
    const next = new Map<string, number>();
    for (let i = 0; i < owners.length; i += CHUNK) {
      const rows = await this.sql.query<{ id: string; last: number | bigint | null }>(
        Prisma.sql`SELECT u."id" AS id, (SELECT max(t."ordinal") FROM "Transition" t WHERE t."userId" = u."id") AS last FROM "User" u WHERE u."id" IN (${Prisma.join(owners.slice(i, i + CHUNK))})`,
      );
      for (const r of rows) next.set(r.id, r.last === null ? 0 : Number(r.last) + 1);
    }
    return next;
  }

  /** Which of these events are projected already. */
  async projectedAmong(seqs: readonly number[]): Promise<Set<number>> {
    const done = new Set<number>();
    for (let i = 0; i < seqs.length; i += CHUNK) {
      for (const r of await this.sql.query<{ seq: number | bigint }>(Prisma.sql`SELECT "seq" FROM "ProjectedEvent" WHERE "seq" IN (${Prisma.join(seqs.slice(i, i + CHUNK))})`)) done.add(Number(r.seq));
    }
    return done;
  }

  /** The saved states of these components that are current (see components.ts). */
  savedStates(heads: readonly ComponentHead[]) {
    return savedStates(this.sql, heads);
  }

  /** Removes these components and their keys (their events are re-derived into another). */
  dropComponents(ids: readonly string[]): Promise<void> {
    return dropComponents(this.tx, ids);
  }

  lockKeys(keys: readonly string[]): Promise<void> {
    return this.locking ? advisoryLocks(this.tx, 4242)(keys) : Promise.resolve();
  }

  lockComponents(ids: readonly string[]): Promise<void> {
    return this.locking ? advisoryLocks(this.tx, 4243)(ids) : Promise.resolve();
  }

  /** Appends to the live feed, under the feed lock (held to commit) on PostgreSQL. */
  async appendToFeed(transitions: readonly FeedTransition[]): Promise<void> {
    if (transitions.length === 0) return;
    await lockFeed(this.sql);
    await appendToFeed(this.sql, transitions);
  }

  /** Every transition the projections hold, as a multiset of contents (see TransitionTally). */
  async tallyTransitions(): Promise<TransitionTally> {
    const tally = new TransitionTally();
    for (let cursor: string | undefined; ; ) {
      const page = await this.tx.transition.findMany({ orderBy: { id: "asc" }, take: 5_000, ...(cursor === undefined ? {} : { cursor: { id: cursor }, skip: 1 }) });
      tally.add(page);
      if (page.length < 5_000) return tally;
      cursor = page.at(-1)!.id;
    }
  }

  /** Removes every projection row, component and checkpoint (the event store stays). */
  async clearProjections(): Promise<void> {
    await this.tx.user.deleteMany({});
    await this.tx.componentKey.deleteMany({});
    await this.tx.componentState.deleteMany({});
    await this.tx.component.deleteMany({});
    await this.tx.eventKey.deleteMany({});
    await this.tx.projectedEvent.deleteMany({});
  }

  /** Appends to the feed what the transition logs hold and `tally` does not, per user in log order. */
  async appendGained(tally: TransitionTally): Promise<void> {
    for (let cursor: { userId: string; ordinal: number } | null = null; ; ) {
      const page: ProjectedTransition[] = await this.tx.transition.findMany({
        where: cursor === null ? {} : { OR: [{ userId: { gt: cursor.userId } }, { userId: cursor.userId, ordinal: { gt: cursor.ordinal } }] },
        orderBy: [{ userId: "asc" }, { ordinal: "asc" }],
        take: 5_000,
      });
      await appendToFeed(this.sql, tally.gained(page));
      if (page.length < 5_000) return;
      cursor = { userId: page.at(-1)!.userId, ordinal: page.at(-1)!.ordinal };
    }
  }

  setDerivedWith(value: string): Promise<unknown> {
    return this.tx.projectionMeta.upsert({ where: { key: "derivedWith" }, create: { key: "derivedWith", value }, update: { value } });
  }

  countUsers(): Promise<number> {
    return this.tx.user.count();
  }
}

const TX_OPTIONS = { maxWait: 30_000, timeout: 300_000 };

/**
 * Runs `work` in one projection transaction. "shared": beside other projections (on PostgreSQL,
 * each locks the keys and components it touches); "alone": no other projection runs meanwhile (a
 * rebuild).
 */
export const inProjectionTransaction = <T>(db: Database, mode: "shared" | "alone", work: (w: ProjectionWrites) => Promise<T>): Promise<T> =>
  db.prisma.$transaction(async (tx) => {
    const postgres = db.kind === "postgresql";
    if (postgres) await tx.$queryRawUnsafe(`SELECT 1 FROM ${mode === "alone" ? "pg_advisory_xact_lock" : "pg_advisory_xact_lock_shared"}(${PROJECTION_LOCK})`);
    return work(new ProjectionWrites(tx, db, postgres && mode === "shared"));
  }, TX_OPTIONS);

/** Whether a transaction failed because PostgreSQL chose it as a deadlock's victim. */
export const isDeadlock = (e: unknown): boolean => /deadlock detected|40P01/.test(String((e as Error | null)?.message ?? "")) || (e as { code?: string } | null)?.code === "40P01";

/** The catalog fingerprint the projections were derived with, or null. */
export const derivedWith = async (db: Database): Promise<string | null> => (await db.prisma.projectionMeta.findUnique({ where: { key: "derivedWith" } }))?.value ?? null;

export const setDerivedWith = (db: Database, value: string): Promise<unknown> =>
  db.prisma.projectionMeta.upsert({ where: { key: "derivedWith" }, create: { key: "derivedWith", value }, update: { value } });

/** Whether any event is projected. */
export const hasProjections = async (db: Database): Promise<boolean> => (await countProjected(db)) > 0;

/** How many events the projections include. */
export const countProjected = (db: Database): Promise<number> => db.prisma.projectedEvent.count();

/** Whether the projections include the event `seq`. */
export const isProjected = async (db: Database, seq: number): Promise<boolean> =>
  (await db.prisma.projectedEvent.findUnique({ where: { seq }, select: { seq: true } })) !== null;

/** Sequence numbers of stored events whose effects the projections do not include yet. */
export const pendingSeqs = async (db: Database, limit = 500, above = 0): Promise<number[]> => {
  const rows = await db.prisma.$queryRawUnsafe<{ seq: number | bigint }[]>(
    `SELECT e."seq" FROM "Event" e LEFT JOIN "ProjectedEvent" p ON p."seq" = e."seq" WHERE e."seq" > ${Number(above)} AND p."seq" IS NULL ORDER BY e."seq" LIMIT ${Number(limit)}`,
  );
  return rows.map((r) => Number(r.seq));
};

/**
 * A seq up to which every stored event is projected, as a catch-up last established it (0 when
 * none did): catch-up looks for unprojected events above it only, instead of walking the whole
 * event store (at 1,000,000 events the walk took 5 s warm and two minutes from a cold disk, all of
 * it blocking SQLite's one thread). Any value written is true when written and stays true:
 * projected events stay projected (a rebuild re-projects every one in its transaction), so
 * processes racing to write it can only leave a lower, still true, value.
 */
export const projectedFloor = async (db: Database): Promise<number> => Number((await db.prisma.projectionMeta.findUnique({ where: { key: "projectedFloor" } }))?.value ?? 0);

export const setProjectedFloor = (db: Database, seq: number): Promise<unknown> =>
  db.prisma.projectionMeta.upsert({ where: { key: "projectedFloor" }, create: { key: "projectedFloor", value: String(seq) }, update: { value: String(seq) } });
