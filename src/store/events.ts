// The event store: append-only, idempotent on (provider, provider event id). An append returns
// only once its transaction has committed, so a caller that answers afterwards answers durably.
// Whatever a verified body holds is stored: its raw bytes always, a parsed copy when one can be
// kept (see parsed-copy.ts), ids and types in a form both databases can hold.
import type { Provider } from "../domain/provider.js";
import type { Instant } from "../domain/time.js";
import type { Database } from "./database.js";
import { Prisma } from "./generated/postgresql/client.js";
import { parsedCopy, storedEventId, storedEventType } from "./parsed-copy.js";

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
  /** The parsed copy, or null when the event is kept raw only (`rawOnlyReason` says why). */
  readonly payload: unknown;
  readonly rawOnlyReason?: string | null;
};

export type AppendResult = { readonly seq: number; readonly duplicate: boolean };

const APPEND_LOCK = 4_242_003;

const isUniqueViolation = (e: unknown): boolean => (e as { code?: string } | null)?.code === "P2002";

export const appendEvent = async (db: Database, event: NewEvent): Promise<AppendResult> => {
  const providerEventId = storedEventId(event.providerEventId);
  const existing = await findEventSeq(db, event.provider, event.providerEventId);
  if (existing !== null) return { seq: existing, duplicate: true };
  const copy = parsedCopy(event.payload);
  try {
    const row = await db.prisma.$transaction(async (tx) => {
      // On PostgreSQL, appends take turns so that seq order is commit order: a reader paging by
      // seq never passes an event that commits later with a smaller seq. (SQLite has one writer.)
      if (db.kind === "postgresql") await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${APPEND_LOCK})`);
      return tx.event.create({
        data: {
          provider: event.provider,
          providerEventId,
          type: storedEventType(event.type),
          occurredAt: new Date(event.occurredAt),
          receivedAt: new Date(event.receivedAt),
          origin: event.origin,
          rawBody: Buffer.from(event.rawBody),
          // JSON null (not SQL NULL) when raw only: the column stays NOT NULL for older readers.
          payload: (copy._tag === "Copy" ? copy.copy : Prisma.JsonNull) as object,
          rawOnlyReason: copy._tag === "RawOnly" ? copy.reason : null,
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

/** The seq of the stored event with this provider's event id (as the provider sent it), if any. */
export const findEventSeq = async (db: Database, provider: string, providerEventId: string): Promise<number | null> =>
  (
    await db.prisma.event.findUnique({
      where: { provider_providerEventId: { provider, providerEventId: storedEventId(providerEventId) } },
      select: { seq: true },
    })
  )?.seq ?? null;

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
  rawOnlyReason: row.rawOnlyReason ?? null,
});
