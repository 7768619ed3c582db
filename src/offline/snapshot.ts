// Everything the projections hold, in one comparable shape: read back from the database, or
// computed from an offline fold of the event log. Equal snapshots are the replay-equivalence
// property; `verity verify` compares them field by field, `verity reprocess` before and after.
// Both sides are the same rows (src/store/projection-rows.ts) through the same conversion: the fold
// gives the rows the projector writes, the database gives back the rows it holds, column by column.
import type { Prisma as Client } from "../store/database.js";
import {
  PROJECTION_COLUMNS,
  type ProjectedGrant,
  type ProjectedIdentity,
  type ProjectedOrder,
  type ProjectedSubscription,
  type ProjectedTransition,
  type ProjectedUser,
  type ProjectionRows,
} from "../store/projection-rows.js";

/** A row as a snapshot holds it: instants as ISO 8601 text. */
type Snapshotted<Row> = { [K in keyof Row]: Row[K] extends infer V ? (V extends Date ? string : V) : never };

/** A user, with the keys it is known by (sorted; each also listed under identities with its columns). */
export type SnapshotUser = Snapshotted<ProjectedUser> & { keys: string[] };
export type SnapshotIdentity = Snapshotted<ProjectedIdentity>;
export type SnapshotSubscription = Snapshotted<ProjectedSubscription>;
export type SnapshotOrder = Snapshotted<ProjectedOrder>;
export type SnapshotGrant = Snapshotted<ProjectedGrant>;
/** A transition as the log stores it: per final owner, numbered in fold order (its id is `${userId}:${ordinal}`). */
export type SnapshotTransition = Snapshotted<Omit<ProjectedTransition, "id">>;

export type Snapshot = {
  users: SnapshotUser[];
  identities: SnapshotIdentity[];
  subscriptions: SnapshotSubscription[];
  orders: SnapshotOrder[];
  grants: SnapshotGrant[];
  transitions: SnapshotTransition[];
};

/** The part of a Prisma client (or transaction) a snapshot reads. */
export type ProjectionReader = Pick<Client, "user" | "userIdentity" | "subscription" | "order" | "entitlement" | "transition">;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortBy = <T>(rows: T[], key: (row: T) => string): T[] => rows.sort((a, b) => compareText(key(a), key(b)));
const byTransitionOrder = (a: SnapshotTransition, b: SnapshotTransition): number => compareText(a.userId, b.userId) || a.ordinal - b.ordinal;

/** Transitions are compared by (userId, ordinal), which their id is made of. */
const { id: _transitionId, ...TRANSITION_SNAPSHOT_COLUMNS } = PROJECTION_COLUMNS.transitions;

/** `row`'s `columns`, in their order, instants as text. */
const snapshotted = <Row extends object, K extends keyof Row>(row: Row, columns: { readonly [C in K]: true }): Snapshotted<Pick<Row, K>> => {
  const out: Record<string, unknown> = {};
  // Column names are the schema's own (no "__proto__"): plain assignment is safe.
  for (const c in columns) {
    const v: unknown = row[c as K];
    out[c] = v instanceof Date ? v.toISOString() : v;
  }
  return out as Snapshotted<Pick<Row, K>>;
};

/** The snapshot of projection rows, from either side: every column of every row, sorted by id. */
export const snapshotOfRows = (rows: ProjectionRows): Snapshot => {
  const identities = sortBy(
    rows.identities.map((i) => snapshotted(i, PROJECTION_COLUMNS.identities)),
    (i) => i.key,
  );
  const keysOf = new Map<string, string[]>();
  for (const i of identities) keysOf.set(i.userId, [...(keysOf.get(i.userId) ?? []), i.key]);
  return {
    users: sortBy(
      rows.users.map((u) => ({ ...snapshotted(u, PROJECTION_COLUMNS.users), keys: keysOf.get(u.id) ?? [] })),
      (u) => u.id,
    ),
    identities,
    subscriptions: sortBy(
      rows.subscriptions.map((s) => snapshotted(s, PROJECTION_COLUMNS.subscriptions)),
      (s) => s.id,
    ),
    orders: sortBy(
      rows.orders.map((o) => snapshotted(o, PROJECTION_COLUMNS.orders)),
      (o) => o.id,
    ),
    grants: sortBy(
      rows.grants.map((g) => snapshotted(g, PROJECTION_COLUMNS.grants)),
      (g) => g.id,
    ),
    transitions: rows.transitions.map((t) => snapshotted(t, TRANSITION_SNAPSHOT_COLUMNS)).sort(byTransitionOrder),
  };
};

/** Reads every projection row back (through `reader`, e.g. a transaction), sorted by id. */
export const databaseSnapshot = async (reader: ProjectionReader | { readonly prisma: ProjectionReader }): Promise<Snapshot> => {
  const p = "prisma" in reader ? reader.prisma : reader;
  const identities = await p.userIdentity.findMany({ select: PROJECTION_COLUMNS.identities });
  const users = await p.user.findMany({ select: PROJECTION_COLUMNS.users });
  const subscriptions = await p.subscription.findMany({ select: PROJECTION_COLUMNS.subscriptions });
  const orders = await p.order.findMany({ select: PROJECTION_COLUMNS.orders });
  const grants = await p.entitlement.findMany({ select: PROJECTION_COLUMNS.grants });
  const transitions = await p.transition.findMany({ select: PROJECTION_COLUMNS.transitions });
  return snapshotOfRows({ users, identities, subscriptions, orders, grants, transitions });
};

/** How many rows each projection table holds. */
export const tableCounts = async (reader: ProjectionReader): Promise<Record<keyof Snapshot, number>> => ({
  users: await reader.user.count(),
  identities: await reader.userIdentity.count(),
  subscriptions: await reader.subscription.count(),
  orders: await reader.order.count(),
  grants: await reader.entitlement.count(),
  transitions: await reader.transition.count(),
});

const PAGE = 5000;

/** Every row in `after`-keyed pages; `page` reads the rows after a key (null: from the start). */
async function* pages<Row>(page: (after: string | null) => Promise<Row[]>, keyOf: (row: Row) => string): AsyncGenerator<Row> {
  for (let after: string | null = null; ; ) {
    const rows = await page(after);
    yield* rows;
    if (rows.length < PAGE) return;
    after = keyOf(rows[rows.length - 1]!);
  }
}

const keyed = <K extends string>(field: K, after: string | null) => ({ orderBy: { [field]: "asc" }, take: PAGE, ...(after === null ? {} : { where: { [field]: { gt: after } } }) }) as const;

/**
 * The rows of the tables in `tables` whose owner is not in `owners`, read in pages (memory holds a
 * page and what it keeps): what a walk over the users' own rows cannot see.
 */
export const unownedSnapshot = async (reader: ProjectionReader, owners: ReadonlySet<string>, tables: ReadonlySet<keyof Snapshot>): Promise<Snapshot> => {
  const rows: ProjectionRows = { users: [], identities: [], subscriptions: [], orders: [], grants: [], transitions: [] };
  const keep = <Row extends { userId: string }>(into: Row[]) => (row: Row) => void (owners.has(row.userId) || into.push(row));
  if (tables.has("users")) {
    for await (const u of pages((a) => reader.user.findMany({ ...keyed("id", a), select: PROJECTION_COLUMNS.users }), (r) => r.id)) if (!owners.has(u.id)) rows.users.push(u);
  }
  if (tables.has("identities")) {
    for await (const r of pages((a) => reader.userIdentity.findMany({ ...keyed("key", a), select: PROJECTION_COLUMNS.identities }), (r) => r.key)) keep(rows.identities)(r);
  }
  if (tables.has("subscriptions")) {
    for await (const r of pages((a) => reader.subscription.findMany({ ...keyed("id", a), select: PROJECTION_COLUMNS.subscriptions }), (r) => r.id)) keep(rows.subscriptions)(r);
  }
  if (tables.has("orders")) {
    for await (const r of pages((a) => reader.order.findMany({ ...keyed("id", a), select: PROJECTION_COLUMNS.orders }), (r) => r.id)) keep(rows.orders)(r);
  }
  if (tables.has("grants")) {
    for await (const r of pages((a) => reader.entitlement.findMany({ ...keyed("id", a), select: PROJECTION_COLUMNS.grants }), (r) => r.id)) keep(rows.grants)(r);
  }
  if (tables.has("transitions")) {
    for await (const r of pages((a) => reader.transition.findMany({ ...keyed("id", a), select: PROJECTION_COLUMNS.transitions }), (r) => r.id)) keep(rows.transitions)(r);
  }
  return snapshotOfRows(rows);
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
