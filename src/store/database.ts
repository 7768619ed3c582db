// Opens the database a DATABASE_URL names: an embedded SQLite file (the default) or PostgreSQL.
// Both run the same Prisma models through driver adapters; migrations are applied first.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as PgClient } from "./generated/postgresql/client.js";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client.js";
import { applyMigrations } from "./migrate.js";
import { databaseKind, sqlitePath, type DatabaseKind } from "./url.js";

export { databaseKind, sqlitePath, DatabaseUrlError, type DatabaseKind } from "./url.js";

/** Both generated clients share one model API; the store is written against this type. */
export type Prisma = PgClient;

export type Database = {
  readonly kind: DatabaseKind;
  readonly url: string;
  readonly prisma: Prisma;
  readonly close: () => Promise<void>;
};

export const DEFAULT_DATABASE_URL = "file:./data/verity.db";

export const openDatabase = async (url: string = DEFAULT_DATABASE_URL): Promise<Database> => {
  const kind = databaseKind(url);
  await applyMigrations(url);
  if (kind === "sqlite") {
    const file = sqlitePath(url);
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const prisma = new SqliteClient({ adapter: new PrismaBetterSQLite3({ url: file }) }) as unknown as Prisma;
    // WAL with full sync: a write is on disk when its transaction returns; readers do not block it.
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = FULL");
    await prisma.$executeRawUnsafe("PRAGMA busy_timeout = 5000");
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    return { kind, url, prisma, close: () => prisma.$disconnect() };
  }
  const prisma = new PgClient({ adapter: new PrismaPg({ connectionString: url }) });
  return { kind, url, prisma, close: () => prisma.$disconnect() };
};
