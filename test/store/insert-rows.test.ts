// The projector inserts rows with its own multi-row INSERTs (src/store/insert-rows.ts). Rows written
// that way must be stored exactly as Prisma stores them (SQLite keeps dates as text with an offset
// and booleans as 0/1), so they compare, sort and read back alike. Runs on SQLite and PostgreSQL.
import { describe, expect, it } from "vitest";
import { sqlOf } from "../../src/store/sql.js";
import type { Database } from "../../src/store/database.js";
import { insertRows } from "../../src/store/insert-rows.js";
import { KINDS } from "../support/databases.js";
import { databasesPerTest } from "../support/per-test.js";

const openDb = databasesPerTest();
const open = async (kind: (typeof KINDS)[number]): Promise<Database> => (await openDb(kind)).db;

const subscription = (id: string) => ({
  id,
  provider: "stripe",
  providerId: id,
  userId: "usr_1",
  plan: "pro",
  priceIds: "price_a,price_b",
  status: "active",
  providerStatus: "active",
  cancelAtPeriodEnd: id.endsWith("raw"),
  currentPeriodStart: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, 123)),
  currentPeriodEnd: new Date(Date.UTC(2025, 1, 1)),
  canceledAt: null,
  startedAt: new Date(0),
  endedAt: null,
  trialStart: null,
  trialEnd: null,
  pastDueSince: null,
  updatedAt: new Date(Date.UTC(2024, 11, 31, 23, 59, 59, 999)),
});

describe.each(KINDS)("raw inserts on %s", (kind) => {
  it("store each column exactly as Prisma stores it, and read back equal", async () => {
    const db = await open(kind);
    await db.prisma.user.create({ data: { id: "usr_1", appUserId: "app \u{1F600} 'quoted'", email: null, status: "active", createdAt: new Date(5) } });
    await db.prisma.subscription.create({ data: subscription("sub_prisma") });
    await db.prisma.$transaction((tx) => insertRows(sqlOf(db, tx), "Subscription", Object.keys(subscription("x")) as (keyof ReturnType<typeof subscription>)[], [subscription("sub_raw")]));
    const [viaPrisma, viaRaw] = await Promise.all(["sub_prisma", "sub_raw"].map((id) => db.prisma.subscription.findUniqueOrThrow({ where: { id } })));
    expect({ ...viaRaw, id: "x", providerId: "x", cancelAtPeriodEnd: false }).toEqual({ ...viaPrisma, id: "x", providerId: "x", cancelAtPeriodEnd: false });
    expect(viaRaw!.cancelAtPeriodEnd).toBe(true);
    // Stored alike: the columns' text (dates, booleans) is the same, so comparisons and sorting agree.
    const stored = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(
      `SELECT "id", CAST("currentPeriodStart" AS TEXT) AS s, CAST("updatedAt" AS TEXT) AS u, CAST("cancelAtPeriodEnd" AS TEXT) AS c FROM "Subscription" ORDER BY "id"`,
    );
    expect(stored[0]!.s).toBe(stored[1]!.s);
    expect(stored[0]!.u).toBe(stored[1]!.u);
    expect(await db.prisma.subscription.count({ where: { updatedAt: { lt: new Date(Date.UTC(2025, 0, 1)) } } })).toBe(2);
  });

  it("splits a large insert into statements the database accepts", async () => {
    const db = await open(kind);
    const rows = Array.from({ length: 5_000 }, (_, i) => ({ eventSeq: i, key: `customer:stripe:cus_${i}` }));
    await db.prisma.$transaction((tx) => insertRows(sqlOf(db, tx), "EventKey", ["eventSeq", "key"] as const, rows));
    expect(await db.prisma.eventKey.count()).toBe(5_000);
  });
});
