// Reprocess after a plan catalog change: verify names the stale projections, reprocess rebuilds them
// in one transaction (a reader outside it sees the old state until it commits) and reports what
// changed; afterwards verify is clean and the next start has nothing to rebuild.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import { reprocess } from "../../src/offline/reprocess.js";
import { databaseSnapshot, type Snapshot } from "../../src/offline/snapshot.js";
import { verify } from "../../src/offline/verify.js";
import type { Database } from "../../src/store/database.js";
import { rebuildIfStale, rebuildProjections } from "../../src/projection/projector.js";
import { buildHistory, PRICES, testCatalog, type UserScript } from "../builders/histories.js";
import { KINDS, openTestDatabase } from "../support/databases.js";
import { ingest } from "./support.js";

const scripts: UserScript[] = [
  {
    customerMetadata: true,
    email: false,
    startOffset: 0,
    subscription: {
      shape: "legacy",
      priceId: PRICES.proMonthly,
      trial: false,
      checkout: "on_time",
      metadataUserId: true,
      cancelAtSignup: false,
      renewals: 1,
      renewalTie: false,
      pastDue: "none",
      cancel: "none",
      cancelTie: false,
      planChange: "none",
      updateAtDeletion: false,
      paymentSucceededToo: false,
    },
    oneTime: null,
    sharesFirstCustomer: false,
  },
];

/** Pro now also grants single sign-on. */
const upgraded: Catalog = {
  ...testCatalog,
  plans: { ...testCatalog.plans, pro: { ...testCatalog.plans.pro!, features: { ...testCatalog.plans.pro!.features, sso: { _tag: "Flag" } } } },
};

const AT = Date.parse("2024-06-10T00:00:00Z");

describe.each(KINDS)("reprocess on %s", (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ db, close } = await openTestDatabase(kind));
    await ingest(db, buildHistory(scripts, 3).events);
    await rebuildIfStale(db, testCatalog);
  });
  afterEach(async () => close());

  it("rebuilds after a catalog change, reports what changed, and leaves verify clean", async () => {
    const stale = await verify(db, upgraded, { at: AT });
    expect(stale.sameCatalog).toBe(false);
    expect(stale.differences).toContainEqual(expect.objectContaining({ entity: "grant", field: null, left: undefined }));
    expect(stale.differences.filter((d) => d.entity === "grant").map((d) => d.id)).toEqual(["stripe:sub_U1:sso"]);

    const r = await reprocess(db, upgraded);
    expect(r.changes.grant).toEqual({ added: 1, removed: 0, changed: 0 });
    expect(r.changes.subscription).toEqual({ added: 0, removed: 0, changed: 0 });
    expect(r.changes.transition.added).toBeGreaterThan(0); // the entitlement "sso" transition

    const clean = await verify(db, upgraded, { at: AT });
    expect(clean.differences).toEqual([]);
    expect(clean.sameCatalog).toBe(true);
    expect(clean.pending).toBe(0);
    expect(await rebuildIfStale(db, upgraded)).toBe(false);
  });

  it.skipIf(kind !== "postgresql")("is atomic: a reader sees the old projections until the rebuild commits", async () => {
    const before = await databaseSnapshot(db);
    let outside: Snapshot | null = null;
    let inside: Snapshot | null = null;
    await rebuildProjections(db, upgraded, {
      after: async (sql) => {
        inside = await databaseSnapshot(sql);
        outside = await databaseSnapshot(db);
      },
    });
    expect(outside).toEqual(before);
    expect(inside).not.toEqual(before);
    expect(await databaseSnapshot(db)).toEqual(inside);
  });
});
