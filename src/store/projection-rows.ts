// The rows a fold's result gives, one table at a time, as plain data: what the projector writes
// (src/projection/projector.ts) and what `verity verify` compares the database with
// (src/offline/snapshot.ts). This is the one mapping from the resolver's State and transitions to
// projection rows; neither side keeps its own copy. No database here.
import type { Catalog, FeatureSpec } from "../domain/catalog.js";
import { grantsFor, type Grant } from "../domain/entitlements.js";
import { parseKey, type IdentityKey } from "../domain/identity.js";
import { grantingRecordsOf, type Order, type State, type Subscription, type Transition, type User } from "../domain/state.js";

export type ProjectedUser = { id: string; appUserId: string | null; email: string | null; status: string; createdAt: Date };
export type ProjectedIdentity = { key: string; userId: string; kind: string; provider: string | null; value: string };
export type ProjectedSubscription = {
  id: string;
  provider: string;
  providerId: string;
  userId: string;
  plan: string | null;
  /** Comma-separated, in the provider's order. */
  priceIds: string;
  status: string;
  providerStatus: string;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  canceledAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  trialStart: Date | null;
  trialEnd: Date | null;
  pastDueSince: Date | null;
  updatedAt: Date;
};
export type ProjectedOrder = {
  id: string;
  provider: string;
  providerId: string;
  userId: string;
  kind: string;
  plan: string | null;
  /** Comma-separated, in the provider's order. */
  priceIds: string;
  subscriptionId: string | null;
  status: string;
  amount: number;
  amountRefunded: number;
  currency: string;
  paidAt: Date;
};
/**
 * An entitlement grant; its spec is spread over limit/per/overage/decimals (metered), credits,
 * concurrent/leaseSeconds (concurrency) and value; a flag sets none of them.
 */
export type ProjectedGrant = {
  id: string;
  userId: string;
  feature: string;
  source: string;
  sourceKind: string;
  sourceId: string;
  limit: number | null;
  per: string | null;
  overage: string | null;
  decimals: number | null;
  credits: number | null;
  concurrent: number | null;
  leaseSeconds: number | null;
  value: number | null;
  validUntil: Date | null;
  periodEnd: Date | null;
};
/** A transition as the log stores it: per final owner, numbered in fold order; id is `${userId}:${ordinal}`. */
export type ProjectedTransition = {
  id: string;
  userId: string;
  ordinal: number;
  entity: string;
  entityId: string;
  field: string;
  from: string | null;
  to: string | null;
  cause: string;
  at: Date;
};

/** Every projection row of a fold, table by table (User, UserIdentity, Subscription, Order, Entitlement, Transition). */
export type ProjectionRows = {
  users: ProjectedUser[];
  identities: ProjectedIdentity[];
  subscriptions: ProjectedSubscription[];
  orders: ProjectedOrder[];
  grants: ProjectedGrant[];
  transitions: ProjectedTransition[];
};

/**
 * The projection tables, once: where each table's rows are kept (`rows`), its model, what a
 * difference calls a row of it (`entity`), the column naming the user it belongs to (`owner`), its
 * primary key, and the columns a row is compared by (a transition's id is made of userId and
 * ordinal). Snapshots, verify, reprocess and the CLI iterate this list.
 */
export const PROJECTION_TABLES = [
  { rows: "users", model: "User", entity: "user", owner: "id", primaryKey: "id", comparedBy: ["id"] },
  { rows: "identities", model: "UserIdentity", entity: "identity", owner: "userId", primaryKey: "key", comparedBy: ["key"] },
  { rows: "subscriptions", model: "Subscription", entity: "subscription", owner: "userId", primaryKey: "id", comparedBy: ["id"] },
  { rows: "orders", model: "Order", entity: "order", owner: "userId", primaryKey: "id", comparedBy: ["id"] },
  { rows: "grants", model: "Entitlement", entity: "grant", owner: "userId", primaryKey: "id", comparedBy: ["id"] },
  { rows: "transitions", model: "Transition", entity: "transition", owner: "userId", primaryKey: "id", comparedBy: ["userId", "ordinal"] },
] as const satisfies readonly {
  readonly rows: keyof ProjectionRows;
  readonly model: string;
  readonly entity: string;
  readonly owner: "id" | "userId";
  readonly primaryKey: string;
  readonly comparedBy: readonly string[];
}[];

export type ProjectionTable = (typeof PROJECTION_TABLES)[number];

/** What a difference calls a row of each table. */
export type Entity = ProjectionTable["entity"];

/** No rows in any table. */
export const noRows = (): ProjectionRows => ({ users: [], identities: [], subscriptions: [], orders: [], grants: [], transitions: [] });

type ColumnsOf<Row> = { readonly [K in keyof Row]-?: true };

/**
 * The columns of each table's rows, exactly (the compiler holds them to the row types): a Prisma
 * `select` for reading the rows back, and the field order of a snapshot (src/offline/snapshot.ts).
 */
export const PROJECTION_COLUMNS = {
  users: { id: true, appUserId: true, email: true, status: true, createdAt: true },
  identities: { key: true, userId: true, kind: true, provider: true, value: true },
  subscriptions: {
    id: true,
    provider: true,
    providerId: true,
    userId: true,
    plan: true,
    priceIds: true,
    status: true,
    providerStatus: true,
    cancelAtPeriodEnd: true,
    currentPeriodStart: true,
    currentPeriodEnd: true,
    canceledAt: true,
    startedAt: true,
    endedAt: true,
    trialStart: true,
    trialEnd: true,
    pastDueSince: true,
    updatedAt: true,
  },
  orders: {
    id: true,
    provider: true,
    providerId: true,
    userId: true,
    kind: true,
    plan: true,
    priceIds: true,
    subscriptionId: true,
    status: true,
    amount: true,
    amountRefunded: true,
    currency: true,
    paidAt: true,
  },
  grants: {
    id: true,
    userId: true,
    feature: true,
    source: true,
    sourceKind: true,
    sourceId: true,
    limit: true,
    per: true,
    overage: true,
    decimals: true,
    credits: true,
    concurrent: true,
    leaseSeconds: true,
    value: true,
    validUntil: true,
    periodEnd: true,
  },
  transitions: { id: true, userId: true, ordinal: true, entity: true, entityId: true, field: true, from: true, to: true, cause: true, at: true },
} as const satisfies { readonly [T in keyof ProjectionRows]: ColumnsOf<ProjectionRows[T][number]> };

const date = (t: number | null): Date | null => (t === null ? null : new Date(t));

export const grantRow = (g: Grant): ProjectedGrant => ({
  id: g.id,
  userId: g.userId,
  feature: g.feature,
  source: g.source,
  sourceKind: g.sourceKind,
  sourceId: g.sourceId,
  limit: g.spec._tag === "Metered" ? g.spec.limit : null,
  per: g.spec._tag === "Metered" ? g.spec.per : null,
  overage: g.spec._tag === "Metered" ? g.spec.overage : null,
  decimals: g.spec._tag === "Metered" ? g.spec.decimals : null,
  credits: g.spec._tag === "Credits" ? g.spec.credits : null,
  concurrent: g.spec._tag === "Concurrent" ? g.spec.concurrent : null,
  leaseSeconds: g.spec._tag === "Concurrent" ? g.spec.leaseSeconds : null,
  value: g.spec._tag === "Value" ? g.spec.value : null,
  validUntil: date(g.validUntil),
  periodEnd: date(g.periodEnd),
});

const specOf = (row: ProjectedGrant): FeatureSpec => {
  if (row.limit !== null && row.per !== null) {
    return { _tag: "Metered", limit: row.limit, per: row.per as "month" | "year" | "period", overage: row.overage === "allow" ? "allow" : "block", decimals: row.decimals ?? 0 };
  }
  if (row.credits !== null) return { _tag: "Credits", credits: row.credits };
  if (row.concurrent !== null) return { _tag: "Concurrent", concurrent: row.concurrent, leaseSeconds: row.leaseSeconds ?? 0 };
  if (row.value !== null) return { _tag: "Value", value: row.value };
  return { _tag: "Flag" };
};

/** The grant an entitlement row holds: the inverse of grantRow. */
export const toGrant = (row: ProjectedGrant): Grant => ({
  id: row.id,
  userId: row.userId,
  feature: row.feature,
  source: row.source,
  sourceKind: row.sourceKind === "lifetime" ? "lifetime" : "subscription",
  sourceId: row.sourceId,
  spec: specOf(row),
  validUntil: row.validUntil?.getTime() ?? null,
  periodEnd: row.periodEnd?.getTime() ?? null,
});

/** Absorbed users' transitions belong to the user that absorbed them. */
export const finalOwner = (transitions: readonly Transition[], state: State) => {
  const absorbedBy = new Map<string, string>();
  for (const t of transitions) if (t.entity === "user" && t.field === "merged" && t.from !== null) absorbedBy.set(t.from, t.entityId);
  return (userId: string): string => {
    let id = userId;
    while (!state.users.has(id) && absorbedBy.has(id)) id = absorbedBy.get(id)!;
    return id;
  };
};

export const userRow = (u: User): ProjectedUser => ({ id: u.id, appUserId: u.appUserId, email: u.email, status: u.status, createdAt: new Date(u.createdAt) });

export const identityRow = (key: IdentityKey, userId: string): ProjectedIdentity => ({ key, userId, ...parseKey(key) });

export const subscriptionRow = (s: Subscription): ProjectedSubscription => ({
  id: s.id,
  provider: s.provider,
  providerId: s.providerId,
  userId: s.userId,
  plan: s.plan,
  priceIds: s.priceIds.join(","),
  status: s.status,
  providerStatus: s.providerStatus,
  cancelAtPeriodEnd: s.cancelAtPeriodEnd,
  currentPeriodStart: date(s.currentPeriodStart),
  currentPeriodEnd: date(s.currentPeriodEnd),
  canceledAt: date(s.canceledAt),
  startedAt: date(s.startedAt),
  endedAt: date(s.endedAt),
  trialStart: date(s.trialStart),
  trialEnd: date(s.trialEnd),
  pastDueSince: date(s.pastDueSince),
  updatedAt: new Date(s.updatedAt),
});

export const orderRow = (o: Order): ProjectedOrder => ({
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
  paidAt: new Date(o.paidAt),
});

/** The entitlement rows of one user of `state`. */
export const grantRowsOf = (state: State, userId: string, catalog: Catalog): ProjectedGrant[] => {
  const { subscriptions, orders } = grantingRecordsOf(state, userId);
  return grantsFor(userId, subscriptions, orders, catalog).map(grantRow);
};

/**
 * Transition rows for `transitions` (in fold order), each numbered after the ones its final owner
 * already has: `next(userId)` is that owner's first free ordinal.
 */
export const transitionRows = (transitions: readonly Transition[], state: State, next: (userId: string) => number = () => 0): ProjectedTransition[] => {
  const owner = finalOwner(transitions, state);
  const ordinals = new Map<string, number>();
  return transitions.map((t) => {
    const userId = owner(t.userId);
    const ordinal = ordinals.get(userId) ?? next(userId);
    ordinals.set(userId, ordinal + 1);
    return { id: `${userId}:${ordinal}`, userId, ordinal, entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause, at: new Date(t.at) };
  });
};

/**
 * The projection rows of a fold's result (`state` and its `transitions`, in fold order), with the
 * grants the catalog gives each user. Rows come in the tables' order (by hash, not insertion); transitions are numbered per
 * final owner in fold order.
 */
export const projectionRows = (state: State, transitions: readonly Transition[], catalog: Catalog): ProjectionRows => {
  const users = [...state.users.values()];
  return {
    users: users.map(userRow),
    identities: users.flatMap((u) => u.keys.map((key) => identityRow(key, u.id))),
    subscriptions: [...state.subscriptions.values()].map(subscriptionRow),
    orders: [...state.orders.values()].map(orderRow),
    grants: users.flatMap((u) => grantRowsOf(state, u.id, catalog)),
    transitions: transitionRows(transitions, state),
  };
};
