// Group commit, in-process where its timing is under the test's control: deliveries that append in
// the same turn of the event loop share one transaction, a commit waits for a delivery still being
// read and verified, and each caller gets its own answer. (Over HTTP, how many deliveries share a
// commit depends on how the server happens to read them; test/server/durable-first.http.test.ts
// checks what holds whatever the timing.) Runs on SQLite and PostgreSQL.
import { setImmediate } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Appender } from "../../src/store/appender.js";
import type { Database } from "../../src/store/database.js";
import type { NewEvent } from "../../src/store/events.js";
import { KINDS } from "../support/databases.js";
import { databasesPerTest } from "../support/per-test.js";

const openDb = databasesPerTest();
const open = async (kind: (typeof KINDS)[number]): Promise<Database> => (await openDb(kind)).db;

const event = (n: number): NewEvent => {
  const payload = { id: `evt_group_${n}`, type: "customer.created", created: 1_735_689_600 };
  return {
    provider: "stripe",
    providerEventId: payload.id,
    type: payload.type,
    occurredAt: payload.created * 1000,
    receivedAt: payload.created * 1000,
    origin: "webhook",
    rawBody: Buffer.from(JSON.stringify(payload)),
    payload,
  };
};

describe.each(KINDS)("group commit on %s", (kind) => {
  it("appends the deliveries of one turn in one transaction, each answered with its own seq", async () => {
    const db = await open(kind);
    const stored: number[] = [];
    const appender = new Appender(db, (seqs) => stored.push(...seqs));
    const answers = await Promise.all(Array.from({ length: 64 }, (_, n) => appender.append(event(n))));
    expect(appender.commits).toBe(1);
    expect(appender.appended).toBe(64);
    expect(new Set(answers.map((a) => a.seq)).size).toBe(64);
    expect(answers.every((a) => !a.duplicate)).toBe(true);
    expect(stored.sort((a, b) => a - b)).toEqual(answers.map((a) => a.seq).sort((a, b) => a - b));
    expect(await db.prisma.event.count()).toBe(64);
  });

  it("waits for a delivery still being read, so it shares the commit; a redelivery in it is a duplicate", async () => {
    const db = await open(kind);
    // The wait is bounded by a few milliseconds in production; a slow turn of the event loop here
    // must not decide the outcome, so the bound is long.
    const appender = new Appender(db, undefined, 500, 10_000);
    const reading = appender.arrival();
    const first = appender.append(event(1));
    // The delivery being read appends a turn later, as a verified request would, then is done.
    const second = setImmediate().then(() => {
      const answer = appender.append(event(2));
      const again = appender.append(event(1));
      reading();
      return Promise.all([answer, again]);
    });
    const [a, [b, c]] = await Promise.all([first, second]);
    expect(appender.commits).toBe(1);
    expect(b.seq).not.toBe(a.seq);
    expect(c).toEqual({ seq: a.seq, duplicate: true });
  });
});
