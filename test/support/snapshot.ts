// Reads back everything the projections hold, and computes the same from an offline fold of the
// event log, in one comparable shape: the replay-equivalence check.
import type { Catalog } from "../../src/domain/catalog.js";
import { grantsFor } from "../../src/domain/entitlements.js";
import { replayEvents } from "../../src/domain/resolver.js";
import { ordersOf, subscriptionsOf } from "../../src/domain/state.js";
import type { Database } from "../../src/store/database.js";
import { toStoredEvent } from "../../src/store/events.js";
import { normalizeStored } from "../../src/store/projector.js";

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export type Snapshot = {
  users: { id: string; appUserId: string | null; email: string | null; status: string; keys: string[] }[];
  subscriptions: Record<string, unknown>[];
  orders: Record<string, unknown>[];
  grants: Record<string, unknown>[];
  transitions: { userId: string; entity: string; entityId: string; field: string; from: string | null; to: string | null; cause: string; at: string }[];
};

const byId = <T extends { id: unknown }>(rows: T[]) => rows.sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0));
const d = (v: Date | null) => v?.toISOString() ?? null;

export const databaseSnapshot = async (db: Database): Promise<Snapshot> => {
  const p = db.prisma;
  const users = await p.user.findMany({ include: { identities: true } });
  const transitions = await p.transition.findMany({ orderBy: [{ userId: "asc" }, { ordinal: "asc" }] });
  return {
    users: byId(users.map((u) => ({ id: u.id, appUserId: u.appUserId, email: u.email, status: u.status, keys: u.identities.map((i) => i.key).sort() }))),
    subscriptions: byId(
      (await p.subscription.findMany()).map((s) => ({
        id: s.id,
        userId: s.userId,
        plan: s.plan,
        priceIds: s.priceIds,
        status: s.status,
        providerStatus: s.providerStatus,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        currentPeriodStart: d(s.currentPeriodStart),
        currentPeriodEnd: d(s.currentPeriodEnd),
        canceledAt: d(s.canceledAt),
        startedAt: d(s.startedAt),
        endedAt: d(s.endedAt),
        trialStart: d(s.trialStart),
        trialEnd: d(s.trialEnd),
        pastDueSince: d(s.pastDueSince),
      })),
    ),
    orders: byId(
      (await p.order.findMany()).map((o) => ({
        id: o.id,
        userId: o.userId,
        kind: o.kind,
        plan: o.plan,
        priceIds: o.priceIds,
        subscriptionId: o.subscriptionId,
        status: o.status,
        amount: o.amount,
        amountRefunded: o.amountRefunded,
        currency: o.currency,
        paidAt: d(o.paidAt),
      })),
    ),
    grants: byId(
      (await p.entitlement.findMany()).map((g) => ({
        id: g.id,
        userId: g.userId,
        feature: g.feature,
        source: g.source,
        sourceKind: g.sourceKind,
        sourceId: g.sourceId,
        limit: g.limit,
        per: g.per,
        credits: g.credits,
        validUntil: d(g.validUntil),
        periodEnd: d(g.periodEnd),
      })),
    ),
    transitions: transitions.map((t) => ({ userId: t.userId, entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause, at: t.at.toISOString() })),
  };
};

/** The offline fold of every stored event, shaped like databaseSnapshot. */
export const replaySnapshot = async (db: Database, catalog: Catalog): Promise<Snapshot> => {
  const events = (await db.prisma.event.findMany({ orderBy: { seq: "asc" } })).map((r) => normalizeStored(toStoredEvent(r), catalog));
  const { state, transitions } = replayEvents(catalog, events);
  const users = Object.values(state.users);
  const merged = new Map<string, string>();
  for (const t of transitions) if (t.entity === "user" && t.field === "merged" && t.from) merged.set(t.from, t.entityId);
  const owner = (id: string) => {
    let u = id;
    while (!state.users[u] && merged.has(u)) u = merged.get(u)!;
    return u;
  };
  return {
    users: byId(users.map((u) => ({ id: u.id, appUserId: u.appUserId, email: u.email, status: u.status, keys: [...u.keys].sort() }))),
    subscriptions: byId(
      Object.values(state.subscriptions).map((s) => ({
        id: s.id,
        userId: s.userId,
        plan: s.plan,
        priceIds: s.priceIds.join(","),
        status: s.status,
        providerStatus: s.providerStatus,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        currentPeriodStart: iso(s.currentPeriodStart),
        currentPeriodEnd: iso(s.currentPeriodEnd),
        canceledAt: iso(s.canceledAt),
        startedAt: iso(s.startedAt),
        endedAt: iso(s.endedAt),
        trialStart: iso(s.trialStart),
        trialEnd: iso(s.trialEnd),
        pastDueSince: iso(s.pastDueSince),
      })),
    ),
    orders: byId(
      Object.values(state.orders).map((o) => ({
        id: o.id,
        userId: o.userId,
        kind: o.kind,
        plan: o.plan,
        priceIds: o.priceIds.join(","),
        subscriptionId: o.subscriptionId,
        status: o.status,
        amount: o.amount,
        amountRefunded: o.amountRefunded,
        currency: o.currency,
        paidAt: iso(o.paidAt),
      })),
    ),
    grants: byId(
      users
        .flatMap((u) => grantsFor(u.id, subscriptionsOf(state, u.id), ordersOf(state, u.id), catalog))
        .map((g) => ({
          id: g.id,
          userId: g.userId,
          feature: g.feature,
          source: g.source,
          sourceKind: g.sourceKind,
          sourceId: g.sourceId,
          limit: g.spec._tag === "Metered" ? g.spec.limit : null,
          per: g.spec._tag === "Metered" ? g.spec.per : null,
          credits: g.spec._tag === "Credits" ? g.spec.credits : null,
          validUntil: iso(g.validUntil),
          periodEnd: iso(g.periodEnd),
        })),
    ),
    transitions: transitions
      .map((t) => ({ userId: owner(t.userId), entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause, at: iso(t.at)! }))
      // The database keeps each user's log in fold order; group by user the same way.
      .map((t, i) => ({ t, i }))
      .sort((a, b) => (a.t.userId < b.t.userId ? -1 : a.t.userId > b.t.userId ? 1 : a.i - b.i))
      .map(({ t }) => t),
  };
};
