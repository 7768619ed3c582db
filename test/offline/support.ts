// Helpers for the offline suites: ingest a history as the server would (append, then project as
// each event arrives), export a database to NDJSON lines, and the test catalog as the JSON file an
// operator would write (the CLI reads a file).
import { expect } from "vitest";
import { canonicalOrder } from "../../src/domain/canonical-order.js";
import { diffSnapshots } from "../../src/offline/diff.js";
import { exportEvents, type ExportOptions } from "../../src/offline/export.js";
import { decodeLine, encodeLine } from "../../src/offline/ndjson.js";
import { replay } from "../../src/offline/replay.js";
import { reprocess } from "../../src/offline/reprocess.js";
import { databaseSnapshot, type Snapshot } from "../../src/offline/snapshot.js";
import { snapshotOf, verify } from "../../src/offline/verify.js";
import type { Database } from "../../src/store/database.js";
import { toStoredEvent } from "../../src/store/events.js";
import { normalizeStored } from "../../src/store/normalize-stored.js";
import { Projector } from "../../src/projection/projector.js";
import { testCatalog } from "../builders/histories.js";
import type { StripeEvent } from "../builders/stripe.js";
import { appendStripeEvent } from "../support/append.js";

export const ingest = async (db: Database, delivered: readonly StripeEvent[], catalog = testCatalog): Promise<void> => {
  const projector = new Projector(db, catalog);
  for (const [i, e] of delivered.entries()) {
    const r = await appendStripeEvent(db, e, 1_700_000_000_000 + i);
    if (!r.duplicate) await projector.project(r.seq);
  }
};

/** The export as NDJSON lines (each without its newline). */
export const exportLines = async (db: Database, options: ExportOptions = {}): Promise<string[]> => {
  const lines: string[] = [];
  for await (const e of exportEvents(db, options)) lines.push(encodeLine(e).slice(0, -1));
  return lines;
};

/**
 * The offline round trip on an ingested database:
 *   - the export lists every stored event once, in canonical order, byte for byte (paged small, so
 *     same-instant groups span pages);
 *   - replay(export(db)) at `at` equals the projections exactly, the transition log included;
 *   - reprocess changes nothing and leaves a database whose verify is clean;
 *   - a forged status on the first subscription `forge` picks is the one difference verify
 *     reports, and reprocess restores it.
 * Returns whether there was a subscription to forge.
 */
export const checkRoundTrip = async (
  db: Database,
  at: number,
  forge: (s: Snapshot["subscriptions"][number]) => boolean = () => true,
): Promise<boolean> => {
  const stored = (await db.prisma.event.findMany({ orderBy: { seq: "asc" } })).map(toStoredEvent);
  const key = (e: { provider: string; providerEventId: string }) => `${e.provider}:${e.providerEventId}`;
  const lines = await exportLines(db, { pageSize: 3 });
  const exported = lines.map((l, i) => decodeLine(l, i + 1)!);
  const canonical = canonicalOrder(stored.map((e) => normalizeStored(e, testCatalog))).map((e) => `${e.provider}:${e.eventId}`);
  expect(exported.map(key)).toEqual(canonical);
  const bySeq = new Map(stored.map((e) => [e.seq, e]));
  for (const e of exported) expect(Buffer.from(e.rawBody).equals(Buffer.from(bySeq.get(e.seq)!.rawBody))).toBe(true);

  const live = await databaseSnapshot(db);
  const replayed = await replay(lines, testCatalog, { at });
  expect(diffSnapshots(live, replayed)).toEqual([]);
  expect(snapshotOf(replayed)).toEqual(live);
  expect(replayed.events).toBe(stored.length);

  const unchanged = await reprocess(db, testCatalog);
  expect(unchanged.differences).toEqual([]);
  expect(unchanged.events).toBe(stored.length);
  expect((await verify(db, testCatalog, { at })).differences).toEqual([]);

  const target = live.subscriptions.find(forge);
  if (target === undefined) return false;
  const forged = target.status === "active" ? "past_due" : "active";
  await db.prisma.$executeRaw`UPDATE "Subscription" SET "status" = ${forged} WHERE "id" = ${target.id}`;
  const found = await verify(db, testCatalog, { at });
  expect(found.differences).toEqual([{ entity: "subscription", id: target.id, field: "status", left: forged, right: target.status }]);
  const fixed = await reprocess(db, testCatalog);
  expect(fixed.changes.subscription).toEqual({ added: 0, removed: 0, changed: 1 });
  expect((await verify(db, testCatalog, { at })).differences).toEqual([]);
  expect(await databaseSnapshot(db)).toEqual(live);
  return true;
};

/** testCatalog as verity.config.json text (the same prices at every provider). */
export const testCatalogJson = JSON.stringify(
  {
    plans: {
      pro: {
        name: "Pro",
        prices: testCatalog.plans.pro!.prices,
        features: { export: true, api_calls: { limit: 10000, per: "month", overage: "block" } },
        price: { amount: 1900, currency: "usd", interval: "month" },
      },
      team: {
        name: "Team",
        prices: testCatalog.plans.team!.prices,
        features: { export: true, api_calls: { limit: 50000, per: "period", overage: "allow" } },
        price: { amount: 4900, currency: "usd", interval: "month" },
      },
      lifetime: {
        name: "Lifetime",
        prices: testCatalog.plans.lifetime!.prices,
        features: { export: true, api_calls: { limit: 5000, per: "month", overage: "block" } },
        lifetime: true,
        price: { amount: 19900, currency: "usd", interval: "once" },
      },
      enterprise: {
        name: "Enterprise",
        prices: { stripe: ["price_enterprise_yearly"] },
        features: { export: true, sso: true },
        price: { amount: 99000, currency: "usd", interval: "year" },
      },
    },
    grace: { pastDueDays: 3 },
    userIdKeys: ["user_id", "userId"],
  },
  null,
  2,
);
