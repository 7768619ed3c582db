// Checkpoints on a worker thread (src/store/checkpointer.ts): the server's connection leaves the
// copying of the write-ahead log into the database file to a worker, and checkpoints itself only
// past FALLBACK_PAGES. Observed from the files: pages written reach the database file without the
// server's connection checkpointing.
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FALLBACK_PAGES, startCheckpointer } from "../../src/store/checkpointer.js";
import { checkpointInBackground, type Database } from "../../src/store/database.js";
import { Prisma } from "../../src/store/generated/postgresql/client.js";
import { transaction } from "../../src/store/sql.js";
import { sqlitePath } from "../../src/store/url.js";
import { databasesPerTest } from "../support/per-test.js";

const openDb = databasesPerTest();
const fileSize = (db: Database) => statSync(sqlitePath(db.url)).size;

/** About `mb` megabytes of rows, in one transaction (about 250 pages of the log per megabyte). */
const writeRows = (db: Database, mb: number, prefix: string) =>
  transaction(db, async (sql) => {
    for (let i = 0; i < mb * 16; i++) {
      await sql.run(Prisma.sql`INSERT INTO "ComponentKey" ("key", "componentId") VALUES (${`${prefix}${i}-${"x".repeat(64_000)}`}, 'c1')`);
    }
  });

const waitFor = async (check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("background checkpoints on SQLite", () => {
  it("copy the log into the database file while the server's connection only writes", async () => {
    const { db } = await openDb("sqlite");
    const checkpointer = checkpointInBackground(db, (m) => expect.fail(m))!;
    try {
      expect(Number(db.sqlite!.pragma("wal_autocheckpoint", { simple: true }))).toBe(FALLBACK_PAGES);
      const before = fileSize(db);
      await writeRows(db, 4, "a");
      // The server's connection did not checkpoint (4 MB is far below FALLBACK_PAGES): the worker did.
      await waitFor(() => fileSize(db) > before + 4_000_000);
      expect(await checkpointer.count()).toBeGreaterThan(0);
      // Writes go on meanwhile: the worker never blocks them.
      await writeRows(db, 1, "b");
    } finally {
      await checkpointer.stop();
      await checkpointer.stop();
    }
  });

  it("without the worker, the same writes stay in the log", async () => {
    const { db } = await openDb("sqlite");
    db.sqlite!.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
    const before = fileSize(db);
    await writeRows(db, 4, "a");
    await new Promise((r) => setTimeout(r, 500));
    expect(fileSize(db)).toBeLessThan(before + 1_000_000);
  });

  it("report a database they cannot open, and that the worker is gone", async () => {
    const errors: string[] = [];
    let lost = 0;
    const checkpointer = startCheckpointer("/nonexistent-dir/verity.db", (m) => errors.push(m), 20, () => (lost += 1));
    await waitFor(() => errors.length > 0 && lost > 0);
    expect(errors[0]).toMatch(/directory does not exist|unable to open|SQLITE_CANTOPEN|no such file/i);
    await checkpointer.stop();
    expect(lost).toBe(1);
  });

  it("once stopped, are not reported lost", async () => {
    const { db } = await openDb("sqlite");
    let lost = 0;
    const checkpointer = startCheckpointer(sqlitePath(db.url), (m) => expect.fail(m), 20, () => (lost += 1));
    await waitFor(async () => (await checkpointer.count()) > 0);
    await checkpointer.stop();
    expect(lost).toBe(0);
  });

  it("are not started for PostgreSQL or an in-memory SQLite database", async () => {
    const { db } = await openDb("sqlite");
    expect(checkpointInBackground({ ...db, sqlite: null }, () => undefined)).toBeNull();
    expect(checkpointInBackground({ ...db, walFlusher: null }, () => undefined)).toBeNull();
  });
});
