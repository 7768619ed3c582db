// Replay equivalence through the offline commands, over generated histories: ingest a random
// delivery (any order, duplicates) through the store as the server does, then
//   - the export lists every stored event once, in canonical order (paged, groups across pages);
//   - replay(export(db)) equals the projections exactly, the transition log included;
//   - reprocess changes nothing and leaves a database whose verify is clean;
//   - a forged projection row is the one difference verify reports, and reprocess restores it.
// SQLite over several runs; one example on PostgreSQL.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbHistoryAndDelivery, type History } from "../builders/histories.js";
import type { StripeEvent } from "../builders/stripe.js";
import { HAS_POSTGRES, openTestDatabase, type DatabaseKindUnderTest } from "../support/databases.js";
import { checkRoundTrip, ingest } from "./support.js";

const RUNS = Number(process.env.FC_OFFLINE_RUNS ?? 8);
const AT = Date.parse("2024-07-15T00:00:00Z");

/** Whether the run had a subscription to forge. */
const roundTrip = async (kind: DatabaseKindUnderTest, { delivered }: { history: History; delivered: StripeEvent[] }): Promise<boolean> => {
  const { db, close } = await openTestDatabase(kind);
  try {
    await ingest(db, delivered);
    return await checkRoundTrip(db, AT);
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
