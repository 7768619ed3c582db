// `verity reprocess`: rebuilds every projection from the event store in one transaction (readers
// see the old state or the new) and reports what changed, comparing the projections just before and
// just after, inside that transaction.
import type { Catalog } from "../domain/catalog.js";
import type { Database } from "../store/database.js";
import { rebuildProjections } from "../projection/projector.js";
import type { Entity } from "../store/projection-rows.js";
import { diffSnapshots, summarizeChanges, type ChangeCounts, type Difference } from "./diff.js";
import { databaseSnapshot, type Snapshot } from "./snapshot.js";

export type ReprocessResult = {
  readonly events: number;
  readonly before: Snapshot;
  readonly after: Snapshot;
  readonly changes: Record<Entity, ChangeCounts>;
  /** Every difference, as (left) before vs (right) after. */
  readonly differences: readonly Difference[];
};

export const reprocess = async (db: Database, catalog: Catalog): Promise<ReprocessResult> => {
  let before: Snapshot | null = null;
  let after: Snapshot | null = null;
  const { events } = await rebuildProjections(db, catalog, {
    before: async (sql) => void (before = await databaseSnapshot(sql)),
    after: async (sql) => void (after = await databaseSnapshot(sql)),
  });
  const b = before as Snapshot | null;
  const a = after as Snapshot | null;
  if (b === null || a === null) throw new Error("reprocess: the rebuild did not report its projections");
  return { events, before: b, after: a, changes: summarizeChanges(b, a), differences: diffSnapshots(b, a) };
};
