// Applies the migration SQL under prisma/migrations/<database>/ in name order, once each,
// recording what ran in "_verity_migrations". Verity does this itself at start (and for
// `verity migrate`) because Prisma's wasm migrate deploy cannot run on PostgreSQL here.
import { mkdirSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Sqlite from "better-sqlite3";
import pg from "pg";
import { explainPostgresError, explainSqliteError } from "./connect-errors.js";
import { databaseKind, sqlitePath } from "./url.js";

const MIGRATIONS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../prisma/migrations");

export type Migration = { readonly name: string; readonly sql: string };

export const migrationsFor = (kind: "sqlite" | "postgresql"): Migration[] => {
  const dir = join(MIGRATIONS_ROOT, kind);
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "migration.sql")))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name, "migration.sql"), "utf8") }));
};

const LEDGER = `CREATE TABLE IF NOT EXISTS "_verity_migrations" ("name" TEXT PRIMARY KEY, "appliedAt" TEXT NOT NULL)`;

const migrateSqlite = (url: string, migrations: readonly Migration[]): string[] => {
  const file = sqlitePath(url);
  let db: Sqlite.Database;
  try {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    db = new Sqlite(file);
  } catch (e) {
    throw explainSqliteError(file, e);
  }
  try {
    db.pragma("busy_timeout = 5000");
    db.exec(LEDGER);
    const done = new Set(db.prepare(`SELECT "name" FROM "_verity_migrations"`).pluck().all() as string[]);
    const applied: string[] = [];
    for (const m of migrations.filter((m) => !done.has(m.name))) {
      db.transaction(() => {
        db.exec(m.sql);
        db.prepare(`INSERT INTO "_verity_migrations" ("name", "appliedAt") VALUES (?, ?)`).run(m.name, new Date().toISOString());
      }).immediate();
      applied.push(m.name);
    }
    return applied;
  } finally {
    db.close();
  }
};

// Several Verity processes may start at once against one PostgreSQL: the lock makes them take turns.
const MIGRATION_LOCK = 4_242_001;

const migratePostgres = async (url: string, migrations: readonly Migration[]): Promise<string[]> => {
  // A host that drops packets would otherwise leave the start waiting forever.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (e) {
    throw explainPostgresError(url, e) ?? e;
  }
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(LEDGER);
    const done = new Set((await client.query(`SELECT "name" FROM "_verity_migrations"`)).rows.map((r) => r.name as string));
    const applied: string[] = [];
    for (const m of migrations.filter((m) => !done.has(m.name))) {
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO "_verity_migrations" ("name", "appliedAt") VALUES ($1, $2)`, [m.name, new Date().toISOString()]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.name} failed: ${(e as Error).message}`);
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
};

/** Applies pending migrations (those named up to `through`, when given: tests of an upgrade); returns the names applied. */
export const applyMigrations = async (url: string, through?: string): Promise<string[]> => {
  const kind = databaseKind(url);
  const migrations = migrationsFor(kind).filter((m) => through === undefined || m.name <= through);
  return kind === "sqlite" ? migrateSqlite(url, migrations) : migratePostgres(url, migrations);
};
