// Replay equivalence across providers, through the real store: a generated mixed history (a Stripe
// history plus Paddle, Lemon Squeezy and Creem lifecycles for the same app users, see
// test/builders/mixed.ts) is delivered in any order with redeliveries, each delivery appended as
// ingest appends it (origin "webhook", receivedAt increasing; a second endpoint's copy of an event is
// a duplicate) and projected as it arrives, as the server does. Then
//   - the store holds each event once, and the export lists them in canonical order;
//   - replay(export(db)) equals the projections exactly, the transition log included;
//   - reprocess changes nothing and verify is clean;
//   - a forged projection row of a non-Stripe subscription is the one difference verify reports,
//     and reprocess restores it.
// SQLite over several runs (FC_OFFLINE_RUNS, default 8); one example on PostgreSQL.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/store/database.js";
import { appendEvent } from "../../src/store/events.js";
import { Projector } from "../../src/projection/projector.js";
import { testCatalog } from "../builders/histories.js";
import { arbMixedHistoryAndDelivery, type MixedEvent, type MixedHistory } from "../builders/mixed.js";
import { HAS_POSTGRES, openTestDatabase, type DatabaseKindUnderTest } from "../support/databases.js";
import { checkRoundTrip } from "./support.js";

const RUNS = Number(process.env.FC_OFFLINE_RUNS ?? 8);
const AT = Date.parse("2024-07-15T00:00:00Z");

/** Appends each delivery as ingest does and projects what was new, one event at a time. */
const ingest = async (db: Database, delivered: readonly MixedEvent[]): Promise<void> => {
  const projector = new Projector(db, testCatalog);
  for (const [i, e] of delivered.entries()) {
    const r = await appendEvent(db, {
      provider: e.provider,
      providerEventId: e.providerEventId,
      type: e.type,
      occurredAt: e.occurredAt,
      receivedAt: 1_700_000_000_000 + i,
      origin: "webhook",
      rawBody: e.rawBody,
      payload: e.payload,
    });
    if (!r.duplicate) await projector.project(r.seq);
  }
};

type Input = { history: MixedHistory; delivered: MixedEvent[] };

/** Whether the run had a non-Stripe subscription to forge. */
const roundTrip = async (kind: DatabaseKindUnderTest, { history, delivered }: Input): Promise<boolean> => {
  const { db, close } = await openTestDatabase(kind);
  try {
    await ingest(db, delivered);
    const stored = await db.prisma.event.findMany({ select: { provider: true, providerEventId: true } });
    const key = (e: { provider: string; providerEventId: string }) => `${e.provider}:${e.providerEventId}`;
    expect(stored.map(key).sort()).toEqual(history.events.map(key).sort());
    return await checkRoundTrip(db, AT, (s) => s.provider !== "stripe");
  } finally {
    await close();
  }
};

/** Runs with at least two providers' subscriptions for one app user: the case this suite is about. */
const interleaved = arbMixedHistoryAndDelivery.filter(({ history }) => {
  const providersOf = new Map<string, Set<string>>();
  for (const [id, user] of Object.entries(history.expected.owners)) {
    if (!(id in history.expected.subscriptions) && !id.startsWith("stripe:sub_")) continue;
    providersOf.set(user, (providersOf.get(user) ?? new Set()).add(id.slice(0, id.indexOf(":"))));
  }
  return [...providersOf.values()].some((providers) => providers.size > 1);
});

describe("cross-provider export → replay → verify → reprocess", () => {
  it("on sqlite: replay(export(db)) equals the projections, and reprocess leaves verify clean", async () => {
    let forged = 0;
    await fc.assert(
      fc.asyncProperty(arbMixedHistoryAndDelivery, async (input) => void ((await roundTrip("sqlite", input)) && forged++)),
      { numRuns: RUNS },
    );
    expect(forged).toBeGreaterThan(0);
  }, RUNS * 30_000);

  it("on sqlite: the same, for histories where one app user subscribes at two providers", async () => {
    await fc.assert(
      fc.asyncProperty(interleaved, async (input) => void (await roundTrip("sqlite", input))),
      { numRuns: Math.max(1, Math.ceil(RUNS / 2)) },
    );
  }, RUNS * 30_000);

  it.skipIf(!HAS_POSTGRES)("on postgresql: the same, for one generated history", async () => {
    await fc.assert(
      fc.asyncProperty(interleaved, async (input) => void expect(await roundTrip("postgresql", input)).toBe(true)),
      { numRuns: 1, seed: 20_240_601 },
    );
  }, 120_000);
});
