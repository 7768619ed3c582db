// Replay equivalence through the offline commands, over generated histories: ingest a random
// delivery (any order, duplicates) through the store as the server does, then
//   - the export lists every stored event once, in canonical order (paged, groups across pages);
//   - replay(export(db)) equals the projections exactly, the transition log included;
//   - reprocess changes nothing and leaves a database whose verify is clean;
//   - a forged projection row is the one difference verify reports, and reprocess restores it.
// SQLite over several runs; one example on PostgreSQL.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalOrder } from "../../src/domain/canonical-order.js";
import { diffSnapshots } from "../../src/offline/diff.js";
import { decodeLine } from "../../src/offline/ndjson.js";
import { replay } from "../../src/offline/replay.js";
import { reprocess } from "../../src/offline/reprocess.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { snapshotOf, verify } from "../../src/offline/verify.js";
import { toStoredEvent } from "../../src/store/events.js";
import { normalizeStored } from "../../src/store/projector.js";
import { arbHistoryAndDelivery, testCatalog, type History } from "../builders/histories.js";
import type { StripeEvent } from "../builders/stripe.js";
import { HAS_POSTGRES, openTestDatabase, type DatabaseKindUnderTest } from "../support/databases.js";
import { exportLines, ingest } from "./support.js";

const RUNS = Number(process.env.FC_OFFLINE_RUNS ?? 8);
const AT = Date.parse("2024-07-15T00:00:00Z");

/** Whether the run had a subscription to forge. */
const roundTrip = async (kind: DatabaseKindUnderTest, { delivered }: { history: History; delivered: StripeEvent[] }): Promise<boolean> => {
  const { db, close } = await openTestDatabase(kind);
  try {
    await ingest(db, delivered);
    const stored = (await db.prisma.event.findMany({ orderBy: { seq: "asc" } })).map(toStoredEvent);

    // A small page size, so same-instant groups span pages.
    const lines = await exportLines(db, { pageSize: 3 });
    const exported = lines.map((l, i) => decodeLine(l, i + 1)!);
    const canonical = canonicalOrder(stored.map((e) => normalizeStored(e, testCatalog))).map((e) => e.eventId);
    expect(exported.map((e) => e.providerEventId)).toEqual(canonical);
    const bySeq = new Map(stored.map((e) => [e.seq, e]));
    for (const e of exported) expect(Buffer.from(e.rawBody).equals(Buffer.from(bySeq.get(e.seq)!.rawBody))).toBe(true);

    const live = await databaseSnapshot(db);
    const replayed = await replay(lines, testCatalog, { at: AT });
    expect(diffSnapshots(live, replayed)).toEqual([]);
    expect(snapshotOf(replayed)).toEqual(live);
    expect(replayed.events).toBe(stored.length);

    const unchanged = await reprocess(db, testCatalog);
    expect(unchanged.differences).toEqual([]);
    expect(unchanged.events).toBe(stored.length);
    expect((await verify(db, testCatalog, { at: AT })).differences).toEqual([]);

    const target = live.subscriptions[0];
    if (target !== undefined) {
      const forged = target.status === "active" ? "past_due" : "active";
      await db.prisma.$executeRaw`UPDATE "Subscription" SET "status" = ${forged} WHERE "id" = ${target.id}`;
      const found = await verify(db, testCatalog, { at: AT });
      expect(found.differences).toEqual([{ entity: "subscription", id: target.id, field: "status", left: forged, right: target.status }]);
      const fixed = await reprocess(db, testCatalog);
      expect(fixed.changes.subscription).toEqual({ added: 0, removed: 0, changed: 1 });
      expect((await verify(db, testCatalog, { at: AT })).differences).toEqual([]);
      expect(await databaseSnapshot(db)).toEqual(live);
    }
    return target !== undefined;
  } finally {
    await close();
  }
};

const withSubscription = arbHistoryAndDelivery.filter(({ history }) => Object.keys(history.expected.subscriptions).length > 0);

describe("export → replay → verify → reprocess", () => {
  it("on sqlite: replay(export(db)) equals the projections, and reprocess leaves verify clean", async () => {
    let forged = 0;
    await fc.assert(
      fc.asyncProperty(arbHistoryAndDelivery, async (input) => void ((await roundTrip("sqlite", input)) && forged++)),
      { numRuns: RUNS },
    );
    expect(forged).toBeGreaterThan(0);
  }, RUNS * 30_000);

  it.skipIf(!HAS_POSTGRES)("on postgresql: the same, for one generated history", async () => {
    await fc.assert(
      fc.asyncProperty(withSubscription, async (input) => void expect(await roundTrip("postgresql", input)).toBe(true)),
      { numRuns: 1, seed: 20_240_601 },
    );
  }, 120_000);
});
