// The store's own SQLite commits are made durable off the thread that answers (src/store/wal-flush.ts):
// COMMIT with synchronous=NORMAL, then fdatasync of the write-ahead log on the thread pool. What
// must hold: nobody is told of a commit before a flush that started after it has ended; callers
// are told in commit order; a failed flush fails what it covered and stops further commits; every
// other commit on the connection keeps synchronous=FULL; usage records are decided and committed
// while an earlier batch is being flushed, and answered only after their own flush.
import { existsSync, statSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/store/database.js";
import { Prisma } from "../../src/store/generated/postgresql/client.js";
import { committedTransaction, sqlOf, transaction } from "../../src/store/sql.js";
import { sqlitePath } from "../../src/store/url.js";
import { UsageAppender, type PendingUsage, type UsageOutcome } from "../../src/store/usage.js";
import { WalFlusher } from "../../src/store/wal-flush.js";
import { databasesPerTest } from "../support/per-test.js";

/** A flush the test ends by hand: each call of `sync` waits until the test resolves or fails it. */
const heldFlushes = () => {
  const held: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const sync = () => new Promise<void>((resolve, reject) => held.push({ resolve, reject }));
  return { held, sync };
};

/** Which of `promises` have settled, after the microtasks now queued have run. */
const settled = async (promises: readonly Promise<unknown>[]): Promise<string[]> => {
  const states = promises.map(() => "pending");
  promises.forEach((p, i) => p.then(() => (states[i] = "resolved"), () => (states[i] = "rejected")));
  await new Promise((r) => setImmediate(r));
  return states;
};

describe("WalFlusher", () => {
  it("tells a commit only once a flush started after it has ended", async () => {
    const { held, sync } = heldFlushes();
    const flusher = new WalFlusher("unused", sync);
    const first = flusher.flush();
    const second = flusher.flush();
    // Both flushes run at once: the first may have started before the second commit wrote.
    expect(held).toHaveLength(2);
    held[0]!.resolve();
    expect(await settled([first, second])).toEqual(["resolved", "pending"]);
    held[1]!.resolve();
    expect(await settled([first, second])).toEqual(["resolved", "resolved"]);
  });

  it("tells earlier commits too when a later flush ends first, in the order of the commits", async () => {
    const { held, sync } = heldFlushes();
    const flusher = new WalFlusher("unused", sync);
    const order: number[] = [];
    const told = [1, 2, 3].map((n) => flusher.flush().then(() => order.push(n)));
    held[2]!.resolve();
    await Promise.all(told);
    expect(order).toEqual([1, 2, 3]);
    // The earlier flushes ending later changes nothing.
    held[0]!.resolve();
    held[1]!.resolve();
    expect(flusher.flushes).toBe(1);
  });

  it("runs at most three flushes at once; commits made meanwhile share the next", async () => {
    const { held, sync } = heldFlushes();
    const flusher = new WalFlusher("unused", sync);
    const told = Array.from({ length: 6 }, () => flusher.flush());
    expect(held).toHaveLength(3);
    held[0]!.resolve();
    expect(await settled(told)).toEqual(["resolved", "pending", "pending", "pending", "pending", "pending"]);
    // One more flush, started after all six commits, covers the three that waited.
    expect(held).toHaveLength(4);
    held[3]!.resolve();
    expect(await settled(told)).toEqual(Array(6).fill("resolved"));
    held[1]!.resolve();
    held[2]!.resolve();
  });

  it("after a failed flush fails every commit not yet told, and every later one", async () => {
    const { held, sync } = heldFlushes();
    const flusher = new WalFlusher("unused", sync);
    const told = [flusher.flush(), flusher.flush()];
    held[0]!.reject(new Error("EIO"));
    expect(await settled(told)).toEqual(["rejected", "rejected"]);
    await expect(told[0]).rejects.toThrow(/could not be flushed to disk \(EIO\); restart Verity/);
    // A later flush succeeding vouches for nothing: the log's frames are chained.
    held[1]!.resolve();
    await expect(flusher.flush()).rejects.toThrow(/restart Verity/);
    expect(flusher.broken?.message).toMatch(/EIO/);
  });

  it("fails, and says so once, when the log is not where SQLite writes it", async () => {
    const told: Error[] = [];
    const flusher = new WalFlusher("/nonexistent-dir/verity.db-wal", undefined, (e) => told.push(e));
    await expect(flusher.flush()).rejects.toThrow(/ENOENT.*restart Verity/);
    await expect(flusher.flush()).rejects.toThrow(/restart Verity/);
    expect(told).toHaveLength(1);
  });

  it("has readers wait for commits not yet on disk, and costs nothing when there are none", async () => {
    const { held, sync } = heldFlushes();
    const flusher = new WalFlusher("unused", sync);
    expect(await settled([flusher.barrier()])).toEqual(["resolved"]);
    const commit = flusher.flush();
    const read = flusher.barrier();
    expect(await settled([commit, read])).toEqual(["pending", "pending"]);
    // No flush of its own: the one covering the commit tells the reader too.
    expect(held).toHaveLength(1);
    held[0]!.resolve();
    expect(await settled([commit, read])).toEqual(["resolved", "resolved"]);
  });

  it("closes only after the flushes running end, and refuses new ones", async () => {
    const { held, sync } = heldFlushes();
    const flusher = new WalFlusher("unused", sync);
    const commit = flusher.flush();
    const closed = flusher.close();
    expect(await settled([commit, closed])).toEqual(["pending", "pending"]);
    await expect(flusher.flush()).rejects.toThrow(/closed/);
    held[0]!.resolve();
    expect(await settled([commit, closed])).toEqual(["resolved", "resolved"]);
  });
});

const openDb = databasesPerTest();
const insertKey = (key: string) => Prisma.sql`INSERT INTO "ComponentKey" ("key", "componentId") VALUES (${key}, 'c1')`;
const keys = async (db: Database) => (await sqlOf(db).query<{ key: string }>(Prisma.sql`SELECT "key" FROM "ComponentKey" ORDER BY "key"`)).map((r) => r.key);
const synchronous = (db: Database) => Number(db.sqlite!.pragma("synchronous", { simple: true }));

describe("the store's transactions on SQLite", () => {
  it("answer only after their commit is flushed, and leave the connection on synchronous=FULL", async () => {
    const { db } = await openDb("sqlite");
    expect(synchronous(db)).toBe(2);
    const { held, sync } = heldFlushes();
    const gated: Database = { ...db, walFlusher: new WalFlusher(`${sqlitePath(db.url)}-wal`, sync) };
    const done = transaction(gated, (sql) => sql.run(insertKey("k1")));
    await new Promise((r) => setTimeout(r, 20));
    // Committed (visible on the connection), not yet answered, and FULL again for everyone else.
    expect(await keys(db)).toEqual(["k1"]);
    expect(await settled([done])).toEqual(["pending"]);
    expect(synchronous(db)).toBe(2);
    held[0]!.resolve();
    await done;
  });

  it("flush only after COMMIT, outside any transaction", async () => {
    const { db } = await openDb("sqlite");
    const states: boolean[] = [];
    const gated: Database = { ...db, walFlusher: new WalFlusher(`${sqlitePath(db.url)}-wal`, async () => void states.push(db.sqlite!.inTransaction)) };
    await transaction(gated, (sql) => sql.run(insertKey("k1")));
    expect(states).toEqual([false]);
  });

  it("flush the log SQLite writes, beside the file a symbolic link names", async () => {
    const { db, url } = await openDb("sqlite");
    await db.close();
    const real = sqlitePath(url);
    const link = join(dirname(real), "link.db");
    symlinkSync(real, link);
    const linked = await openDatabase(`file:${link}`);
    try {
      await transaction(linked, (sql) => sql.run(insertKey("k1")));
      expect(linked.walFlusher!.flushes).toBeGreaterThanOrEqual(1);
      expect(existsSync(`${real}-wal`)).toBe(true);
      expect(existsSync(`${link}-wal`)).toBe(false);
    } finally {
      await linked.close();
    }
  });

  it("flush the real log: its flush count grows with each commit", async () => {
    const { db } = await openDb("sqlite");
    const before = db.walFlusher!.flushes;
    await transaction(db, (sql) => sql.run(insertKey("k1")));
    await transaction(db, (sql) => sql.run(insertKey("k2")));
    expect(db.walFlusher!.flushes - before).toBeGreaterThanOrEqual(1);
    expect(statSync(`${sqlitePath(db.url)}-wal`).size).toBeGreaterThan(0);
    expect(await keys(db)).toEqual(["k1", "k2"]);
  });

  it("roll back on failure, flush nothing, and leave synchronous=FULL", async () => {
    const { db } = await openDb("sqlite");
    const { held, sync } = heldFlushes();
    const gated: Database = { ...db, walFlusher: new WalFlusher(`${sqlitePath(db.url)}-wal`, sync) };
    await expect(
      transaction(gated, async (sql) => {
        await sql.run(insertKey("k1"));
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(held).toHaveLength(0);
    expect(await keys(db)).toEqual([]);
    expect(synchronous(db)).toBe(2);
  });

  it("refuse to begin once a flush has failed, writing nothing", async () => {
    const { db } = await openDb("sqlite");
    const { held, sync } = heldFlushes();
    const gated: Database = { ...db, walFlusher: new WalFlusher(`${sqlitePath(db.url)}-wal`, sync) };
    const first = transaction(gated, (sql) => sql.run(insertKey("k1")));
    await new Promise((r) => setTimeout(r, 20));
    held[0]!.reject(new Error("EIO"));
    await expect(first).rejects.toThrow(/restart Verity/);
    await expect(committedTransaction(gated, (sql) => sql.run(insertKey("k2")))).rejects.toThrow(/restart Verity/);
    expect(await keys(db)).toEqual(["k1"]);
  });

  it("after a failed flush, Prisma's transactions are refused too", async () => {
    const { db } = await openDb("sqlite");
    db.walFlusher!.fail(new Error("EIO"));
    await expect(db.prisma.$transaction((tx) => tx.componentKey.create({ data: { key: "k1", componentId: "c1" } }))).rejects.toThrow(/restart Verity/);
    await expect(transaction(db, (sql) => sql.run(insertKey("k2")))).rejects.toThrow(/restart Verity/);
    expect(await keys(db)).toEqual([]);
  });
});

const PERIOD = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) };
const pending = (key: string): PendingUsage => ({
  quota: { limit: 100, overage: "block", decimals: 0 },
  receivedAt: PERIOD.start,
  record: {
    subject: "s1",
    userId: "usr_s1",
    feature: "calls",
    units: 1,
    decimals: 0,
    at: PERIOD.start + 1000,
    period: PERIOD,
    limit: 100,
    overage: "block",
    source: "plan",
    idempotencyKey: key,
    keyId: "key_test",
    requestId: `req-${key}`,
  },
});
const usageEvents = async (db: Database) =>
  Number((await sqlOf(db).query<{ n: number | bigint }>(Prisma.sql`SELECT count(*) AS "n" FROM "Event" WHERE "type" = 'usage.recorded'`))[0]!.n);

describe("usage records on SQLite", () => {
  it("are decided and committed while an earlier batch is flushed, and each answered only after its own flush", async () => {
    const { db } = await openDb("sqlite");
    const { held, sync } = heldFlushes();
    const gated: Database = { ...db, walFlusher: new WalFlusher(`${sqlitePath(db.url)}-wal`, sync) };
    const told: number[] = [];
    const appender = new UsageAppender(gated, () => PERIOD.start, (commit) => told.push(commit.recorded.length));
    const first = appender.record(pending("k1"));
    await new Promise((r) => setTimeout(r, 20));
    expect(held).toHaveLength(1);
    const second = appender.record(pending("k2"));
    await new Promise((r) => setTimeout(r, 20));
    // The second batch committed while the first one's flush is held: both stored, neither answered.
    expect(held).toHaveLength(2);
    expect(await usageEvents(db)).toBe(2);
    expect(await settled([first, second])).toEqual(["pending", "pending"]);
    expect(told).toEqual([]);
    held[0]!.resolve();
    expect(await settled([first, second])).toEqual(["resolved", "pending"]);
    expect(told).toEqual([1]);
    held[1]!.resolve();
    const outcomes = (await Promise.all([first, second])) as UsageOutcome[];
    expect(outcomes.map((o) => o._tag)).toEqual(["Recorded", "Recorded"]);
    expect(outcomes.map((o) => (o._tag === "Recorded" ? o.record.usedAfter : null))).toEqual([1, 2]);
    expect(told).toEqual([1, 1]);
  });
});
