// The live transition feed: after a re-derivation, what the users' transition logs gained is
// appended in order, with a sequence number subscribers resume from. A late event that rewrites
// history appends only the transitions that are new; ones that merely moved are not repeated.
import pg from "pg";
import type { Database, Prisma } from "./database.js";
import { Prisma as Statement } from "./generated/postgresql/client.js";
import { insertRows } from "./insert-rows.js";
import { sqlOf, type Sql } from "./sql.js";
import type { DatabaseKind } from "./url.js";

type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];

export type FeedTransition = {
  readonly userId: string;
  readonly entity: string;
  readonly entityId: string;
  readonly field: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly cause: string;
  readonly at: Date;
};

export type FeedRow = FeedTransition & { readonly seq: number; readonly keyId?: string | null; readonly requestId?: string | null };

// The user id is left out: a merge moves old transitions to another user without making them new.
const contentKey = (t: FeedTransition): string =>
  [t.entity, t.entityId, t.field, t.from ?? "\u0000", t.to ?? "\u0000", t.cause, t.at.toISOString()].join("\u0001");

/**
 * Transitions already in a log, as a multiset of their contents: what a re-derivation compares its
 * new log with, so only transitions that are new reach the feed (a rebuild fills it page by page).
 */
export class TransitionTally {
  private readonly held = new Map<string, number>();

  add(transitions: Iterable<FeedTransition>): this {
    for (const t of transitions) this.held.set(contentKey(t), (this.held.get(contentKey(t)) ?? 0) + 1);
    return this;
  }

  /** The transitions, in order, that the tally does not hold; each one it holds is used up once. */
  gained(transitions: readonly FeedTransition[]): FeedTransition[] {
    return transitions.filter((t) => {
      const k = contentKey(t);
      const n = this.held.get(k) ?? 0;
      if (n === 0) return true;
      this.held.set(k, n - 1);
      return false;
    });
  }
}

/** The transitions of `after` that `before` does not hold (as a multiset), in `after`'s order. */
export const gainedTransitions = (before: readonly FeedTransition[], after: readonly FeedTransition[]): FeedTransition[] =>
  new TransitionTally().add(before).gained(after);

const FEED_COLUMNS = ["userId", "entity", "entityId", "field", "from", "to", "cause", "at", "keyId", "requestId"] as const;

// Feed rows are appended under this lock, held to commit, so feed seq order is commit order and a
// subscriber paging by seq never passes a row that commits later with a smaller seq. Every writer
// of the feed takes it (projections, usage and lease commits) after any append lock it holds.
const FEED_LOCK = 4_242_004;

/** Takes the feed lock until the transaction `sql` runs in ends (PostgreSQL; SQLite has one writer). */
export const lockFeed = async (sql: Sql): Promise<void> => {
  if (sql.kind === "postgresql") await sql.query(Statement.sql`SELECT 1 FROM pg_advisory_xact_lock(${FEED_LOCK})`);
};

/** Appends transitions to the feed, which numbers them (see insert-rows.ts for why not createMany). */
export const appendToFeed = (sql: Sql, gained: readonly (FeedTransition & { readonly keyId?: string; readonly requestId?: string })[]): Promise<void> =>
  insertRows(
    sql,
    "TransitionFeed",
    FEED_COLUMNS,
    gained.map((t) => ({ userId: t.userId, entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause, at: t.at, keyId: t.keyId ?? null, requestId: t.requestId ?? null })),
  );

export type FeedFilter = { readonly userId?: string | null; readonly entity?: string | null; readonly field?: string | null };

export const matchesFilter = (row: FeedTransition, f: FeedFilter): boolean =>
  (f.userId == null || row.userId === f.userId) && (f.entity == null || row.entity === f.entity) && (f.field == null || row.field === f.field);

type FeedRecord = Omit<FeedRow, "at" | "seq"> & { readonly seq: number | bigint; readonly at: Date | string };

const FEED_SELECT = Statement.raw(`"seq", "userId", "entity", "entityId", "field", "from", "to", "cause", "at", "keyId", "requestId"`);

/**
 * Feed rows after `afterSeq`, oldest first. Plain SQL rather than the ORM: the live feed asks after
 * every commit, and under usage load the ORM's own work per query cost more than the read (profiled:
 * ~6% of a usage record's CPU).
 */
export const readFeed = async (db: Database, afterSeq: number, limit: number, filter: FeedFilter = {}): Promise<FeedRow[]> => {
  const where = [
    Statement.sql`"seq" > ${afterSeq}`,
    ...(filter.userId == null ? [] : [Statement.sql`"userId" = ${filter.userId}`]),
    ...(filter.entity == null ? [] : [Statement.sql`"entity" = ${filter.entity}`]),
    ...(filter.field == null ? [] : [Statement.sql`"field" = ${filter.field}`]),
  ];
  const rows = await sqlOf(db).query<FeedRecord>(Statement.sql`SELECT ${FEED_SELECT} FROM "TransitionFeed" WHERE ${Statement.join(where, " AND ")} ORDER BY "seq" LIMIT ${limit}`);
  return rows.map((r) => ({ ...r, seq: Number(r.seq), at: r.at instanceof Date ? r.at : new Date(r.at) }));
};

/** The newest `limit` feed rows, newest first (the dashboard's live view starts from them). */
export const recentFeed = async (db: Database, limit: number, filter: FeedFilter = {}): Promise<FeedRow[]> => {
  const rows = await db.prisma.transitionFeed.findMany({
    where: {
      ...(filter.userId == null ? {} : { userId: filter.userId }),
      ...(filter.entity == null ? {} : { entity: filter.entity }),
      ...(filter.field == null ? {} : { field: filter.field }),
    },
    orderBy: { seq: "desc" },
    take: limit,
  });
  // Shown (and resumed from) only once on disk: see the live hub's refresh.
  await db.walFlusher?.barrier();
  return rows;
};

/** The opaque cursor subscribers resume from. */
/** Sequence numbers are 32-bit integer columns: a cursor beyond that names no row (and Prisma would refuse it). */
export const MAX_SEQ = 2 ** 31 - 1;

export const encodeFeedCursor = (seq: number): string => Buffer.from(`feed:${seq}`).toString("base64url");

export const decodeFeedCursor = (cursor: string): number | null => {
  const m = /^feed:(\d{1,10})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return m && Number(m[1]) <= MAX_SEQ ? Number(m[1]) : null;
};

export const lastFeedSeq = async (db: Database): Promise<number> =>
  Number((await sqlOf(db).query<{ seq: number | bigint | null }>(Statement.sql`SELECT max("seq") AS "seq" FROM "TransitionFeed"`))[0]?.seq ?? 0);

const FEED_CHANNEL = "verity_feed";

/** Tells other processes on the same PostgreSQL that the feed grew (no-op on SQLite: one process). */
export const announceFeed = async (db: Database): Promise<void> => {
  if (db.kind === "postgresql") await db.prisma.$executeRawUnsafe(`NOTIFY ${FEED_CHANNEL}`);
};

/**
 * Calls `onChange` whenever any process announces that the feed grew (PostgreSQL LISTEN). Returns
 * how to stop listening; null on SQLite, where a single process sees its own appends.
 */
export const listenForFeed = async (db: Database, onChange: () => void): Promise<(() => Promise<void>) | null> => {
  if (db.kind !== "postgresql") return null;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  client.on("notification", (msg) => {
    if (msg.channel === FEED_CHANNEL) onChange();
  });
  // A dropped listener connection must not take the process down; polling still delivers.
  client.on("error", () => undefined);
  await client.query(`LISTEN ${FEED_CHANNEL}`);
  return async () => {
    await client.end().catch(() => undefined);
  };
};
