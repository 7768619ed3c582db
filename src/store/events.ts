// The event store: append-only, idempotent on (provider, provider event id). An append returns
// only once its transaction has committed, so a caller that answers afterwards answers durably.
import type { Provider } from "../domain/provider.js";
import type { Instant } from "../domain/time.js";
import type { Database } from "./database.js";

export type NewEvent = {
  readonly provider: Provider;
  readonly providerEventId: string;
  readonly type: string;
  readonly occurredAt: Instant;
  readonly receivedAt: Instant;
  readonly origin: "webhook" | "fetched";
  readonly rawBody: Uint8Array;
  readonly payload: unknown;
};

export type StoredEvent = {
  readonly seq: number;
  readonly provider: Provider;
  readonly providerEventId: string;
  readonly type: string;
  readonly occurredAt: Instant;
  readonly receivedAt: Instant;
  readonly origin: string;
  readonly rawBody: Uint8Array;
  readonly payload: unknown;
};

export type AppendResult = { readonly seq: number; readonly duplicate: boolean };

const APPEND_LOCK = 4_242_003;

const NUL = String.fromCharCode(0);

/** The parsed copy kept for queries: every NUL character in a string replaced by U+FFFD. */
export const queryablePayload = (value: unknown): unknown => {
  if (typeof value === "string") return value.includes(NUL) ? value.split(NUL).join("\uFFFD") : value;
  if (Array.isArray(value)) return value.map(queryablePayload);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [queryablePayload(k) as string, queryablePayload(v)]));
  }
  return value;
};

const isUniqueViolation = (e: unknown): boolean => (e as { code?: string } | null)?.code === "P2002";

export const appendEvent = async (db: Database, event: NewEvent): Promise<AppendResult> => {
  const existing = await findEventSeq(db, event.provider, event.providerEventId);
  if (existing !== null) return { seq: existing, duplicate: true };
  try {
    const row = await db.prisma.$transaction(async (tx) => {
      // On PostgreSQL, appends take turns so that seq order is commit order: a reader paging by
      // seq never passes an event that commits later with a smaller seq. (SQLite has one writer.)
      if (db.kind === "postgresql") await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${APPEND_LOCK})`);
      return tx.event.create({
        data: {
          provider: event.provider,
          providerEventId: event.providerEventId,
          type: event.type,
          occurredAt: new Date(event.occurredAt),
          receivedAt: new Date(event.receivedAt),
          origin: event.origin,
          rawBody: Buffer.from(event.rawBody),
          payload: queryablePayload(event.payload) as object,
        },
        select: { seq: true },
      });
    });
    return { seq: row.seq, duplicate: false };
  } catch (e) {
    // Two deliveries of one event racing: the loser finds the winner's row.
    if (!isUniqueViolation(e)) throw e;
    const seq = await findEventSeq(db, event.provider, event.providerEventId);
    if (seq === null) throw e;
    return { seq, duplicate: true };
  }
};

const findEventSeq = async (db: Database, provider: string, providerEventId: string): Promise<number | null> =>
  (await db.prisma.event.findUnique({ where: { provider_providerEventId: { provider, providerEventId } }, select: { seq: true } }))?.seq ??
  null;

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
};

export const toStoredEvent = (row: EventRow): StoredEvent => ({
  seq: row.seq,
  provider: row.provider as Provider,
  providerEventId: row.providerEventId,
  type: row.type,
  occurredAt: row.occurredAt.getTime(),
  receivedAt: row.receivedAt.getTime(),
  origin: row.origin,
  rawBody: row.rawBody,
  payload: row.payload,
});

export type Rejection = {
  readonly provider: string;
  readonly code: string;
  readonly message: string;
  readonly bodyBytes: number;
  readonly receivedAt: Instant;
};

/** Rejections kept: enough to diagnose an endpoint, bounded so unauthenticated noise cannot fill the disk. */
export const REJECTIONS_KEPT = 10_000;

/** Records why a delivery was refused, without its payload, and forgets the oldest beyond the limit. */
export const recordRejection = async (db: Database, r: Rejection): Promise<void> => {
  const row = await db.prisma.rejectedDelivery.create({
    data: { provider: r.provider, code: r.code.slice(0, 64), message: r.message.slice(0, 500), bodyBytes: r.bodyBytes, receivedAt: new Date(r.receivedAt) },
    select: { id: true },
  });
  if (row.id > REJECTIONS_KEPT) await db.prisma.rejectedDelivery.deleteMany({ where: { id: { lte: row.id - REJECTIONS_KEPT } } });
};
