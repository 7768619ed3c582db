// Concurrency leases, decided and stored atomically: an acquisition counts the leases that hold a
// slot now and appends its event and its Lease row in the same transaction (under the append lock on
// PostgreSQL, like usage), so two callers never take the last slot twice. A release appends its
// event, marks the lease released and, when the work's usage comes with it, records that usage in
// the same transaction.
import { emptyCatalog, type Catalog } from "../domain/catalog.js";
import { holdsSlot, leaseFits, leaseIdFor, leasesOf, type Lease, type LeaseAcquired, type LeaseReleased } from "../domain/leases.js";
import { APP_SOURCE } from "../domain/source.js";
import type { Database } from "./database.js";
import { instantOf, readEvents } from "./events.js";
import { appendToFeed, lockFeed } from "./feed.js";
import { Prisma } from "./generated/postgresql/client.js";
import { insertRows, sqlValue } from "./insert-rows.js";
import { acquiredOf, encodeAcquired, encodeReleased, LEASE_ACQUIRED_TYPE, LEASE_RELEASED_TYPE, leaseEventId, releasedOf, releaseEventId } from "./lease-body.js";
import type { Sql } from "./sql.js";
import { appendAppEvents, inAppendTransaction, recordUsageIn, type PendingUsage, type UsageCommit } from "./usage.js";

type LeaseRow = { id: string; subject: string; userId: string; feature: string; acquiredAt: Date | string; expiresAt: Date | string; releasedAt: Date | string | null };

const leaseOf = (r: LeaseRow): Lease => ({
  id: r.id,
  subject: r.subject,
  userId: r.userId,
  feature: r.feature,
  acquiredAt: instantOf(r.acquiredAt),
  expiresAt: instantOf(r.expiresAt),
  releasedAt: r.releasedAt === null ? null : instantOf(r.releasedAt),
});

const COLUMNS = Prisma.raw(`"id", "subject", "userId", "feature", "acquiredAt", "expiresAt", "releasedAt"`);

/** The leases of a subject that may still hold a slot at `t` or later (not released, not expired). */
export const openLeases = async (sql: Sql, subject: string, t: number): Promise<Lease[]> =>
  (await sql.query<LeaseRow>(Prisma.sql`SELECT ${COLUMNS} FROM "Lease" WHERE "subject" = ${subject} AND "releasedAt" IS NULL AND "expiresAt" > ${sqlValue(sql.kind, new Date(t))} ORDER BY "acquiredAt", "id"`)).map(leaseOf);

export const findLease = async (sql: Sql, id: string): Promise<Lease | null> => {
  const rows = await sql.query<LeaseRow>(Prisma.sql`SELECT ${COLUMNS} FROM "Lease" WHERE "id" = ${id}`);
  return rows[0] === undefined ? null : leaseOf(rows[0]);
};

export const allLeases = async (sql: Sql): Promise<Lease[]> => (await sql.query<LeaseRow>(Prisma.sql`SELECT ${COLUMNS} FROM "Lease" ORDER BY "id"`)).map(leaseOf);

const writeLeases = (sql: Sql, leases: readonly Lease[]): Promise<void> =>
  insertRows(
    sql,
    "Lease",
    ["id", "subject", "userId", "feature", "acquiredAt", "expiresAt", "releasedAt"],
    leases.map((l) => ({ ...l, acquiredAt: new Date(l.acquiredAt), expiresAt: new Date(l.expiresAt), releasedAt: l.releasedAt === null ? null : new Date(l.releasedAt) })),
  );

/** An acquisition to decide: everything but the count of leases held after it. */
export type PendingLease = Omit<LeaseAcquired, "leaseId" | "activeAfter"> & { readonly receivedAt: number };

export type LeaseOutcome =
  | { readonly _tag: "Acquired"; readonly lease: LeaseAcquired; readonly seq: number }
  | { readonly _tag: "Duplicate"; readonly lease: LeaseAcquired }
  | { readonly _tag: "ConcurrencyExceeded"; readonly active: number; readonly nextFreeAt: number | null };

const leaseTransition = (l: Lease, from: string | null, to: string, at: number, cause: string, keyId: string, requestId: string) => ({
  userId: l.userId,
  entity: "lease",
  entityId: l.id,
  field: "status",
  from,
  to,
  cause,
  at: new Date(at),
  keyId,
  requestId,
});

/** Takes a slot when one is free at the acquisition's instant; a repeated key finds its lease. */
export const acquireLease = (db: Database, p: PendingLease, projectedAt: number): Promise<LeaseOutcome> =>
  inAppendTransaction(db, async (sql) => {
    const eventId = leaseEventId(p.subject, p.idempotencyKey);
    const [earlier] = await readEvents(sql, Prisma.sql`"provider" = ${APP_SOURCE} AND "providerEventId" = ${eventId}`);
    if (earlier !== undefined) return { _tag: "Duplicate", lease: acquiredOf(earlier.rawBody) };
    const held = (await openLeases(sql, p.subject, p.at)).filter((l) => l.feature === p.feature && holdsSlot(l, p.at));
    if (!leaseFits(p.limit, held.length)) {
      return { _tag: "ConcurrencyExceeded", active: held.length, nextFreeAt: held.reduce<number | null>((m, l) => (m === null ? l.expiresAt : Math.min(m, l.expiresAt)), null) };
    }
    const { receivedAt, ...rest } = p;
    const lease: LeaseAcquired = { ...rest, leaseId: leaseIdFor(p.subject, p.idempotencyKey), activeAfter: held.length + 1 };
    const [seq] = await appendAppEvents(sql, [{ id: eventId, type: LEASE_ACQUIRED_TYPE, at: p.at, receivedAt, body: encodeAcquired(lease) }], projectedAt);
    const row: Lease = { id: lease.leaseId, subject: p.subject, userId: p.userId, feature: p.feature, acquiredAt: p.at, expiresAt: p.expiresAt, releasedAt: null };
    await writeLeases(sql, [row]);
    await lockFeed(sql);
    await appendToFeed(sql, [leaseTransition(row, null, "active", p.at, `${APP_SOURCE}:${eventId}`, p.keyId, p.requestId)]);
    return { _tag: "Acquired", lease, seq: seq! };
  });

export type ReleaseOutcome =
  | { readonly _tag: "LeaseNotFound" }
  | { readonly _tag: "Released"; readonly lease: Lease; readonly release: LeaseReleased; readonly seq: number | null; readonly usage: UsageCommit | null; readonly again: boolean };

/**
 * Releases a lease (once: a second release answers with the first), and records `usage` (the
 * work's units) in the same transaction. A lease past its expiry is released all the same: its
 * slot was free already, and the usage of the work still counts.
 */
export const releaseLease = (
  db: Database,
  r: Omit<LeaseReleased, "subject" | "userId"> & { readonly receivedAt: number },
  usage: (lease: Lease) => PendingUsage | null,
  projectedAt: number,
  catalog: Catalog = emptyCatalog,
): Promise<ReleaseOutcome> =>
  inAppendTransaction(db, async (sql) => {
    const lease = await findLease(sql, r.leaseId);
    if (lease === null) return { _tag: "LeaseNotFound" };
    const eventId = releaseEventId(r.leaseId);
    const [earlier] = await readEvents(sql, Prisma.sql`"provider" = ${APP_SOURCE} AND "providerEventId" = ${eventId}`);
    if (earlier !== undefined) return { _tag: "Released", lease, release: releasedOf(earlier.rawBody), seq: null, usage: null, again: true };
    const release: LeaseReleased = { leaseId: r.leaseId, subject: lease.subject, userId: lease.userId, at: r.at, keyId: r.keyId, requestId: r.requestId };
    const [seq] = await appendAppEvents(sql, [{ id: eventId, type: LEASE_RELEASED_TYPE, at: r.at, receivedAt: r.receivedAt, body: encodeReleased(release) }], projectedAt);
    await sql.run(Prisma.sql`UPDATE "Lease" SET "releasedAt" = ${sqlValue(sql.kind, new Date(r.at))} WHERE "id" = ${r.leaseId}`);
    const released: Lease = { ...lease, releasedAt: r.at };
    await lockFeed(sql);
    await appendToFeed(sql, [leaseTransition(released, "active", "released", r.at, `${APP_SOURCE}:${eventId}`, r.keyId, r.requestId)]);
    const pending = usage(lease);
    return { _tag: "Released", lease: released, release, seq: seq!, usage: pending === null ? null : await recordUsageIn(sql, [pending], projectedAt, catalog), again: false };
  });

/** Every lease event of the store, folded: what the Lease rows must be (verify, rebuild). */
export const leasesFromEvents = async (sql: Sql): Promise<Map<string, Lease>> => {
  const acquired: LeaseAcquired[] = [];
  const released: LeaseReleased[] = [];
  for (let after = 0; ; ) {
    const events = await readEvents(sql, Prisma.sql`"provider" = ${APP_SOURCE} AND "type" IN (${LEASE_ACQUIRED_TYPE}, ${LEASE_RELEASED_TYPE}) AND "seq" > ${after}`, Prisma.sql`ORDER BY "seq" LIMIT 2000`);
    for (const e of events) (e.type === LEASE_ACQUIRED_TYPE ? acquired.push(acquiredOf(e.rawBody)) : released.push(releasedOf(e.rawBody)));
    if (events.length < 2000) break;
    after = events.at(-1)!.seq;
  }
  return leasesOf(acquired, released);
};

/** Rebuilds the Lease rows from the lease events (a projection rebuild). */
export const rebuildLeases = async (sql: Sql): Promise<void> => {
  const leases = [...(await leasesFromEvents(sql)).values()];
  await sql.run(Prisma.sql`DELETE FROM "Lease"`);
  await writeLeases(sql, leases);
};
