// Durable first, then answer: a webhook is answered once its append has committed, never after
// its projection; deliveries that arrive together share one commit (group commit); every answer
// says how far projections have got, so a client waits for its seq instead of sleeping.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECTED_THROUGH_HEADER } from "../../src/server/app.js";
import { stripeSignatureHeader } from "../../src/providers/stripe/verify.js";
import { customer, stripeEvent, toRawBody, type StripeEvent } from "../builders/stripe.js";
import { testCatalog } from "../builders/histories.js";
import { HAS_POSTGRES, KINDS } from "../support/databases.js";
import { startChildVerity, type ChildVerity } from "../support/child-server.js";
import { untilProjected } from "../support/projected.js";
import { startServer, type RunningServer } from "../support/server.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot } from "../../src/offline/verify.js";
import { sendTogether, type RawRequest } from "../support/raw-http.js";
import { deliver, TEST_SECRET } from "../support/stripe-delivery.js";

const T0 = 1_735_689_600;

const customerCreated = (n: number, at = T0) =>
  stripeEvent({ id: `evt_df_${n}`, type: "customer.created", created: at + n, object: customer({ id: `cus_df_${n}`, metadata: { user_id: `user_df_${n}` } }) });

describe.each(KINDS)("durable first, then answer, on %s", (kind) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(kind, testCatalog, { now: T0 * 1000 + 60_000 });
  });
  afterAll(async () => s?.stop());

  it("says how far projections have got: in /healthz, a header on every answer, and GraphQL", async () => {
    const res = await deliver(s.url, customerCreated(100), { timestamp: T0 });
    const { seq } = (await res.json()) as { seq: number };
    const health = await fetch(`${s.url}/healthz`);
    expect(((await health.json()) as { projectedThrough: number }).projectedThrough).toBeGreaterThanOrEqual(seq);
    expect(Number(health.headers.get(PROJECTED_THROUGH_HEADER))).toBeGreaterThanOrEqual(seq);
    const gql = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.readKey}` },
      body: JSON.stringify({ query: "{ projectedThrough }" }),
    });
    expect(((await gql.json()) as { data: { projectedThrough: number } }).data.projectedThrough).toBeGreaterThanOrEqual(seq);
  });
});

describe.each(KINDS)("group commit in a server process on %s", (kind) => {
  let s: ChildVerity;
  beforeAll(async () => {
    s = await startChildVerity(kind);
  }, 90_000);
  afterAll(async () => s?.stop());
  const health = async () => (await (await fetch(`${s.url}/healthz`)).json()) as { projectedThrough: number; appends: { commits: number; events: number } };

  it("answers deliveries that arrive together each with its own seq once durable, and projects them all", async () => {
    const now = Math.floor(Date.now() / 1000);
    const before = (await health()).appends;
    const events = Array.from({ length: 64 }, (_, n) => customerCreated(n, now));
    const signed = (e: StripeEvent): RawRequest => {
      const body = toRawBody(e);
      return { path: "/webhooks/stripe", headers: { "content-type": "application/json", "stripe-signature": stripeSignatureHeader(body, TEST_SECRET, now) }, body };
    };
    const raw = await sendTogether(s.url, events.map(signed));
    expect(raw.map((r) => r.status)).toEqual(events.map(() => 200));
    const answers = raw.map((r) => JSON.parse(r.body) as { seq: number; duplicate: boolean });
    const seqs = answers.map((a) => a.seq);
    expect(new Set(seqs).size).toBe(64);
    expect(answers.every((a) => a.duplicate === false)).toBe(true);
    const after = (await health()).appends;
    expect(after.events - before.events).toBe(64);
    // How many deliveries share a commit depends on how the server happens to read them (all 64
    // alone is possible when each commit ends before the next request is read): never more commits
    // than deliveries. Grouping itself is proven in-process (test/store/appender.test.ts);
    // bench/webhooks.ts measures it under load.
    expect(after.commits - before.commits).toBeGreaterThan(0);
    expect(after.commits - before.commits).toBeLessThanOrEqual(64);
    const stored = await s.db.prisma.event.findMany({ where: { providerEventId: { in: events.map((e) => e.id) } }, select: { seq: true, providerEventId: true } });
    expect(new Map(stored.map((r) => [r.providerEventId, r.seq]))).toEqual(new Map(events.map((e, i) => [e.id, seqs[i]!])));
    // The same events again, together and twice each: duplicates, answered with the stored seqs.
    const again = await sendTogether(s.url, [...events, ...events].map(signed));
    expect(again.map((r) => (JSON.parse(r.body) as { seq: number; duplicate: boolean }))).toEqual([...seqs, ...seqs].map((seq) => ({ received: true, seq, duplicate: true, type: "customer.created", id: expect.any(String) })));
    await untilProjected(s.url, Math.max(...seqs));
    const snapshot = await databaseSnapshot(s.db);
    expect(snapshot.users.length).toBe(64);
    expect(snapshot).toEqual(await replaySnapshot(s.db, testCatalog));
  });
});

describe.skipIf(!HAS_POSTGRES)("answered before projection (PostgreSQL)", () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer("postgresql", testCatalog, { now: T0 * 1000 + 60_000 });
  });
  afterAll(async () => s?.stop());

  it("answers a delivery while its projection is held back, and projects it once released", async () => {
    // Hold the lock every projection takes: appends do not need it, projections wait for it.
    const holder = new pg.Client({ connectionString: s.databaseUrl });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(4242002)");
      const res = await deliver(s.url, customerCreated(200), { timestamp: T0, settle: false });
      expect(res.status).toBe(200);
      const { seq } = (await res.json()) as { seq: number };
      expect(await s.db.prisma.event.count({ where: { seq } })).toBe(1);
      expect(await s.db.prisma.projectedEvent.count({ where: { seq } })).toBe(0);
      const health = (await (await fetch(`${s.url}/healthz`)).json()) as { projectedThrough: number };
      expect(health.projectedThrough).toBeLessThan(seq);
      await holder.query("SELECT pg_advisory_unlock(4242002)");
      await untilProjected(s.url, seq);
      expect(await s.db.prisma.projectedEvent.count({ where: { seq } })).toBe(1);
    } finally {
      await holder.end();
    }
  });
});
