// The shared feed reader behind live subscriptions, on its own: a cursor from a process further
// along than this one (its reader lags behind the database) resumes exactly after that cursor.
import { describe, expect, it } from "vitest";
import { sqlOf } from "../../src/store/sql.js";
import { TransitionHub } from "../../src/api/live.js";
import { appendToFeed, type FeedRow } from "../../src/store/feed.js";
import { openTestDatabase } from "../support/databases.js";

const row = (n: number) => ({ userId: "u", entity: "user", entityId: "u", field: "f", from: null, to: String(n), cause: `c${n}`, at: new Date(0) });

describe("TransitionHub", () => {
  it("does not resend rows at or before a cursor ahead of what this process has read", async () => {
    const { db, close } = await openTestDatabase("sqlite");
    const hub = new TransitionHub(db);
    try {
      await hub.start(3_600_000);
      // Another process appended three rows; this hub has not refreshed yet.
      await db.prisma.$transaction((tx) => appendToFeed(sqlOf(db, tx), [row(1), row(2), row(3)]));
      const seqs = (await db.prisma.transitionFeed.findMany({ orderBy: { seq: "asc" } })).map((r) => r.seq);
      const aborter = new AbortController();
      const rows = hub.subscribe({}, seqs[1]!, aborter.signal);
      const first = rows.next();
      await new Promise((r) => setTimeout(r, 50));
      await hub.refresh();
      const got = (await first).value as FeedRow;
      expect(got.seq).toBe(seqs[2]);
      expect(got.to).toBe("3");
      aborter.abort();
      await rows.return(undefined);
    } finally {
      await hub.stop();
      await close();
    }
  });

  it("keeps only the feed's end while nobody follows; later subscribers still get every row after their cursor", async () => {
    const { db, close } = await openTestDatabase("sqlite");
    const hub = new TransitionHub(db);
    try {
      await hub.start(3_600_000);
      const append = (ns: number[]) => db.prisma.$transaction((tx) => appendToFeed(sqlOf(db, tx), ns.map(row)));
      await append([1, 2, 3]);
      await hub.refresh();
      const seqs = (await db.prisma.transitionFeed.findMany({ orderBy: { seq: "asc" } })).map((r) => r.seq);
      expect(hub.position).toBe(seqs[2]);
      // From the start (a reconnect with an old cursor): paged from the database.
      const aborter = new AbortController();
      const fromStart = hub.subscribe({}, 0, aborter.signal);
      const got: string[] = [];
      for (let i = 0; i < 3; i++) got.push(((await fromStart.next()).value as FeedRow).to!);
      expect(got).toEqual(["1", "2", "3"]);
      // From now: only what comes next, read once somebody follows.
      const fromNow = hub.subscribe({}, null, aborter.signal);
      const next = fromNow.next();
      await append([4]);
      await hub.refresh();
      expect(((await next).value as FeedRow).to).toBe("4");
      expect(((await fromStart.next()).value as FeedRow).to).toBe("4");
      aborter.abort();
      await fromStart.return(undefined);
      await fromNow.return(undefined);
    } finally {
      await hub.stop();
      await close();
    }
  });

  it("drops its buffer when nobody follows: a later cursor between the old buffer and the new end skips nothing", async () => {
    const { db, close } = await openTestDatabase("sqlite");
    const hub = new TransitionHub(db);
    try {
      await hub.start(3_600_000);
      const append = (ns: number[]) => db.prisma.$transaction((tx) => appendToFeed(sqlOf(db, tx), ns.map(row)));
      // Someone follows while rows 1-3 arrive: they are buffered.
      const first = new AbortController();
      const follower = hub.subscribe({}, null, first.signal);
      const pending = follower.next();
      await append([1, 2, 3]);
      await hub.refresh();
      expect(((await pending).value as FeedRow).to).toBe("1");
      first.abort();
      await follower.return(undefined);
      // Nobody follows while rows 4-6 arrive.
      await append([4, 5, 6]);
      await hub.refresh();
      const seqs = (await db.prisma.transitionFeed.findMany({ orderBy: { seq: "asc" } })).map((r) => r.seq);
      const later = new AbortController();
      const resumed = hub.subscribe({}, seqs[3]!, later.signal);
      expect(((await resumed.next()).value as FeedRow).to).toBe("5");
      expect(((await resumed.next()).value as FeedRow).to).toBe("6");
      later.abort();
      await resumed.return(undefined);
    } finally {
      await hub.stop();
      await close();
    }
  });
});
