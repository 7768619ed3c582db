// Upgrades keep what the store held: a database migrated by an earlier version, with rows in it,
// takes the later migrations without losing them. Runs on SQLite and PostgreSQL.
import Sqlite from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.js";
import { applyMigrations } from "../../src/store/migrate.js";
import { sqlitePath } from "../../src/store/url.js";
import { createTestDatabase, KINDS, type DatabaseKindUnderTest, type TestDatabase } from "../support/databases.js";

const created: TestDatabase[] = [];
afterEach(async () => {
  for (const t of created.splice(0)) await t.drop();
});

const execute = async (kind: DatabaseKindUnderTest, url: string, sql: string): Promise<void> => {
  if (kind === "sqlite") {
    const db = new Sqlite(sqlitePath(url));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

describe.each(KINDS)("migrations on %s", (kind) => {
  it("0005 moves each component's saved state to ComponentState, token and event count with it", async () => {
    const t = await createTestDatabase(kind);
    created.push(t);
    expect(await applyMigrations(t.url, "0004_components")).toContain("0004_components");
    const at = kind === "sqlite" ? "'2025-01-01T00:00:00.000+00:00'" : "'2025-01-01T00:00:00.000Z'";
    await execute(
      kind,
      t.url,
      `INSERT INTO "Component" ("id", "token", "watermark", "events", "state", "stateToken", "stateEvents") VALUES
         ('customer:stripe:cus_a', 't2', ${at}, 7, '{"users":{}}', 't1', 5),
         ('customer:stripe:cus_b', 't3', ${at}, 2, NULL, NULL, 0)`,
    );
    expect(await applyMigrations(t.url, "0005_component_states")).toEqual(["0005_component_states"]);
    const db = await openDatabase(t.url);
    try {
      expect(await db.prisma.component.findMany({ orderBy: { id: "asc" }, select: { id: true, token: true, events: true } })).toEqual([
        { id: "customer:stripe:cus_a", token: "t2", events: 7 },
        { id: "customer:stripe:cus_b", token: "t3", events: 2 },
      ]);
      // The saved state keeps the token it was saved as of (older than the component's: not current).
      expect(await db.prisma.componentState.findMany()).toEqual([{ id: "customer:stripe:cus_a", token: "t1", events: 5, state: '{"users":{}}' }]);
    } finally {
      await db.close();
    }
  });
});
