// Fresh databases for tests: a temporary SQLite file, or a PostgreSQL database created for the
// run and dropped afterwards. PostgreSQL tests skip when no server answers, unless
// VERITY_REQUIRE_POSTGRES=1 (set by .ci/run), which turns "unreachable" into a failure.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../../src/store/database.js";

export const POSTGRES_ADMIN_URL = process.env.VERITY_TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
export const POSTGRES_REQUIRED = process.env.VERITY_REQUIRE_POSTGRES === "1";

const withAdmin = async <T>(f: (c: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
};

export const postgresAvailable = async (): Promise<boolean> => {
  try {
    await withAdmin((c) => c.query("SELECT 1"));
    return true;
  } catch (e) {
    if (POSTGRES_REQUIRED) throw new Error(`PostgreSQL is required (VERITY_REQUIRE_POSTGRES=1) but ${POSTGRES_ADMIN_URL} is unreachable: ${(e as Error).message}`);
    console.warn(`PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable: PostgreSQL tests are SKIPPED`);
    return false;
  }
};

export const HAS_POSTGRES = await postgresAvailable();

export type DatabaseKindUnderTest = "sqlite" | "postgresql";
export const KINDS: readonly DatabaseKindUnderTest[] = HAS_POSTGRES ? ["sqlite", "postgresql"] : ["sqlite"];

export type TestDatabase = { readonly url: string; readonly drop: () => Promise<void> };

/** A new, empty database (not yet migrated): its URL and how to remove it. */
export const createTestDatabase = async (kind: DatabaseKindUnderTest): Promise<TestDatabase> => {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "verity-test-"));
    return { url: `file:${join(dir, "verity.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `verity_test_${Date.now()}_${randomBytes(4).toString("hex")}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) };
};

/** A migrated database, opened; `close` disconnects and drops it. */
export const openTestDatabase = async (kind: DatabaseKindUnderTest): Promise<{ db: Database; url: string; close: () => Promise<void> }> => {
  const t = await createTestDatabase(kind);
  const db = await openDatabase(t.url);
  return {
    db,
    url: t.url,
    close: async () => {
      await db.close().catch(() => undefined);
      await t.drop();
    },
  };
};
