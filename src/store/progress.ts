// How far the projections have got: what `verity verify` watches to tell whether the database
// changed while it compared, and reports as pending.
import type { Database } from "./database.js";

export type ProjectionProgress = {
  readonly lastEventSeq: number;
  readonly events: number;
  readonly projected: number;
  readonly lastFeedSeq: number;
  /** The catalog fingerprint the projections were derived with (null before any). */
  readonly derivedWith: string | null;
};

export const projectionProgress = async (db: Database): Promise<ProjectionProgress> => {
  const p = db.prisma;
  const [lastEvent, events, projected, lastFeed, meta] = await Promise.all([
    p.event.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } }),
    p.event.count(),
    p.projectedEvent.count(),
    p.transitionFeed.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } }),
    p.projectionMeta.findUnique({ where: { key: "derivedWith" } }),
  ]);
  return { lastEventSeq: lastEvent?.seq ?? 0, events, projected, lastFeedSeq: lastFeed?.seq ?? 0, derivedWith: meta?.value ?? null };
};
