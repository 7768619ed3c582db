// Raw statements on the store's hot paths (appends, projection writes, event reads). Through Prisma
// each statement pays for serializing every parameter and result into its engine and back: a batch
// of appends or projected rows cost it milliseconds where SQLite itself needs tens of microseconds.
// On SQLite the statements run directly on the connection Prisma's adapter holds (one connection:
// inside a transaction Prisma opened, they are part of it); on PostgreSQL they go through the
// transaction's own `$queryRaw`. Statements are Prisma.sql fragments either way, so they are written
// once, with bound parameters.
import type Sqlite from "better-sqlite3";
import type { Database, Prisma as Client } from "./database.js";
import type { Prisma } from "./generated/postgresql/client.js";
import type { DatabaseKind } from "./url.js";
import type { WalFlusher } from "./wal-flush.js";

export type Sql = {
  readonly kind: DatabaseKind;
  /** Whether a Bytes column reads back as a Buffer (SQLite's own connection); else select it as hex text. */
  readonly nativeBytes: boolean;
  /** Rows of a statement that returns rows (integers as numbers, SQLite instants as their text). */
  readonly query: <Row>(statement: Prisma.Sql) => Promise<Row[]>;
  /** Runs a statement; how many rows it changed. */
  readonly run: (statement: Prisma.Sql) => Promise<number>;
};

/** What runs raw statements through Prisma: a client or a transaction. */
export type RawClient = Pick<Client, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** A parameter as SQLite keeps it, the way Prisma writes it: instants as text with an offset, booleans as 0/1. */
const sqliteValue = (v: unknown): unknown => {
  if (v instanceof Date) return v.toISOString().replace("Z", "+00:00");
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v === undefined ? null : v;
};

/** Prepared statements by text; multi-row inserts vary in length, so the cache is bounded. */
const MAX_PREPARED = 256;

const prepared = new WeakMap<Sqlite.Database, Map<string, Sqlite.Statement>>();

const statementOn = (connection: Sqlite.Database, text: string): Sqlite.Statement => {
  let cache = prepared.get(connection);
  if (cache === undefined) prepared.set(connection, (cache = new Map()));
  let statement = cache.get(text);
  if (statement === undefined) {
    if (cache.size >= MAX_PREPARED) cache.clear();
    statement = connection.prepare(text);
    // The adapter reads integers as BigInt; seqs and counts here fit in a double.
    if (statement.reader) statement.safeIntegers(false);
    cache.set(text, statement);
  }
  return statement;
};

/** A transaction Prisma already ended (rolled back on its timeout, say): its statements must not run on their own. */
const ended = (inTransaction: boolean, connection: Sqlite.Database): Error | null =>
  inTransaction && !connection.inTransaction ? new Error("the transaction these statements belong to has ended") : null;

const direct = (connection: Sqlite.Database, inTransaction: boolean): Sql => ({
  kind: "sqlite",
  nativeBytes: true,
  query: <Row>(s: Prisma.Sql) => {
    try {
      const closed = ended(inTransaction, connection);
      if (closed) return Promise.reject(closed);
      return Promise.resolve(statementOn(connection, s.sql).all(...s.values.map(sqliteValue)) as Row[]);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  },
  run: (s: Prisma.Sql) => {
    try {
      const closed = ended(inTransaction, connection);
      if (closed) return Promise.reject(closed);
      return Promise.resolve(statementOn(connection, s.sql).run(...s.values.map(sqliteValue)).changes);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  },
});

const throughPrisma = (kind: DatabaseKind, client: RawClient): Sql => ({
  kind,
  // The driver adapters hand Bytes back as an array of numbers, one per byte.
  nativeBytes: false,
  query: <Row>(s: Prisma.Sql) => client.$queryRawUnsafe<Row[]>(kind === "sqlite" ? s.sql : s.text, ...s.values.map((v) => (kind === "sqlite" ? sqliteValue(v) : v))),
  run: (s: Prisma.Sql) => client.$executeRawUnsafe(kind === "sqlite" ? s.sql : s.text, ...s.values.map((v) => (kind === "sqlite" ? sqliteValue(v) : v))),
});

/**
 * The raw statement runner for `client` (the database's client, or a transaction Prisma opened on
 * it): on SQLite the adapter's own connection, so a statement inside the transaction callback is
 * part of that transaction, and fails once that transaction has ended instead of committing alone.
 */
export const sqlOf = (db: Pick<Database, "kind" | "sqlite" | "prisma">, client: RawClient = db.prisma): Sql =>
  db.sqlite !== null ? direct(db.sqlite, client !== db.prisma) : throughPrisma(db.kind, client);

/**
 * Runs `work` in one transaction and commits it; resolves once the commit is durable. On SQLite
 * the store opens it on the connection itself (BEGIN IMMEDIATE … COMMIT, holding the connection's
 * write lock): a Prisma interactive transaction costs several times the statements of a usage
 * commit. On PostgreSQL, Prisma's.
 */
export const transaction = async <T>(db: Database, work: (sql: Sql) => Promise<T>): Promise<T> => {
  const { result, durable } = await committedTransaction(db, work);
  await durable;
  return result;
};

/**
 * Back to synchronous=FULL for every other commit on the connection. SQLite refuses while a
 * transaction is open (a ROLLBACK that failed): then nothing more may be committed on it, as after
 * a failed flush.
 */
const restoreFullSync = (connection: Sqlite.Database, flusher: WalFlusher): void => {
  try {
    connection.exec("PRAGMA synchronous = FULL");
  } catch (e) {
    flusher.fail(e);
  }
};

/**
 * `transaction`, resolving as soon as the commit is made, with `durable`, which resolves once it is
 * on disk: on SQLite the write lock is handed on at the commit and the write-ahead log is flushed
 * off the thread (wal-flush.ts), so the next transaction can be decided meanwhile. Nothing the
 * commit did may be told to anyone before `durable` resolves.
 */
export const committedTransaction = async <T>(db: Database, work: (sql: Sql) => Promise<T>): Promise<{ readonly result: T; readonly durable: Promise<void> }> => {
  if (db.sqlite === null || db.writeLock === null) return { result: await db.prisma.$transaction((tx) => work(sqlOf(db, tx))), durable: Promise.resolve() };
  const connection = db.sqlite;
  const flusher = db.walFlusher;
  const release = await db.writeLock.acquire();
  if (flusher?.broken) {
    release();
    throw flusher.broken;
  }
  let result: T;
  try {
    // Set outside the transaction and back before the lock is handed on: every other commit on
    // the connection (Prisma's, the projector's) keeps flushing inside COMMIT.
    if (flusher !== null) connection.exec("PRAGMA synchronous = NORMAL");
    try {
      connection.exec("BEGIN IMMEDIATE");
      try {
        result = await work(direct(connection, true));
        connection.exec("COMMIT");
      } catch (e) {
        if (connection.inTransaction) connection.exec("ROLLBACK");
        throw e;
      }
    } finally {
      if (flusher !== null) restoreFullSync(connection, flusher);
    }
  } finally {
    release();
  }
  return { result, durable: flusher === null ? Promise.resolve() : flusher.flush() };
};
