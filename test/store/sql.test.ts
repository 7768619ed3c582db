// The store's raw statements (src/store/sql.ts) run on SQLite's own connection or through Prisma
// on PostgreSQL. Inside a transaction Prisma opened they must be part of it: rolled back with it,
// invisible to other connections until it commits. On SQLite and PostgreSQL.
import { describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/store/database.js";
import { Prisma } from "../../src/store/generated/postgresql/client.js";
import { sqlOf } from "../../src/store/sql.js";
import { KINDS } from "../support/databases.js";
import { databasesPerTest } from "../support/per-test.js";

const openDb = databasesPerTest();
const open = async (kind: (typeof KINDS)[number]): Promise<{ db: Database; url: string }> => {
  const { db, url } = await openDb(kind);
  return { db, url };
};

const insertKey = (key: string) => Prisma.sql`INSERT INTO "ComponentKey" ("key", "componentId") VALUES (${key}, 'c1')`;
const keys = async (db: Database) => (await db.prisma.componentKey.findMany({ orderBy: { key: "asc" } })).map((r) => r.key);

class Rollback extends Error {}

describe.each(KINDS)("raw statements on %s", (kind) => {
  it("are rolled back with the Prisma transaction they run in", async () => {
    const { db } = await open(kind);
    await db.prisma
      .$transaction(async (tx) => {
        const sql = sqlOf(db, tx);
        await sql.run(insertKey("k_rolled_back"));
        await tx.componentKey.create({ data: { key: "k_prisma", componentId: "c1" } });
        expect((await sql.query<{ key: string }>(Prisma.sql`SELECT "key" FROM "ComponentKey" ORDER BY "key"`)).map((r) => r.key)).toEqual(["k_prisma", "k_rolled_back"]);
        throw new Rollback();
      })
      .catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
      });
    expect(await keys(db)).toEqual([]);
  });

  it("commit with it, and no other connection sees them before", async () => {
    const { db, url } = await open(kind);
    const other = await openDatabase(url);
    try {
      await db.prisma.$transaction(async (tx) => {
        await sqlOf(db, tx).run(insertKey("k_committed"));
        expect(await keys(other)).toEqual([]);
      });
      expect(await keys(other)).toEqual(["k_committed"]);
    } finally {
      await other.close();
    }
  });

  it("fail, and write nothing, once the transaction they belong to has ended (Prisma's timeout rolled it back)", async () => {
    const { db } = await open(kind);
    let late: Promise<number> | null = null;
    await db.prisma
      .$transaction(
        async (tx) => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          late = sqlOf(db, tx).run(insertKey("k_after_timeout"));
          await late;
        },
        { timeout: 50 },
      )
      .catch(() => undefined);
    expect(late).not.toBeNull();
    await expect(late!).rejects.toThrow();
    expect(await keys(db)).toEqual([]);
  });

  it("report what they changed and return numbers for integer columns", async () => {
    const { db } = await open(kind);
    const sql = sqlOf(db, db.prisma);
    expect(await sql.run(insertKey("k_1"))).toBe(1);
    const [row] = await sql.query<{ n: number | bigint }>(Prisma.sql`SELECT count(*) AS n FROM "ComponentKey"`);
    expect(Number(row!.n)).toBe(1);
    if (kind === "sqlite") expect(typeof row!.n).toBe("number");
  });
});
