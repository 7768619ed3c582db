// Projects stored events into users, subscriptions, orders, entitlements and the transition log.
// A new event re-derives the whole user it touches (the connected component of its identity keys)
// from that user's events in canonical order, so a late or out-of-order event can never corrupt
// state. Projections, the event→keys index and the checkpoint are written in one transaction.
import type { Catalog } from "../domain/catalog.js";
import { grantsFor } from "../domain/entitlements.js";
import type { NormalizedEvent } from "../domain/event.js";
import { parseKey } from "../domain/identity.js";
import { replayEvents } from "../domain/resolver.js";
import { ordersOf, subscriptionsOf, type State, type Transition } from "../domain/state.js";
import { normalize } from "../providers/registry.js";
import type { Database, Prisma } from "./database.js";
import { toStoredEvent, type StoredEvent } from "./events.js";

type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];

export const normalizeStored = (event: StoredEvent, catalog: Catalog): NormalizedEvent =>
  normalize(
    event.provider,
    {
      providerEventId: event.providerEventId,
      type: event.type,
      occurredAt: event.occurredAt,
      // The raw bytes are the record; parsing them here is what offline replay does too.
      payload: JSON.parse(Buffer.from(event.rawBody).toString("utf8")),
    },
    { userIdKeys: catalog.userIdKeys },
  );

const keysOf = (event: NormalizedEvent): string[] => [...new Set(event.facts.flatMap((f) => f.keys))];

/** Absorbed users' transitions belong to the user that absorbed them. */
const finalOwner = (transitions: readonly Transition[], state: State) => {
  const absorbedBy = new Map<string, string>();
  for (const t of transitions) if (t.entity === "user" && t.field === "merged" && t.from !== null) absorbedBy.set(t.from, t.entityId);
  return (userId: string): string => {
    let id = userId;
    while (!state.users[id] && absorbedBy.has(id)) id = absorbedBy.get(id)!;
    return id;
  };
};

const ms = (t: number | null): Date | null => (t === null ? null : new Date(t));

const writeState = async (tx: Tx, state: State, transitions: readonly Transition[], catalog: Catalog): Promise<void> => {
  const users = Object.values(state.users);
  if (users.length === 0) return;
  await tx.user.createMany({
    data: users.map((u) => ({ id: u.id, appUserId: u.appUserId, email: u.email, status: u.status, createdAt: new Date(u.createdAt) })),
  });
  await tx.userIdentity.createMany({
    data: users.flatMap((u) => u.keys.map((key) => ({ key, userId: u.id, ...parseKey(key) }))),
  });
  const subs = Object.values(state.subscriptions);
  if (subs.length > 0) {
    await tx.subscription.createMany({
      data: subs.map((s) => ({
        id: s.id,
        provider: s.provider,
        providerId: s.providerId,
        userId: s.userId,
        plan: s.plan,
        priceIds: s.priceIds.join(","),
        status: s.status,
        providerStatus: s.providerStatus,
        currentPeriodStart: ms(s.currentPeriodStart),
        currentPeriodEnd: ms(s.currentPeriodEnd),
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        canceledAt: ms(s.canceledAt),
        startedAt: ms(s.startedAt),
        endedAt: ms(s.endedAt),
        trialStart: ms(s.trialStart),
        trialEnd: ms(s.trialEnd),
        pastDueSince: ms(s.pastDueSince),
        updatedAt: new Date(s.updatedAt),
      })),
    });
  }
  const orders = Object.values(state.orders);
  if (orders.length > 0) {
    await tx.order.createMany({
      data: orders.map((o) => ({
        id: o.id,
        provider: o.provider,
        providerId: o.providerId,
        userId: o.userId,
        kind: o.kind,
        plan: o.plan,
        priceIds: o.priceIds.join(","),
        subscriptionId: o.subscriptionId,
        amount: o.amount,
        amountRefunded: o.amountRefunded,
        currency: o.currency,
        status: o.status,
        paidAt: new Date(o.paidAt),
      })),
    });
  }
  const grants = users.flatMap((u) => grantsFor(u.id, subscriptionsOf(state, u.id), ordersOf(state, u.id), catalog));
  if (grants.length > 0) {
    await tx.entitlement.createMany({
      data: grants.map((g) => ({
        id: g.id,
        userId: g.userId,
        feature: g.feature,
        source: g.source,
        sourceKind: g.sourceKind,
        sourceId: g.sourceId,
        limit: g.spec._tag === "Metered" ? g.spec.limit : null,
        per: g.spec._tag === "Metered" ? g.spec.per : null,
        overage: g.spec._tag === "Metered" ? g.spec.overage : null,
        credits: g.spec._tag === "Credits" ? g.spec.credits : null,
        validUntil: ms(g.validUntil),
        periodEnd: ms(g.periodEnd),
      })),
    });
  }
  const owner = finalOwner(transitions, state);
  const ordinals = new Map<string, number>();
  const rows = transitions.map((t) => {
    const userId = owner(t.userId);
    const ordinal = ordinals.get(userId) ?? 0;
    ordinals.set(userId, ordinal + 1);
    return { id: `${userId}:${ordinal}`, userId, ordinal, entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause, at: new Date(t.at) };
  });
  if (rows.length > 0) await tx.transition.createMany({ data: rows });
};

const deleteUsers = async (tx: Tx, userIds: readonly string[]): Promise<void> => {
  if (userIds.length === 0) return;
  const where = { userId: { in: [...userIds] } };
  await tx.transition.deleteMany({ where });
  await tx.entitlement.deleteMany({ where });
  await tx.order.deleteMany({ where });
  await tx.subscription.deleteMany({ where });
  await tx.userIdentity.deleteMany({ where });
  await tx.user.deleteMany({ where: { id: { in: [...userIds] } } });
};

// All writers of projections on one PostgreSQL take this transaction-scoped lock in turn.
const PROJECTION_LOCK = 4_242_002;

export type ProjectionResult = { readonly seqs: readonly number[]; readonly users: readonly string[] };

/** Re-derives the user(s) that event `seq` touches, in one transaction with the checkpoint. */
export const projectEvent = async (db: Database, catalog: Catalog, seq: number): Promise<ProjectionResult> =>
  db.prisma.$transaction(
    async (tx) => {
      if (db.kind === "postgresql") await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${PROJECTION_LOCK})`);
      const row = await tx.event.findUnique({ where: { seq } });
      if (!row) throw new Error(`event ${seq} does not exist`);
      const event = normalizeStored(toStoredEvent(row), catalog);
      const keys = keysOf(event);
      const owners = [...new Set((await tx.userIdentity.findMany({ where: { key: { in: keys } }, select: { userId: true } })).map((r) => r.userId))];
      const ownedKeys = (await tx.userIdentity.findMany({ where: { userId: { in: owners } }, select: { key: true } })).map((r) => r.key);
      const related = await tx.eventKey.findMany({ where: { key: { in: [...new Set([...keys, ...ownedKeys])] } }, select: { eventSeq: true } });
      const seqs = [...new Set([seq, ...related.map((r) => r.eventSeq)])].sort((a, b) => a - b);
      const rows = seqs.length === 1 ? [row] : await tx.event.findMany({ where: { seq: { in: seqs } } });
      const normalized = rows.map((r) => ({ seq: r.seq, event: r.seq === seq ? event : normalizeStored(toStoredEvent(r), catalog) }));
      const { state, transitions } = replayEvents(catalog, normalized.map((n) => n.event));

      await deleteUsers(tx, owners);
      await writeState(tx, state, transitions, catalog);
      await tx.eventKey.deleteMany({ where: { eventSeq: { in: seqs } } });
      const eventKeys = normalized.flatMap((n) => keysOf(n.event).map((key) => ({ eventSeq: n.seq, key })));
      if (eventKeys.length > 0) await tx.eventKey.createMany({ data: eventKeys });
      await tx.projectedEvent.deleteMany({ where: { seq: { in: seqs } } });
      const now = new Date();
      await tx.projectedEvent.createMany({ data: seqs.map((s) => ({ seq: s, projectedAt: now })) });
      return { seqs, users: Object.keys(state.users) };
    },
    { maxWait: 30_000, timeout: 120_000 },
  );

/** Sequence numbers of stored events whose effects the projections do not include yet. */
export const pendingSeqs = async (db: Database, limit = 500): Promise<number[]> => {
  const rows = await db.prisma.$queryRawUnsafe<{ seq: number | bigint }[]>(
    `SELECT e."seq" FROM "Event" e LEFT JOIN "ProjectedEvent" p ON p."seq" = e."seq" WHERE p."seq" IS NULL ORDER BY e."seq" LIMIT ${Number(limit)}`,
  );
  return rows.map((r) => Number(r.seq));
};

/**
 * Serializes projection within this process and catches up on anything left pending (after a
 * crash, or when another process appended). PostgreSQL serializes across processes with the lock.
 */
export class Projector {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly db: Database,
    private readonly catalog: Catalog,
  ) {}

  /** Projects one event; resolves when its effects are committed. */
  project(seq: number): Promise<ProjectionResult> {
    const run = this.queue.then(() => projectEvent(this.db, this.catalog, seq));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Projects every pending event; returns how many events it projected. */
  catchUp(): Promise<number> {
    const run = this.queue.then(async () => {
      let count = 0;
      for (let batch = await pendingSeqs(this.db); batch.length > 0; batch = await pendingSeqs(this.db)) {
        for (const seq of batch) {
          // An earlier event of the batch may have re-derived this one already.
          const done = await this.db.prisma.projectedEvent.findUnique({ where: { seq } });
          if (done) continue;
          count += (await projectEvent(this.db, this.catalog, seq)).seqs.length;
        }
      }
      return count;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
