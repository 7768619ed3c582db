// Reads that walk the event store one connected component at a time, for checks that must not hold
// the whole log in memory (`verity verify`). The partition is the projector's own bookkeeping
// (Component, ComponentKey, EventKey): whoever walks it must check it against the events, since a
// check that trusted it could not find it wrong.
import { Prisma } from "./generated/postgresql/client.js";
import type { Database } from "./database.js";
import { readEventsBySeq, type StoredEvent } from "./events.js";
import { sqlOf } from "./sql.js";

/** The largest seq stored (0 when the store is empty): a consistent cut of the log. */
export const lastEventSeq = async (db: Database): Promise<number> =>
  (await db.prisma.event.findFirst({ orderBy: { seq: "desc" }, select: { seq: true } }))?.seq ?? 0;

export type ComponentSize = { readonly id: string; readonly events: number };

/** Components in id order after `after`, with how many events each has folded. */
export const componentPage = async (db: Database, after: string | null, take: number): Promise<ComponentSize[]> =>
  db.prisma.component.findMany({
    select: { id: true, events: true },
    orderBy: { id: "asc" },
    take,
    ...(after === null ? {} : { where: { id: { gt: after } } }),
  });

/** Seqs up to `last` of events no projection has folded yet. */
export const unprojectedSeqs = async (db: Database, last: number): Promise<number[]> => {
  const rows = await db.prisma.$queryRaw<{ seq: number | bigint }[]>(
    Prisma.sql`SELECT e."seq" AS seq FROM "Event" e LEFT JOIN "ProjectedEvent" p ON p."seq" = e."seq" WHERE e."seq" <= ${last} AND p."seq" IS NULL ORDER BY e."seq"`,
  );
  return rows.map((r) => Number(r.seq));
};

/** Stored seqs in (after, last], ascending, at most `take`. */
export const seqPage = async (db: Database, after: number, last: number, take: number): Promise<number[]> =>
  (await db.prisma.event.findMany({ select: { seq: true }, where: { seq: { gt: after, lte: last } }, orderBy: { seq: "asc" }, take })).map((r) => r.seq);

/** The stored events with these seqs (raw bodies, no parsed copy), in seq order. */
export const eventsBySeq = (db: Database, seqs: readonly number[]): Promise<StoredEvent[]> => readEventsBySeq(sqlOf(db, db.prisma), seqs);
