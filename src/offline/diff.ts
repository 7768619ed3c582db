// Field-by-field differences between two snapshots: what `verity verify` prints, and what
// `verity reprocess` summarizes.
import { PROJECTION_TABLES, type Entity } from "../store/projection-rows.js";
import type { Snapshot } from "./snapshot.js";

/** One difference. `field` null: the whole row exists on one side only. */
export type Difference = {
  readonly entity: Entity;
  readonly id: string;
  readonly field: string | null;
  /** The value in the first snapshot (undefined: no such row). */
  readonly left: unknown;
  /** The value in the second snapshot (undefined: no such row). */
  readonly right: unknown;
};

type Row = Readonly<Record<string, unknown>>;

const TABLES = PROJECTION_TABLES.map((t) => ({
  entity: t.entity,
  key: t.rows,
  id: (row: Row): string => t.comparedBy.map((c) => String(row[c])).join("#"),
}));

const indexed = (rows: readonly Row[], id: (row: Row) => string): Map<string, Row> => new Map(rows.map((r) => [id(r), r]));

/** Every difference between `left` and `right`, entity by entity, in id order. */
export const diffSnapshots = (left: Snapshot, right: Snapshot): Difference[] => {
  const out: Difference[] = [];
  for (const { entity, key, id } of TABLES) {
    const a = indexed(left[key] as readonly Row[], id);
    const b = indexed(right[key] as readonly Row[], id);
    const ids = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    for (const rowId of ids) {
      const ra = a.get(rowId);
      const rb = b.get(rowId);
      if (ra === undefined || rb === undefined) out.push({ entity, id: rowId, field: null, left: ra, right: rb });
      else out.push(...rowDifferences(entity, rowId, ra, rb));
    }
  }
  return out;
};

/** The fields in which two versions of one row differ. */
const rowDifferences = (entity: Entity, id: string, left: Row, right: Row): Difference[] => {
  const out: Difference[] = [];
  for (const field of new Set([...Object.keys(left), ...Object.keys(right)])) {
    const a = left[field];
    const b = right[field];
    // Values are scalars or arrays of scalars (price ids): only those need their text compared.
    if (a !== b && (typeof a !== "object" || typeof b !== "object" || JSON.stringify(a) !== JSON.stringify(b))) out.push({ entity, id, field, left: a, right: b });
  }
  return out;
};

const ENTITY_ORDER = new Map(TABLES.map((t, i) => [t.entity, i]));

/**
 * Differences found piece by piece (`verity verify` compares one group of users at a time) as
 * diffSnapshots would report them for the whole: a row found only on the left in one piece and only
 * on the right in another (its owner column changed) is one row whose fields differ; then sorted by
 * entity and id, the fields of one row kept in their order.
 */
export const mergePieces = (pieces: readonly Difference[]): Difference[] => {
  const oneSided = new Map<string, { left?: Difference; right?: Difference }>();
  for (const d of pieces) {
    if (d.field !== null) continue;
    const key = `${d.entity}\u0000${d.id}`;
    const pair = oneSided.get(key) ?? {};
    if (d.left !== undefined) pair.left = d;
    else pair.right = d;
    oneSided.set(key, pair);
  }
  const out: Difference[] = [];
  for (const d of pieces) {
    const pair = d.field === null ? oneSided.get(`${d.entity}\u0000${d.id}`) : undefined;
    if (pair?.left === undefined || pair.right === undefined) out.push(d);
    // Both halves of a split row: reported once, where its left half was found.
    else if (d === pair.left) out.push(...rowDifferences(d.entity, d.id, pair.left.left as Row, pair.right.right as Row));
  }
  return out
    .map((d, i) => [d, i] as const)
    .sort(([a, i], [b, j]) => ENTITY_ORDER.get(a.entity)! - ENTITY_ORDER.get(b.entity)! || (a.id < b.id ? -1 : a.id > b.id ? 1 : i - j))
    .map(([d]) => d);
};

export type ChangeCounts = { added: number; removed: number; changed: number };

/** Per entity: rows only in `after` (added), only in `before` (removed), in both but different (changed). */
export const summarizeChanges = (before: Snapshot, after: Snapshot): Record<Entity, ChangeCounts> => {
  const counts = Object.fromEntries(TABLES.map((t) => [t.entity, { added: 0, removed: 0, changed: 0 }])) as Record<Entity, ChangeCounts>;
  const changed = new Set<string>();
  for (const d of diffSnapshots(before, after)) {
    if (d.field === null) counts[d.entity][d.left === undefined ? "added" : "removed"] += 1;
    else if (!changed.has(`${d.entity}\u0000${d.id}`)) {
      changed.add(`${d.entity}\u0000${d.id}`);
      counts[d.entity].changed += 1;
    }
  }
  return counts;
};

const show = (v: unknown): string => (v === undefined ? "(absent)" : JSON.stringify(v));

/** One line per difference, naming the sides (e.g. "projections" and "replay"). */
export const formatDifference = (d: Omit<Difference, "entity"> & { readonly entity: string }, leftName: string, rightName: string): string =>
  d.field === null
    ? d.left === undefined
      ? `${d.entity} ${d.id}: only in ${rightName} ${JSON.stringify(d.right)}`
      : `${d.entity} ${d.id}: only in ${leftName} ${JSON.stringify(d.left)}`
    : `${d.entity} ${d.id} ${d.field}: ${leftName} ${show(d.left)}, ${rightName} ${show(d.right)}`;
