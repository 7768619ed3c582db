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

/** Both generated clients share one model API; the store is written against this type. */
export type Prisma = PgClient;

export type Database = {
  readonly kind: DatabaseKind;
  readonly url: string;
  readonly prisma: Prisma;
  /** SQLite: the one connection Prisma's adapter runs every statement on (see sql.ts). */
  readonly sqlite: Sqlite.Database | null;
  readonly close: () => Promise<void>;
};

/**
 * The SQLite adapter, keeping hold of the connection it opens: the store's hot statements run on it
 * directly (src/store/sql.ts), inside the transactions Prisma opens on that same connection.
 */
const capturingSqlite = (file: string) => {
  const factory = new PrismaBetterSQLite3({ url: file });
  const held: { connection: Sqlite.Database | null } = { connection: null };
  const adapter = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const connected = await factory.connect();
      held.connection = (connected as unknown as { client: Sqlite.Database }).client;
      return connected;
    },
    connectToShadowDb: () => factory.connectToShadowDb(),
  } as unknown as PrismaBetterSQLite3;
  return { adapter, held };
};

export const DEFAULT_DATABASE_URL = "file:./data/verity.db";

export const openDatabase = async (url: string = DEFAULT_DATABASE_URL): Promise<Database> => {
  const kind = databaseKind(url);
  await applyMigrations(url);
  if (kind === "sqlite") {
    const file = sqlitePath(url);
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const { adapter, held } = capturingSqlite(file);
    const prisma = new SqliteClient({ adapter }) as unknown as Prisma;
    // WAL with full sync: a write is on disk when its transaction returns; readers do not block it.
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = FULL");
    await prisma.$executeRawUnsafe("PRAGMA busy_timeout = 5000");
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    if (held.connection === null) throw new Error("the SQLite adapter opened no connection");
    return { kind, url, prisma, sqlite: held.connection, close: () => prisma.$disconnect() };
  }
  const prisma = new PgClient({ adapter: new PrismaPg({ connectionString: url }) });
  return { kind, url, prisma, sqlite: null, close: () => prisma.$disconnect() };
};
