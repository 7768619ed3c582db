// `verity verify`: exports the event log, replays it offline and compares the result with the live
// projections, field by field. No difference is the replay-equivalence property, checked on the
// operator's own data.
import type { Catalog } from "../domain/catalog.js";
import type { Database } from "../store/database.js";
import { catalogFingerprint } from "../store/projector.js";
import { diffSnapshots, type Difference } from "./diff.js";
import { exportEvents } from "./export.js";
import { encodeLine } from "./ndjson.js";
import { replay, type ReplayResult } from "./replay.js";
import { databaseSnapshot, type Snapshot } from "./snapshot.js";

export type VerifyResult = {
  /** Differences as (left) projections vs (right) replay. */
  readonly differences: readonly Difference[];
  readonly live: Snapshot;
  readonly replayed: ReplayResult;
  /** Stored events the projections do not include yet (the server catches up on them). */
  readonly pending: number;
  /** False when the projections were derived with another plan catalog or Verity version. */
  readonly sameCatalog: boolean;
  /** True when the database kept changing during every attempt: the comparison may not be exact. */
  readonly unsettled: boolean;
};

/** What changes whenever events are appended or projections rewritten. */
const watermark = async (db: Database): Promise<string> => {
  const p = db.prisma;
  const [lastEvent, projected, lastFeed, meta] = await Promise.all([
    p.event.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } }),
    p.projectedEvent.count(),
    p.transitionFeed.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } }),
    p.projectionMeta.findUnique({ where: { key: "derivedWith" } }),
  ]);
  return JSON.stringify([lastEvent?.seq ?? 0, projected, lastFeed?.seq ?? 0, meta?.value ?? null]);
};

async function* lines(db: Database): AsyncGenerator<string> {
  for await (const event of exportEvents(db)) yield encodeLine(event);
}

/**
 * Exports, replays (at `at`, which only matters for the entitlements view) and compares. When the
 * database changes meanwhile (a running server ingesting), it tries again, up to `attempts` times.
 */
export const verify = async (
  db: Database,
  catalog: Catalog,
  options: { readonly at: number; readonly attempts?: number; readonly onProgress?: (read: number) => void },
): Promise<VerifyResult> => {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const before = await watermark(db);
    const replayed = await replay(lines(db), catalog, { at: options.at, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    const live = await databaseSnapshot(db);
    const after = await watermark(db);
    if (before !== after && attempt < attempts) continue;
    const [events, projected, meta] = await Promise.all([
      db.prisma.event.count(),
      db.prisma.projectedEvent.count(),
      db.prisma.projectionMeta.findUnique({ where: { key: "derivedWith" } }),
    ]);
    return {
      differences: diffSnapshots(live, replayed),
      live,
      replayed,
      pending: events - projected,
      sameCatalog: meta === null || meta.value === catalogFingerprint(catalog),
      unsettled: before !== after,
    };
  }
};

/** Only the projection fields of a replay result. */
export const snapshotOf = (r: Snapshot): Snapshot => ({
  users: r.users,
  identities: r.identities,
  subscriptions: r.subscriptions,
  orders: r.orders,
  grants: r.grants,
  transitions: r.transitions,
});

/** The offline fold of the database's exported event log, shaped like databaseSnapshot. */
export const replaySnapshot = async (db: Database, catalog: Catalog): Promise<Snapshot> =>
  snapshotOf(await replay(lines(db), catalog, { at: 0 }));
