// The shared feed reader behind live subscriptions, on its own: a cursor from a process further
// along than this one (its reader lags behind the database) resumes exactly after that cursor;
// while nobody follows it keeps only the feed's end; and it hands out no row before the commit
// that wrote it is on disk (SQLite commits are flushed off the thread: src/store/wal-flush.ts).
import { describe, expect, it } from "vitest";
import { TransitionHub } from "../../src/api/live.js";
import type { Database } from "../../src/store/database.js";
import { APP_SOURCE } from "../../src/domain/source.js";
import { appendEventsCommitted } from "../../src/store/events.js";
import { appendToFeed, recentFeed, type FeedRow } from "../../src/store/feed.js";
import { listEvents } from "../../src/store/reads.js";
import { committedTransaction, sqlOf } from "../../src/store/sql.js";
import { sqlitePath } from "../../src/store/url.js";
import { WalFlusher } from "../../src/store/wal-flush.js";
import { openTestDatabase } from "../support/databases.js";

const row = (n: number) => ({ userId: "u", entity: "user", entityId: "u", field: "f", from: null, to: String(n), cause: `c${n}`, at: new Date(0) });

type Held = { resolve: () => void }[];

/**
 * A hub over a fresh SQLite database (polling only by hand), with `append` writing feed rows as
 * the store's commits do; with `holdFlushes`, each commit's flush waits until the test ends it.
 */
const withHub = async (
  test: (t: { hub: TransitionHub; db: Database; append: (ns: number[]) => Promise<void>; seqs: () => Promise<number[]>; held: Held }) => Promise<void>,
  holdFlushes = false,
): Promise<void> => {
  const { db: opened, close } = await openTestDatabase("sqlite");
  const held: Held = [];
  const db: Database = holdFlushes
    ? { ...opened, walFlusher: new WalFlusher(`${sqlitePath(opened.url)}-wal`, () => new Promise<void>((resolve) => held.push({ resolve }))) }
    : opened;
  const hub = new TransitionHub(db);
  try {
    await hub.start(3_600_000);
    const append = async (ns: number[]) => void (await committedTransaction(db, (sql) => appendToFeed(sql, ns.map(row))));
    const seqs = async () => (await opened.prisma.transitionFeed.findMany({ orderBy: { seq: "asc" } })).map((r) => r.seq);
    await test({ hub, db, append, seqs, held });
  } finally {
    for (const h of held) h.resolve();
    await hub.stop();
    await close();
  }
};

const nextTo = async (rows: AsyncGenerator<FeedRow>): Promise<string | null> => ((await rows.next()).value as FeedRow).to;

/** Whether `p` has settled once the work now queued (and one timer turn) has run. */
const isSettled = async (p: Promise<unknown>): Promise<boolean> => {
  let settled = false;
  void p.then(() => (settled = true), () => (settled = true));
  await new Promise((r) => setTimeout(r, 30));
  return settled;
};

describe("TransitionHub", () => {
  it("does not resend rows at or before a cursor ahead of what this process has read", () =>
    withHub(async ({ hub, append, seqs }) => {
      // Another process appended three rows; this hub has not refreshed yet.
      await append([1, 2, 3]);
      const [, second, third] = await seqs();
      const aborter = new AbortController();
      const rows = hub.subscribe({}, second!, aborter.signal);
      const first = rows.next();
      await new Promise((r) => setTimeout(r, 50));
      await hub.refresh();
      const got = (await first).value as FeedRow;
      expect(got.seq).toBe(third);
      expect(got.to).toBe("3");
      aborter.abort();
      await rows.return(undefined);
    }));

  it("keeps only the feed's end while nobody follows; later subscribers still get every row after their cursor", () =>
    withHub(async ({ hub, append, seqs }) => {
      await append([1, 2, 3]);
      await hub.refresh();
      expect(hub.position).toBe((await seqs())[2]);
      // From the start (a reconnect with an old cursor): paged from the database.
      const aborter = new AbortController();
      const fromStart = hub.subscribe({}, 0, aborter.signal);
      expect([await nextTo(fromStart), await nextTo(fromStart), await nextTo(fromStart)]).toEqual(["1", "2", "3"]);
      // From now: only what comes next, read once somebody follows.
      const fromNow = hub.subscribe({}, null, aborter.signal);
      const next = nextTo(fromNow);
      await append([4]);
      await hub.refresh();
      expect(await next).toBe("4");
      expect(await nextTo(fromStart)).toBe("4");
      aborter.abort();
      await fromStart.return(undefined);
      await fromNow.return(undefined);
    }));

  it("drops its buffer when nobody follows: a later cursor between the old buffer and the new end skips nothing", () =>
    withHub(async ({ hub, append, seqs }) => {
      // Someone follows while rows 1-3 arrive: they are buffered.
      const first = new AbortController();
      const follower = hub.subscribe({}, null, first.signal);
      const pending = nextTo(follower);
      await append([1, 2, 3]);
      await hub.refresh();
      expect(await pending).toBe("1");
      first.abort();
      await follower.return(undefined);
      // Nobody follows while rows 4-6 arrive.
      await append([4, 5, 6]);
      await hub.refresh();
      const later = new AbortController();
      const resumed = hub.subscribe({}, (await seqs())[3]!, later.signal);
      expect([await nextTo(resumed), await nextTo(resumed)]).toEqual(["5", "6"]);
      later.abort();
      await resumed.return(undefined);
    }));

  it("hands a row to a subscriber only once the commit that wrote it is on disk", () =>
    withHub(async ({ hub, append, held }) => {
      const aborter = new AbortController();
      const rows = hub.subscribe({}, null, aborter.signal);
      const next = nextTo(rows);
      await append([1]);
      const refreshed = hub.refresh();
      // Committed, read, not yet flushed: nothing handed out, and the head has not moved.
      expect(await isSettled(next)).toBe(false);
      expect(hub.position).toBe(0);
      held[0]!.resolve();
      await refreshed;
      expect(await next).toBe("1");
      aborter.abort();
      await rows.return(undefined);
    }, true));

  it("does not move its head past a commit not yet on disk while nobody follows", () =>
    withHub(async ({ hub, append, held, seqs }) => {
      await append([1]);
      const refreshed = hub.refresh();
      expect(await isSettled(refreshed)).toBe(false);
      expect(hub.position).toBe(0);
      held[0]!.resolve();
      await refreshed;
      expect(hub.position).toBe((await seqs())[0]);
    }, true));
});

describe("listing events and feed rows", () => {
  it("answers only once the events it lists are on disk", () =>
    withHub(async ({ db, held }) => {
      // An app event committed by the store, its flush held.
      await appendEventsCommitted(db, [
        { provider: APP_SOURCE, providerEventId: "evt_listed", type: "usage.recorded", occurredAt: 0, receivedAt: 0, origin: "api", rawBody: Buffer.from("{}"), payload: {} },
      ]);
      const listed = listEvents(db, null, 10);
      expect(await isSettled(listed)).toBe(false);
      held[0]!.resolve();
      expect((await listed).events.map((e) => e.providerEventId)).toEqual(["evt_listed"]);
    }, true));

  it("shows the newest feed rows only once they are on disk", () =>
    withHub(async ({ db, append, held }) => {
      await append([1]);
      const recent = recentFeed(db, 10);
      expect(await isSettled(recent)).toBe(false);
      held[0]!.resolve();
      expect((await recent).map((r) => r.to)).toEqual(["1"]);
    }, true));
});
