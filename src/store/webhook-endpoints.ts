// Webhooks out in the store: the app's endpoints, the deliveries owed to each (made from the
// transition feed, in feed order, once: the endpoint's cursor moves in the same transaction), and
// every attempt. A delivery is claimed before it is sent, so two processes do not send it at once.
import { randomBytes } from "node:crypto";
import { messageBody, messageId, messageType, matchesEndpoint, parseEndpointFilter, type OutTransition } from "../domain/webhooks-out.js";
import type { Database } from "./database.js";
import { lastFeedSeq, readFeed } from "./feed.js";

export type EndpointRow = Awaited<ReturnType<Database["prisma"]["webhookEndpoint"]["findMany"]>>[number];
export type DeliveryRow = Awaited<ReturnType<Database["prisma"]["webhookDelivery"]["findMany"]>>[number];
export type AttemptRow = Awaited<ReturnType<Database["prisma"]["webhookAttempt"]["findMany"]>>[number];

/** A new signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString("base64")}`;

/**
 * A new endpoint. It receives the transitions that happen from now on (its cursor starts at the
 * feed's end), or, with `fromStart`, the whole log.
 */
export const createEndpoint = async (db: Database, input: { readonly url: string; readonly filter: string | null; readonly fromStart?: boolean }, now: Date): Promise<EndpointRow> =>
  db.prisma.webhookEndpoint.create({
    data: { id: `we_${randomBytes(8).toString("hex")}`, url: input.url, filter: input.filter, secret: newWebhookSecret(), cursor: input.fromStart === true ? 0 : await lastFeedSeq(db), createdAt: now },
  });

export const listEndpoints = (db: Database): Promise<EndpointRow[]> => db.prisma.webhookEndpoint.findMany({ orderBy: { createdAt: "asc" } });

/** Deletes an endpoint and what it was owed; false when there is none by that id. */
export const deleteEndpoint = async (db: Database, id: string): Promise<boolean> => {
  const deleted = await db.prisma.webhookEndpoint.deleteMany({ where: { id } });
  if (deleted.count === 0) return false;
  const deliveries = await db.prisma.webhookDelivery.findMany({ where: { endpointId: id }, select: { id: true } });
  await db.prisma.webhookAttempt.deleteMany({ where: { deliveryId: { in: deliveries.map((d) => d.id) } } });
  await db.prisma.webhookDelivery.deleteMany({ where: { endpointId: id } });
  return true;
};

/** A new secret for an endpoint; the old one still signs (beside it) for `overlapMs`. Null when there is no such endpoint. */
export const rollEndpointSecret = async (db: Database, id: string, now: Date, overlapMs: number): Promise<EndpointRow | null> => {
  const endpoint = await db.prisma.webhookEndpoint.findUnique({ where: { id } });
  if (endpoint === null) return null;
  return db.prisma.webhookEndpoint.update({ where: { id }, data: { secret: newWebhookSecret(), previousSecret: endpoint.secret, previousUntil: new Date(now.getTime() + overlapMs) } });
};

/** The app's user ids of Verity's users, where known. */
const appUserIds = async (db: Database, userIds: readonly string[]): Promise<Map<string, string>> =>
  new Map((await db.prisma.user.findMany({ where: { id: { in: [...new Set(userIds)] } }, select: { id: true, appUserId: true } })).map((u) => [u.id, u.appUserId ?? u.id]));

/**
 * Turns the feed after the endpoint's cursor into its deliveries (at most `limit` transitions), and
 * moves the cursor, in one transaction that only commits if no other process moved it meanwhile.
 * Returns the endpoint's cursor after it (unchanged when the feed held nothing new).
 */
export const enqueueDeliveries = async (db: Database, endpoint: Pick<EndpointRow, "id" | "cursor" | "filter">, limit: number, now: Date): Promise<number> => {
  const rows = await readFeed(db, endpoint.cursor, limit);
  if (rows.length === 0) return endpoint.cursor;
  const parsed = parseEndpointFilter(endpoint.filter);
  const filter = "filter" in parsed ? parsed.filter : null;
  const users = await appUserIds(db, rows.map((r) => r.userId));
  const deliveries = rows.flatMap((r) => {
    const t: OutTransition = { seq: r.seq, userId: users.get(r.userId) ?? r.userId, entity: r.entity, entityId: r.entityId, field: r.field, from: r.from, to: r.to, cause: r.cause, at: r.at.getTime() };
    if (filter === null || !matchesEndpoint(filter, t)) return [];
    return [{ id: messageId(endpoint.id, r.seq), endpointId: endpoint.id, seq: r.seq, userId: t.userId, type: messageType(t), payload: messageBody(t), status: "pending", attempts: 0, nextAttemptAt: now, createdAt: now }];
  });
  const last = rows.at(-1)!.seq;
  await db.prisma.$transaction(async (tx) => {
    const moved = await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, cursor: endpoint.cursor }, data: { cursor: last } });
    if (moved.count !== 1) throw new CursorMoved();
    if (deliveries.length > 0) await tx.webhookDelivery.createMany({ data: deliveries });
  });
  return last;
};

/** Another process turned the same transitions into deliveries first. */
export class CursorMoved extends Error {}

/**
 * The deliveries due now that may go out: for each endpoint and user, only the oldest one not yet
 * delivered or given up (so a user's messages arrive in order), and only once its time has come.
 */
export const dueDeliveries = async (db: Database, now: Date, limit: number): Promise<DeliveryRow[]> => {
  const pending = await db.prisma.webhookDelivery.findMany({ where: { status: "pending" }, orderBy: [{ endpointId: "asc" }, { seq: "asc" }], take: 5000 });
  const seen = new Set<string>();
  const due: DeliveryRow[] = [];
  for (const d of pending) {
    const lane = `${d.endpointId}\u0000${d.userId}`;
    if (seen.has(lane)) continue;
    seen.add(lane);
    if (d.nextAttemptAt <= now) due.push(d);
    if (due.length >= limit) break;
  }
  return due;
};

/** Claims a delivery for one send (its next attempt is put `leaseMs` ahead); false when another process claimed it first. */
export const claimDelivery = async (db: Database, d: DeliveryRow, now: Date, leaseMs: number): Promise<boolean> =>
  (await db.prisma.webhookDelivery.updateMany({ where: { id: d.id, status: "pending", attempts: d.attempts, nextAttemptAt: d.nextAttemptAt }, data: { nextAttemptAt: new Date(now.getTime() + leaseMs) } })).count === 1;

/** Records an attempt and what follows: delivered, tried again at `retryAt`, or given up (null). */
export const recordAttempt = async (
  db: Database,
  d: DeliveryRow,
  attempt: { readonly at: Date; readonly status: number; readonly error: string | null; readonly durationMs: number; readonly delivered: boolean; readonly retryAt: Date | null },
): Promise<void> => {
  await db.prisma.$transaction(async (tx) => {
    await tx.webhookAttempt.create({ data: { id: `${d.id}_${d.attempts + 1}`, deliveryId: d.id, at: attempt.at, status: attempt.status, error: attempt.error, durationMs: attempt.durationMs } });
    await tx.webhookDelivery.update({
      where: { id: d.id },
      data: attempt.delivered
        ? { status: "delivered", attempts: d.attempts + 1, deliveredAt: attempt.at }
        : attempt.retryAt === null
          ? { status: "failed", attempts: d.attempts + 1 }
          : { attempts: d.attempts + 1, nextAttemptAt: attempt.retryAt },
    });
  });
};

export type DeliveryFilter = { readonly endpointId?: string | null; readonly status?: string | null; readonly userId?: string | null };

/** Deliveries, newest first, with their attempts: what an operator looks at. */
export const listDeliveries = async (db: Database, filter: DeliveryFilter, limit: number): Promise<(DeliveryRow & { readonly attemptRows: AttemptRow[] })[]> => {
  const deliveries = await db.prisma.webhookDelivery.findMany({
    where: { ...(filter.endpointId ? { endpointId: filter.endpointId } : {}), ...(filter.status ? { status: filter.status } : {}), ...(filter.userId ? { userId: filter.userId } : {}) },
    orderBy: [{ seq: "desc" }],
    take: limit,
  });
  const attempts = await db.prisma.webhookAttempt.findMany({ where: { deliveryId: { in: deliveries.map((d) => d.id) } }, orderBy: { at: "asc" } });
  return deliveries.map((d) => ({ ...d, attemptRows: attempts.filter((a) => a.deliveryId === d.id) }));
};
