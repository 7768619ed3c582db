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
  subscriptions: { id: string; userId: string; plan: string | null; status: string; cancelAtPeriodEnd: boolean; currentPeriodEnd: string | null }[];
  orders: { id: string; userId: string; plan: string | null; status: string; amount: number; amountRefunded: number }[];
  grants: { id: string; userId: string; source: string; validUntil: string | null }[];
  transitions: { userId: string; entity: string; entityId: string; field: string; from: string | null; to: string | null; cause: string }[];
};

const byId = <T extends { id: string }>(rows: T[]) => rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

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
        status: s.status,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        currentPeriodEnd: s.currentPeriodEnd?.toISOString() ?? null,
      })),
    ),
    orders: byId((await p.order.findMany()).map((o) => ({ id: o.id, userId: o.userId, plan: o.plan, status: o.status, amount: o.amount, amountRefunded: o.amountRefunded }))),
    grants: byId((await p.entitlement.findMany()).map((g) => ({ id: g.id, userId: g.userId, source: g.source, validUntil: g.validUntil?.toISOString() ?? null }))),
    transitions: transitions.map((t) => ({ userId: t.userId, entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause })),
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
        status: s.status,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        currentPeriodEnd: iso(s.currentPeriodEnd),
      })),
    ),
    orders: byId(Object.values(state.orders).map((o) => ({ id: o.id, userId: o.userId, plan: o.plan, status: o.status, amount: o.amount, amountRefunded: o.amountRefunded }))),
    grants: byId(
      users.flatMap((u) => grantsFor(u.id, subscriptionsOf(state, u.id), ordersOf(state, u.id), catalog)).map((g) => ({ id: g.id, userId: g.userId, source: g.source, validUntil: iso(g.validUntil) })),
    ),
    transitions: transitions
      .map((t) => ({ userId: owner(t.userId), entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause }))
      // The database keeps each user's log in fold order; group by user the same way.
      .map((t, i) => ({ t, i }))
      .sort((a, b) => (a.t.userId < b.t.userId ? -1 : a.t.userId > b.t.userId ? 1 : a.i - b.i))
      .map(({ t }) => t),
  };
};
