// The event store: append-only, idempotent on (provider, provider event id). An append returns
// only once its transaction has committed, so a caller that answers afterwards answers durably.
// Whatever a verified body holds is stored: its raw bytes always, a parsed copy when one can be
// kept (see parsed-copy.ts), ids and types in a form both databases can hold.
import type { Source } from "../domain/source.js";
import type { Instant } from "../domain/time.js";
import type { Database } from "./database.js";
import { Prisma } from "./generated/postgresql/client.js";
import { parsedCopy, storedEventId, storedEventType } from "./parsed-copy.js";
import { committedTransaction, type Sql } from "./sql.js";
import { sqlValue } from "./insert-rows.js";

export type NewEvent = {
  readonly provider: Source;
  readonly providerEventId: string;
  readonly type: string;
  readonly occurredAt: Instant;
  readonly receivedAt: Instant;
  /** A provider's webhook, a read of its API, or the app's own write endpoints. */
  readonly origin: "webhook" | "fetched" | "api";
  readonly rawBody: Uint8Array;
  readonly payload: unknown;
};

export type StoredEvent = {
  readonly seq: number;
  readonly provider: Source;
  readonly providerEventId: string;
  readonly type: string;
  readonly occurredAt: Instant;
  readonly receivedAt: Instant;
  readonly origin: string;
  readonly rawBody: Uint8Array;
  /** The parsed copy, or null when the event is kept raw only (`rawOnlyReason` says why). */
  readonly payload: unknown;
  readonly rawOnlyReason?: string | null;
  /** The raw bytes as UTF-8 text, when the reader already holds exactly that (an export line): not decoded again. */
  readonly bodyText?: string;
};

export type AppendResult = { readonly seq: number; readonly duplicate: boolean };

/** Held by every append on PostgreSQL (see appendEvents). */
export const APPEND_LOCK = 4_242_003;

const isUniqueViolation = (e: unknown): boolean => (e as { code?: string } | null)?.code === "P2002";

/** The row an event is stored as (see parsed-copy.ts for the id, the type and the parsed copy). */
export const rowOf = (event: NewEvent) => {
  const copy = parsedCopy(event.payload);
  return {
    provider: event.provider,
    providerEventId: storedEventId(event.providerEventId),
    type: storedEventType(event.type),
    occurredAt: new Date(event.occurredAt),
    receivedAt: new Date(event.receivedAt),
    origin: event.origin,
    rawBody: Buffer.from(event.rawBody),
    // JSON null (not SQL NULL) when raw only: the column stays NOT NULL for older readers.
    payload: (copy._tag === "Copy" ? copy.copy : Prisma.JsonNull) as object,
    rawOnlyReason: copy._tag === "RawOnly" ? copy.reason : null,
  };
};

const keyOf = (provider: string, storedId: string): string => `${provider}\u0000${storedId}`;

/**
 * Appends events in one transaction (one durable commit for all of them: group commit), each once:
 * an event already stored, or repeated in `events`, is answered as a duplicate with the stored
 * seq. Results are in the order of `events`. Cost: two statements per provider in the batch plus
 * the inserts, one commit.
 */
export const appendEvents = async (db: Database, events: readonly NewEvent[]): Promise<AppendResult[]> => {
  const { result, durable } = await appendEventsCommitted(db, events);
  await durable;
  return result;
};

/** appendEvents, resolving at the commit, with `durable` (see sql.ts committedTransaction): nobody may be told before it resolves. */
export const appendEventsCommitted = async (db: Database, events: readonly NewEvent[]): Promise<{ readonly result: AppendResult[]; readonly durable: Promise<void> }> => {
  const rows = events.map(rowOf);
  return committedTransaction(db, async (sql) => {
    // On PostgreSQL, appends take turns so that seq order is commit order: a reader paging by
    // seq never passes an event that commits later with a smaller seq. (SQLite has one writer.)
    if (db.kind === "postgresql") await sql.query(Prisma.sql`SELECT 1 FROM pg_advisory_xact_lock(${APPEND_LOCK})`);
    const known = new Map<string, number>();
    for (const provider of new Set(rows.map((r) => r.provider))) {
      const ids = [...new Set(rows.filter((r) => r.provider === provider).map((r) => r.providerEventId))];
      // In chunks: a statement may name a bounded number of parameters (999 on SQLite here).
      for (let i = 0; i < ids.length; i += 500) {
        const found = await sql.query<{ seq: number | bigint; providerEventId: string }>(
          Prisma.sql`SELECT "seq", "providerEventId" FROM "Event" WHERE "provider" = ${provider} AND "providerEventId" IN (${Prisma.join(ids.slice(i, i + 500))})`,
        );
        for (const f of found) known.set(keyOf(provider, f.providerEventId), Number(f.seq));
      }
    }
    const fresh = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      const key = keyOf(r.provider, r.providerEventId);
      if (!known.has(key) && !fresh.has(key)) fresh.set(key, r);
    }
    const createdSeq = new Map<string, number>();
    const freshRows = [...fresh.values()];
    for (let i = 0; i < freshRows.length; i += 500) {
      for (const c of await sql.query<{ seq: number | bigint; provider: string; providerEventId: string }>(insertEvents(sql.kind, freshRows.slice(i, i + 500)))) {
        createdSeq.set(keyOf(c.provider, c.providerEventId), Number(c.seq));
      }
    }
    const answered = new Set<string>();
    return rows.map((r) => {
      const key = keyOf(r.provider, r.providerEventId);
      const seq = createdSeq.get(key);
      if (seq !== undefined && !answered.has(key)) {
        answered.add(key);
        return { seq, duplicate: false };
      }
      return { seq: (seq ?? known.get(key))!, duplicate: true };
    });
  });
};

/**
 * One INSERT of event rows that returns their seqs: raw, because Prisma's createMany passes every
 * byte of each body and its parsed copy through its engine (see sql.ts). The parsed copy is JSON
 * text, as Prisma keeps it: SQLite stores the text, PostgreSQL casts it to jsonb.
 */
export const insertEvents = (kind: Database["kind"], rows: readonly ReturnType<typeof rowOf>[]): Prisma.Sql => {
  const json = (r: ReturnType<typeof rowOf>) => {
    const text = r.payload === Prisma.JsonNull ? "null" : JSON.stringify(r.payload);
    return kind === "sqlite" ? Prisma.sql`${text}` : Prisma.sql`CAST(${text} AS JSONB)`;
  };
  const tuples = rows.map(
    (r) =>
      Prisma.sql`(${r.provider}, ${r.providerEventId}, ${r.type}, ${sqlValue(kind, r.occurredAt)}, ${sqlValue(kind, r.receivedAt)}, ${r.origin}, ${r.rawBody}, ${json(r)}, ${r.rawOnlyReason})`,
  );
  return Prisma.sql`INSERT INTO "Event" ("provider", "providerEventId", "type", "occurredAt", "receivedAt", "origin", "rawBody", "payload", "rawOnlyReason") VALUES ${Prisma.join(tuples)} RETURNING "seq", "provider", "providerEventId"`;
};

export const appendEvent = async (db: Database, event: NewEvent): Promise<AppendResult> => {
  const existing = await findEventSeq(db, event.provider, event.providerEventId);
  if (existing !== null) {
    // Stored, perhaps by a commit whose flush is still running (SQLite): told once it is on disk.
    await db.walFlusher?.barrier();
    return { seq: existing, duplicate: true };
  }
  try {
    return (await appendEvents(db, [event]))[0]!;
  } catch (e) {
    // Two deliveries of one event racing (another process): the loser finds the winner's row.
    if (!isUniqueViolation(e)) throw e;
    const seq = await findEventSeq(db, event.provider, event.providerEventId);
    if (seq === null) throw e;
    return { seq, duplicate: true };
  }
};

/** The seq of the stored event with this provider's event id (as the provider sent it), if any. */
export const findEventSeq = async (db: Database, provider: string, providerEventId: string): Promise<number | null> =>
  (
    await db.prisma.event.findUnique({
      where: { provider_providerEventId: { provider, providerEventId: storedEventId(providerEventId) } },
      select: { seq: true },
    })
  )?.seq ?? null;

/** A provider's stored events of these types, raw bodies and instants, oldest first. */
export const eventsOfTypes = async (db: Database, provider: string, types: readonly string[]): Promise<{ readonly rawBody: Uint8Array; readonly occurredAt: Instant }[]> =>
  (
    await db.prisma.event.findMany({ where: { provider, type: { in: [...types] } }, orderBy: { seq: "asc" }, select: { rawBody: true, occurredAt: true } })
  ).map((e) => ({ rawBody: e.rawBody, occurredAt: e.occurredAt.getTime() }));

/** How many events the store holds. */
export const countEvents = (db: Database): Promise<number> => db.prisma.event.count();

type EventRow = {
  seq: number;
  provider: string;
  providerEventId: string;
  type: string;
  occurredAt: Date;
  receivedAt: Date;
  origin: string;
  rawBody: Uint8Array;
  payload: unknown;
  rawOnlyReason?: string | null;
};

type RawEventRow = {
  seq: number | bigint;
  provider: string;
  providerEventId: string;
  type: string;
  occurredAt: Date | string | number;
  receivedAt: Date | string | number;
  origin: string;
  /** The raw bytes, or their hex text where the driver cannot hand bytes back as they are. */
  body: string | Buffer;
};

/** An instant as a raw read returns it: a Date (Prisma), SQLite's text, or a number. */
export const instantOf = (v: Date | string | number): Instant => (v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : Number(v));

/**
 * Stored events with their raw bytes (no parsed copy) `where` selects, then `rest` (order, limit).
 * Through Prisma the bytes travel as hex text: the driver adapters hand a Bytes column back as an
 * array of numbers, one per byte, which cost more than reading, parsing and folding the event.
 */
export const readEvents = async (sql: Sql, where: Prisma.Sql, rest: Prisma.Sql = Prisma.empty): Promise<StoredEvent[]> => {
  const body = sql.nativeBytes ? Prisma.sql`"rawBody"` : sql.kind === "sqlite" ? Prisma.sql`hex("rawBody")` : Prisma.sql`encode("rawBody", 'hex')`;
  const rows = await sql.query<RawEventRow>(
    Prisma.sql`SELECT "seq", "provider", "providerEventId", "type", "occurredAt", "receivedAt", "origin", ${body} AS "body" FROM "Event" WHERE ${where} ${rest}`,
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    provider: r.provider as Source,
    providerEventId: r.providerEventId,
    type: r.type,
    occurredAt: instantOf(r.occurredAt),
    receivedAt: instantOf(r.receivedAt),
    origin: r.origin,
    rawBody: typeof r.body === "string" ? Buffer.from(r.body, "hex") : r.body,
    payload: null,
  }));
};

/** The stored events with these seqs, in seq order (see readEvents). */
export const readEventsBySeq = async (sql: Sql, seqs: readonly number[]): Promise<StoredEvent[]> => {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: StoredEvent[] = [];
  // In chunks: a statement may name a bounded number of parameters (999 on SQLite here).
  for (let i = 0; i < sorted.length; i += 500) {
    out.push(...(await readEvents(sql, Prisma.sql`"seq" IN (${Prisma.join(sorted.slice(i, i + 500))})`, Prisma.sql`ORDER BY "seq"`)));
  }
  return out;
};

/** An instant as a bind parameter compared with a DateTime column, in the form each database keeps it. */
const instantParam = (kind: Database["kind"], t: Instant): Prisma.Sql => {
  const iso = new Date(t).toISOString();
  return kind === "sqlite" ? Prisma.sql`${iso.replace("Z", "+00:00")}` : Prisma.sql`CAST(${iso} AS TIMESTAMP(3))`;
};

export type TimeOrderPage = {
  /** Position after which to read: the last event of the previous page (null: from the start). */
  readonly after: { readonly occurredAt: Instant; readonly seq: number } | null;
  readonly take: number;
  /** Only events with seq up to this (a consistent cut of the log). */
  readonly upToSeq?: number;
  readonly provider?: Source | null;
  /** Only events that occurred at or after this instant. */
  readonly since?: Instant | null;
};

/** The next page of stored events in (occurredAt, seq) order, read through the occurredAt index (see readEvents). */
export const readEventsInTimeOrder = (sql: Sql, page: TimeOrderPage): Promise<StoredEvent[]> => {
  const { kind } = sql;
  const conditions: Prisma.Sql[] = [];
  if (page.upToSeq !== undefined) conditions.push(Prisma.sql`"seq" <= ${page.upToSeq}`);
  if (page.provider != null) conditions.push(Prisma.sql`"provider" = ${page.provider}`);
  if (page.since != null) conditions.push(Prisma.sql`"occurredAt" >= ${instantParam(kind, page.since)}`);
  if (page.after !== null) {
    const at = instantParam(kind, page.after.occurredAt);
    conditions.push(Prisma.sql`("occurredAt" > ${at} OR ("occurredAt" = ${at} AND "seq" > ${page.after.seq}))`);
  }
  const where = conditions.length === 0 ? Prisma.sql`1 = 1` : Prisma.join(conditions, " AND ");
  return readEvents(sql, where, Prisma.sql`ORDER BY "occurredAt", "seq" LIMIT ${page.take}`);
};

export const toStoredEvent = (row: EventRow): StoredEvent => ({
  seq: row.seq,
  provider: row.provider as Source,
  providerEventId: row.providerEventId,
  type: row.type,
  occurredAt: row.occurredAt.getTime(),
  receivedAt: row.receivedAt.getTime(),
  origin: row.origin,
  rawBody: row.rawBody,
  payload: row.payload,
  rawOnlyReason: row.rawOnlyReason ?? null,
});
