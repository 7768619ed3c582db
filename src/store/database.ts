// Opens the database a DATABASE_URL names: an embedded SQLite file (the default) or PostgreSQL.
// Both run the same Prisma models through driver adapters; migrations are applied first.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import type Sqlite from "better-sqlite3";
import { PrismaClient as PgClient } from "./generated/postgresql/client.js";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client.js";
import { applyMigrations } from "./migrate.js";
import { databaseKind, sqlitePath, type DatabaseKind } from "./url.js";
import { FALLBACK_PAGES, startCheckpointer, type Checkpointer } from "./checkpointer.js";
import { WalFlusher } from "./wal-flush.js";
import { WriteLock } from "./write-lock.js";

/** Both generated clients share one model API; the store is written against this type. */
export type Prisma = PgClient;

export type Database = {
  readonly kind: DatabaseKind;
  readonly url: string;
  readonly prisma: Prisma;
  /** SQLite: the one connection Prisma's adapter runs every statement on (see sql.ts). */
  readonly sqlite: Sqlite.Database | null;
  /** SQLite: taken by every transaction on that connection, Prisma's and the store's own (sql.ts). */
  readonly writeLock: WriteLock | null;
  /** SQLite on a file: flushes the write-ahead log of the store's own commits (see wal-flush.ts). */
  readonly walFlusher: WalFlusher | null;
  readonly close: () => Promise<void>;
};

type AdapterTransaction = { commit: () => Promise<void>; rollback: () => Promise<void> };
type Adapter = { startTransaction: (level?: string) => Promise<AdapterTransaction> };

/**
 * The SQLite adapter, keeping hold of the connection it opens: the store's hot statements run on it
 * directly (src/store/sql.ts), inside the transactions Prisma opens on that same connection or
 * the store's own. Prisma's transactions take `lock` first, until they commit or roll back.
 */
const capturingSqlite = (file: string, lock: WriteLock) => {
  const factory = new PrismaBetterSQLite3({ url: file });
  const held: { connection: Sqlite.Database | null; flusher: WalFlusher | null } = { connection: null, flusher: null };
  const adapter = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const connected = await factory.connect();
      held.connection = (connected as unknown as { client: Sqlite.Database }).client;
      const inner = connected as unknown as Adapter;
      const start = inner.startTransaction.bind(inner);
      inner.startTransaction = async (level) => {
        const release = await lock.acquire();
        try {
          // After a failed flush of the log nothing more may be committed (wal-flush.ts).
          const broken = held.flusher?.broken;
          if (broken) throw broken;
          const tx = await start(level);
          const commit = tx.commit.bind(tx);
          const rollback = tx.rollback.bind(tx);
          tx.commit = () => commit().finally(release);
          tx.rollback = () => rollback().finally(release);
          return tx;
        } catch (e) {
          release();
          throw e;
        }
      };
      return connected;
    },
    connectToShadowDb: () => factory.connectToShadowDb(),
  } as unknown as PrismaBetterSQLite3;
  return { adapter, held };
};

/**
 * For a long-running server on a SQLite file: checkpoints on a worker thread (checkpointer.ts), the
 * connection's own only past FALLBACK_PAGES. Returns what stops it (null: nothing to do).
 */
export const checkpointInBackground = (db: Database, onError: (message: string) => void): Checkpointer | null => {
  if (db.sqlite === null || db.walFlusher === null) return null;
  const connection = db.sqlite;
  connection.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
  // Without the worker, SQLite's own checkpoints every 1,000 pages keep the log small again.
  return startCheckpointer(sqlitePath(db.url), onError, undefined, () => {
    if (connection.open) connection.pragma("wal_autocheckpoint = 1000");
  });
};

export const DEFAULT_DATABASE_URL = "file:./data/verity.db";

export type OpenOptions = {
  /** Told when a flush of SQLite's log fails: the server can no longer commit (see wal-flush.ts). */
  readonly onFlushFailure?: (e: Error) => void;
};

export const openDatabase = async (url: string = DEFAULT_DATABASE_URL, options: OpenOptions = {}): Promise<Database> => {
  const kind = databaseKind(url);
  await applyMigrations(url);
  if (kind === "sqlite") {
    const file = sqlitePath(url);
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const writeLock = new WriteLock();
    const { adapter, held } = capturingSqlite(file, writeLock);
    const prisma = new SqliteClient({ adapter }) as unknown as Prisma;
    // WAL with full sync: a write is on disk when its transaction returns; readers do not block it.
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = FULL");
    await prisma.$executeRawUnsafe("PRAGMA busy_timeout = 5000");
    // A multi-row INSERT inside a longer transaction keeps a statement journal (to undo just that
    // statement): in memory, not as a temporary file written page by page (profiled: ~10% of a
    // usage commit).
    await prisma.$executeRawUnsafe("PRAGMA temp_store = MEMORY");
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    if (held.connection === null) throw new Error("the SQLite adapter opened no connection");
    // The log is named after the file SQLite opened, symbolic links resolved as SQLite resolves them.
    const opened = (held.connection.pragma("database_list") as { name: string; file: string }[]).find((d) => d.name === "main")?.file ?? "";
    const walFlusher = opened === "" ? null : new WalFlusher(`${opened}-wal`, undefined, options.onFlushFailure);
    held.flusher = walFlusher;
    const close = async () => {
      await walFlusher?.close();
      await prisma.$disconnect();
    };
    return { kind, url, prisma, sqlite: held.connection, writeLock, walFlusher, close };
  }
  const prisma = new PgClient({ adapter: new PrismaPg({ connectionString: url }) });
  return { kind, url, prisma, sqlite: null, writeLock: null, walFlusher: null, close: () => prisma.$disconnect() };
};
