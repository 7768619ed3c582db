// Everything the projections hold, in one comparable shape: read back from the database, or
// computed from an offline fold of the event log. Equal snapshots are the replay-equivalence
// property; `verity verify` compares them field by field, `verity reprocess` before and after.
// Both sides are the same rows (src/store/projection-rows.ts) through the same conversion: the fold
// gives the rows the projector writes, the database gives back the rows it holds, column by column.
import type { Database } from "../store/database.js";
import { allRows } from "../store/rows-of-users.js";
import { sqlOf, type Sql } from "../store/sql.js";
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

/** Reads every projection row back (from the database, or through `sql` inside a transaction), sorted by id. */
export const databaseSnapshot = async (source: Database | Sql): Promise<Snapshot> => snapshotOfRows(await allRows("query" in source ? source : sqlOf(source)));

/** Counts per entity, for summaries. */
export const snapshotCounts = (s: Snapshot): Record<keyof Snapshot, number> => ({
  users: s.users.length,
  identities: s.identities.length,
  subscriptions: s.subscriptions.length,
  orders: s.orders.length,
  grants: s.grants.length,
  transitions: s.transitions.length,
});
