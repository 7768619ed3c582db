// Everything the projections hold, in one comparable shape: read back from the database, or
// computed from an offline fold of the event log. Equal snapshots are the replay-equivalence
// property; `verity verify` compares them field by field, `verity reprocess` before and after.
import type { Catalog } from "../domain/catalog.js";
import { grantsFor } from "../domain/entitlements.js";
import { parseKey } from "../domain/identity.js";
import { ordersOf, subscriptionsOf, type State, type Transition } from "../domain/state.js";
import type { Prisma } from "../store/database.js";

/** A user, with the keys it is known by (sorted; each also listed under identities with its columns). */
export type SnapshotUser = { id: string; appUserId: string | null; email: string | null; status: string; createdAt: string; keys: string[] };
export type SnapshotIdentity = { key: string; userId: string; kind: string; provider: string | null; value: string };
export type SnapshotSubscription = {
  id: string;
  provider: string;
  providerId: string;
  userId: string;
  plan: string | null;
  priceIds: string;
  status: string;
  providerStatus: string;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  canceledAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  trialStart: string | null;
  trialEnd: string | null;
  pastDueSince: string | null;
  updatedAt: string;
};
export type SnapshotOrder = {
  id: string;
  provider: string;
  providerId: string;
  userId: string;
  kind: string;
  plan: string | null;
  priceIds: string;
  subscriptionId: string | null;
  status: string;
  amount: number;
  amountRefunded: number;
  currency: string;
  paidAt: string;
};
export type SnapshotGrant = {
  id: string;
  userId: string;
  feature: string;
  source: string;
  sourceKind: string;
  sourceId: string;
  limit: number | null;
  per: string | null;
  overage: string | null;
  credits: number | null;
  validUntil: string | null;
  periodEnd: string | null;
};
/** A transition as the log stores it: per final owner, numbered in fold order. */
export type SnapshotTransition = {
  userId: string;
  ordinal: number;
  entity: string;
  entityId: string;
  field: string;
  from: string | null;
  to: string | null;
  cause: string;
  at: string;
};

export type Snapshot = {
  users: SnapshotUser[];
  identities: SnapshotIdentity[];
  subscriptions: SnapshotSubscription[];
  orders: SnapshotOrder[];
  grants: SnapshotGrant[];
  transitions: SnapshotTransition[];
};

/** The part of a Prisma client (or transaction) a snapshot reads. */
export type ProjectionReader = Pick<Prisma, "user" | "userIdentity" | "subscription" | "order" | "entitlement" | "transition">;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortBy = <T>(rows: T[], key: (row: T) => string): T[] => rows.sort((a, b) => compareText(key(a), key(b)));
const byTransitionOrder = (a: SnapshotTransition, b: SnapshotTransition): number => compareText(a.userId, b.userId) || a.ordinal - b.ordinal;

const d = (v: Date | null): string | null => v?.toISOString() ?? null;
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** Reads every projection back (through `reader`, e.g. a transaction), sorted by id. */
export const databaseSnapshot = async (reader: ProjectionReader | { readonly prisma: ProjectionReader }): Promise<Snapshot> => {
  const p = "prisma" in reader ? reader.prisma : reader;
  const identities = sortBy(
    (await p.userIdentity.findMany()).map((i) => ({ key: i.key, userId: i.userId, kind: i.kind, provider: i.provider, value: i.value })),
    (i) => i.key,
  );
  const keysOf = new Map<string, string[]>();
  for (const i of identities) keysOf.set(i.userId, [...(keysOf.get(i.userId) ?? []), i.key]);
  return {
    users: sortBy(
      (await p.user.findMany()).map((u) => ({
        id: u.id,
        appUserId: u.appUserId,
        email: u.email,
        status: u.status,
        createdAt: u.createdAt.toISOString(),
        keys: keysOf.get(u.id) ?? [],
      })),
      (u) => u.id,
    ),
    identities,
    subscriptions: sortBy(
      (await p.subscription.findMany()).map((s) => ({
        id: s.id,
        provider: s.provider,
        providerId: s.providerId,
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
        updatedAt: s.updatedAt.toISOString(),
      })),
      (s) => s.id,
    ),
    orders: sortBy(
      (await p.order.findMany()).map((o) => ({
        id: o.id,
        provider: o.provider,
        providerId: o.providerId,
        userId: o.userId,
        kind: o.kind,
        plan: o.plan,
        priceIds: o.priceIds,
        subscriptionId: o.subscriptionId,
        status: o.status,
        amount: o.amount,
        amountRefunded: o.amountRefunded,
        currency: o.currency,
        paidAt: o.paidAt.toISOString(),
      })),
      (o) => o.id,
    ),
    grants: sortBy(
      (await p.entitlement.findMany()).map((g) => ({
        id: g.id,
        userId: g.userId,
        feature: g.feature,
        source: g.source,
        sourceKind: g.sourceKind,
        sourceId: g.sourceId,
        limit: g.limit,
        per: g.per,
        overage: g.overage,
        credits: g.credits,
        validUntil: d(g.validUntil),
        periodEnd: d(g.periodEnd),
      })),
      (g) => g.id,
    ),
    transitions: (await p.transition.findMany()).map((t) => ({
      userId: t.userId,
      ordinal: t.ordinal,
      entity: t.entity,
      entityId: t.entityId,
      field: t.field,
      from: t.from,
      to: t.to,
      cause: t.cause,
      at: t.at.toISOString(),
    })).sort(byTransitionOrder),
  };
};

/**
 * The projections a fold's result gives, shaped like databaseSnapshot: what the store would write
 * for `state` and `transitions` (a merged user's transitions belong to the user that absorbed it,
 * numbered per user in fold order).
 */
export const foldSnapshot = (state: State, transitions: readonly Transition[], catalog: Catalog): Snapshot => {
  const users = Object.values(state.users);
  const absorbedBy = new Map<string, string>();
  for (const t of transitions) if (t.entity === "user" && t.field === "merged" && t.from !== null) absorbedBy.set(t.from, t.entityId);
  const owner = (id: string): string => {
    let u = id;
    while (!state.users[u] && absorbedBy.has(u)) u = absorbedBy.get(u)!;
    return u;
  };
  const ordinals = new Map<string, number>();
  const numbered = transitions.map((t) => {
    const userId = owner(t.userId);
    const ordinal = ordinals.get(userId) ?? 0;
    ordinals.set(userId, ordinal + 1);
    return { userId, ordinal, entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause, at: iso(t.at)! };
  });
  return {
    users: sortBy(
      users.map((u) => ({
        id: u.id,
        appUserId: u.appUserId,
        email: u.email,
        status: u.status,
        createdAt: iso(u.createdAt)!,
        keys: [...u.keys].sort(compareText),
      })),
      (u) => u.id,
    ),
    identities: sortBy(
      users.flatMap((u) =>
        u.keys.map((key) => {
          const { kind, provider, value } = parseKey(key);
          return { key, userId: u.id, kind, provider, value };
        }),
      ),
      (i) => i.key,
    ),
    subscriptions: sortBy(
      Object.values(state.subscriptions).map((s) => ({
        id: s.id,
        provider: s.provider,
        providerId: s.providerId,
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
        updatedAt: iso(s.updatedAt)!,
      })),
      (s) => s.id,
    ),
    orders: sortBy(
      Object.values(state.orders).map((o) => ({
        id: o.id,
        provider: o.provider,
        providerId: o.providerId,
        userId: o.userId,
        kind: o.kind,
        plan: o.plan,
        priceIds: o.priceIds.join(","),
        subscriptionId: o.subscriptionId,
        status: o.status,
        amount: o.amount,
        amountRefunded: o.amountRefunded,
        currency: o.currency,
        paidAt: iso(o.paidAt)!,
      })),
      (o) => o.id,
    ),
    grants: sortBy(
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
          overage: g.spec._tag === "Metered" ? g.spec.overage : null,
          credits: g.spec._tag === "Credits" ? g.spec.credits : null,
          validUntil: iso(g.validUntil),
          periodEnd: iso(g.periodEnd),
        })),
      (g) => g.id,
    ),
    transitions: numbered.sort(byTransitionOrder),
  };
};

/** Counts per entity, for summaries. */
export const snapshotCounts = (s: Snapshot): Record<keyof Snapshot, number> => ({
  users: s.users.length,
  identities: s.identities.length,
  subscriptions: s.subscriptions.length,
  orders: s.orders.length,
  grants: s.grants.length,
  transitions: s.transitions.length,
});
