// Arrival-order independence and replay equivalence through the real store: generated Stripe
// histories delivered in a random order with duplicates, each event appended and projected as it
// arrives, must leave projections equal to the offline fold of the same events — and the same
// whichever order they came in. Runs on SQLite and PostgreSQL.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Projector } from "../../src/projection/projector.js";
import { arbHistoryAndDelivery, testCatalog } from "../builders/histories.js";
import type { StripeEvent } from "../builders/stripe.js";
import { appendStripeEvent } from "../support/append.js";
import { KINDS, openTestDatabase } from "../support/databases.js";
import { databaseSnapshot, type Snapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot } from "../../src/offline/verify.js";

const RUNS = Number(process.env.FC_STORE_RUNS ?? 12);

const ingestAll = async (kind: (typeof KINDS)[number], delivered: readonly StripeEvent[]): Promise<{ live: Snapshot; replayed: Snapshot }> => {
  const { db, close } = await openTestDatabase(kind);
  try {
    const projector = new Projector(db, testCatalog);
    for (const e of delivered) {
      const r = await appendStripeEvent(db, e);
      if (!r.duplicate) await projector.project(r.seq);
    }
    return { live: await databaseSnapshot(db), replayed: await replaySnapshot(db, testCatalog) };
  } finally {
    await close();
  }
};

describe.each(KINDS)("the store on %s", (kind) => {
  it("projects any arrival order with duplicates into what the offline fold of the set gives", async () => {
    await fc.assert(
      fc.asyncProperty(arbHistoryAndDelivery, async ({ history, delivered }) => {
        const inOrder = await ingestAll(kind, history.events);
        const shuffled = await ingestAll(kind, delivered);
        expect(shuffled.live).toEqual(shuffled.replayed);
        expect(shuffled.live).toEqual(inOrder.live);
      }),
      { numRuns: RUNS },
    );
  }, RUNS * 10_000);
});
