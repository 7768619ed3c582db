// A persistent map from string ids to records: `set` and `remove` return a new table that shares
// everything but the path to the changed entry with the old one (a hash array mapped trie, 32 ways
// per level). A fold step that writes one record therefore costs O(log n) whatever the state holds,
// every earlier state stays valid as it was, and two versions are compared in time proportional to
// what differs (`changes`), not to their size.
//
// The shape depends only on the entries, never on the order they were written in, so two tables
// with the same entries hold the same entries in the same places. Iteration follows the hash, not
// insertion; `toJSON` and `toRecord` sort by key.
//
// A fold of many facts writes through a transient table (`transient()`): its writes go to a Map
// in front of the trie, as fast as a Map, and `persistent()` writes them into the trie at the end
// (levels it creates there are written in place, not copied per write). The table it started from
// is never changed, so the caller's state stays valid; only the holder of the transient table may
// use it until it is made persistent.

class Leaf<V> {
  constructor(
    readonly key: string,
    readonly hash: number,
    readonly value: V,
  ) {}
}

/** Who may write a level in place: the edit that created it (null: nobody). */
type Edit = object | null;

/** A removal written to a transient table. */
const GONE: unique symbol = Symbol("removed");

/** Entries whose keys hash alike (all 32 bits), sorted by key. */
class Bucket<V> {
  constructor(
    readonly hash: number,
    readonly leaves: readonly Leaf<V>[],
  ) {}
}

/**
 * One level of the trie: `bitmap` says which of the 32 slots are present, `slots` holds them in
 * order. Written in place only by the edit that created it.
 */
class Branch<V> {
  constructor(
    public bitmap: number,
    public slots: Node<V>[],
    readonly edit: Edit,
  ) {}
}

type Node<V> = Leaf<V> | Bucket<V> | Branch<V>;

const BITS = 5;
const MASK = 31;

/** FNV-1a over the UTF-16 code units. */
const hashOf = (key: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

const popcount = (n: number): number => {
  n -= (n >>> 1) & 0x55555555;
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (Math.imul((n + (n >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
};

const slotIndex = (bitmap: number, bit: number): number => popcount(bitmap & (bit - 1));

const hashOfNode = <V>(node: Leaf<V> | Bucket<V>): number => node.hash;

/** Two nodes of different paths joined under the level at `shift` (a bucket when their hashes are equal). */
const joinNodes = <V>(a: Leaf<V> | Bucket<V>, b: Leaf<V>, shift: number, edit: Edit): Node<V> => {
  const ha = hashOfNode(a);
  if (ha === b.hash) {
    const leaves = a instanceof Bucket ? a.leaves : [a];
    return new Bucket(ha, [...leaves, b].sort((x, y) => (x.key < y.key ? -1 : 1)));
  }
  const ia = (ha >>> shift) & MASK;
  const ib = (b.hash >>> shift) & MASK;
  if (ia === ib) return new Branch(1 << ia, [joinNodes(a, b, shift + BITS, edit)], edit);
  return new Branch((1 << ia) | (1 << ib), ia < ib ? [a, b] : [b, a], edit);
};

const withSlot = <V>(slots: readonly Node<V>[], at: number, node: Node<V>): Node<V>[] => {
  const copy = slots.slice();
  copy[at] = node;
  return copy;
};

/** `branch` with `slots` and `bitmap`: itself, written in place, when `edit` created it; else a copy owned by `edit`. */
const rewrite = <V>(branch: Branch<V>, bitmap: number, slots: Node<V>[], edit: Edit): Branch<V> => {
  if (edit !== null && branch.edit === edit) {
    branch.bitmap = bitmap;
    branch.slots = slots;
    return branch;
  }
  return new Branch(bitmap, slots, edit);
};

/** The slots with one replaced: the same array when `edit` owns the branch, else a copy. */
const replaced = <V>(branch: Branch<V>, at: number, node: Node<V>, edit: Edit): Node<V>[] => {
  if (edit !== null && branch.edit === edit) {
    branch.slots[at] = node;
    return branch.slots;
  }
  return withSlot(branch.slots, at, node);
};

const insert = <V>(node: Node<V>, shift: number, leaf: Leaf<V>, edit: Edit): Node<V> => {
  if (node instanceof Branch) {
    const bit = 1 << ((leaf.hash >>> shift) & MASK);
    const at = slotIndex(node.bitmap, bit);
    if ((node.bitmap & bit) === 0) {
      const slots = edit !== null && node.edit === edit ? node.slots : node.slots.slice();
      slots.splice(at, 0, leaf);
      return rewrite(node, node.bitmap | bit, slots, edit);
    }
    const child = node.slots[at]!;
    const next = insert(child, shift + BITS, leaf, edit);
    return next === child ? node : rewrite(node, node.bitmap, replaced(node, at, next, edit), edit);
  }
  if (node instanceof Leaf) {
    if (node.key !== leaf.key) return joinNodes(node, leaf, shift, edit);
    return node.value === leaf.value ? node : leaf;
  }
  if (node.hash !== leaf.hash) return joinNodes(node, leaf, shift, edit);
  const at = node.leaves.findIndex((l) => l.key === leaf.key);
  if (at < 0) return joinNodes(node, leaf, shift, edit);
  return node.leaves[at]!.value === leaf.value ? node : new Bucket(node.hash, withSlot(node.leaves, at, leaf) as Leaf<V>[]);
};

/** The node without `key`: the same node when it does not hold it, undefined when nothing is left. */
const without = <V>(node: Node<V>, shift: number, hash: number, key: string, edit: Edit): Node<V> | undefined => {
  if (node instanceof Leaf) return node.key === key ? undefined : node;
  if (node instanceof Bucket) {
    if (node.hash !== hash || !node.leaves.some((l) => l.key === key)) return node;
    const rest = node.leaves.filter((l) => l.key !== key);
    return rest.length === 1 ? rest[0] : new Bucket(node.hash, rest);
  }
  const bit = 1 << ((hash >>> shift) & MASK);
  if ((node.bitmap & bit) === 0) return node;
  const at = slotIndex(node.bitmap, bit);
  const child = node.slots[at]!;
  const next = without(child, shift + BITS, hash, key, edit);
  if (next === child) return node;
  const slots = next === undefined ? node.slots.filter((_, i) => i !== at) : withSlot(node.slots, at, next);
  if (slots.length === 0) return undefined;
  // A level holding one entry (or one bucket) and nothing else folds into it, so the shape stays
  // the one that writing the remaining entries from scratch gives.
  if (slots.length === 1 && !(slots[0] instanceof Branch)) return slots[0];
  return rewrite(node, next === undefined ? node.bitmap & ~bit : node.bitmap, slots, edit);
};

function* leavesOf<V>(node: Node<V> | undefined): Generator<Leaf<V>> {
  if (node === undefined) return;
  if (node instanceof Leaf) yield node;
  else if (node instanceof Bucket) yield* node.leaves;
  else for (const slot of node.slots) yield* leavesOf(slot);
}

const collect = <V>(node: Node<V> | undefined, into: Map<string, V>): Map<string, V> => {
  for (const leaf of leavesOf(node)) into.set(leaf.key, leaf.value);
  return into;
};

/** One entry that differs between two versions: absent on one side is undefined. */
export type Change<V> = { readonly key: string; readonly was: V | undefined; readonly now: V | undefined };

const diffNodes = <V>(was: Node<V> | undefined, now: Node<V> | undefined, out: Change<V>[]): void => {
  if (was === now) return;
  if (was instanceof Branch && now instanceof Branch) {
    for (let bits = was.bitmap | now.bitmap; bits !== 0; bits &= bits - 1) {
      const bit = bits & -bits;
      const a = (was.bitmap & bit) === 0 ? undefined : was.slots[slotIndex(was.bitmap, bit)];
      const b = (now.bitmap & bit) === 0 ? undefined : now.slots[slotIndex(now.bitmap, bit)];
      diffNodes(a, b, out);
    }
    return;
  }
  // A leaf or bucket against anything: few entries on one side, so compare them by key.
  const before = collect(was, new Map());
  for (const leaf of leavesOf(now)) {
    const old = before.get(leaf.key);
    if (old !== leaf.value || !before.has(leaf.key)) out.push({ key: leaf.key, was: old, now: leaf.value });
    before.delete(leaf.key);
  }
  for (const [key, value] of before) out.push({ key, was: value, now: undefined });
};

export class Table<V> {
  private constructor(
    private readonly root: Node<V> | undefined,
    /** Writes not yet in the trie: a transient table's (null: a persistent one). */
    private readonly pending: Map<string, V | typeof GONE> | null = null,
  ) {}

  static empty<V>(): Table<V> {
    return new Table<V>(undefined);
  }

  static fromRecord<V>(record: Readonly<Record<string, V>>): Table<V> {
    const table = Table.empty<V>().transient();
    for (const [key, value] of Object.entries(record)) table.set(key, value);
    return table.persistent();
  }

  /**
   * A table that starts with this one's entries and takes writes in place (`set` and `remove`
   * return it): for one fold, held by nobody else. This table stays as it is.
   */
  transient(): Table<V> {
    return new Table(this.persistent().root, new Map());
  }

  /** The entries as a persistent table: a transient table's writes put into the trie. */
  persistent(): Table<V> {
    if (this.pending === null) return this;
    const edit = {};
    let root = this.root;
    for (const [key, value] of this.pending) {
      const hash = hashOf(key);
      if (value === GONE) root = root === undefined ? undefined : without(root, 0, hash, key, edit);
      else root = root === undefined ? new Leaf(key, hash, value) : insert(root, 0, new Leaf(key, hash, value), edit);
    }
    return new Table(root);
  }

  get(key: string): V | undefined {
    if (this.pending !== null) {
      const written = this.pending.get(key);
      if (written !== undefined) return written === GONE ? undefined : written;
    }
    let node = this.root;
    if (node === undefined) return undefined;
    const hash = hashOf(key);
    for (let shift = 0; node !== undefined; shift += BITS) {
      if (node instanceof Branch) {
        const bit = 1 << ((hash >>> shift) & MASK);
        node = (node.bitmap & bit) === 0 ? undefined : node.slots[slotIndex(node.bitmap, bit)];
      } else if (node instanceof Leaf) {
        return node.key === key ? node.value : undefined;
      } else {
        return node.hash === hash ? node.leaves.find((l) => l.key === key)?.value : undefined;
      }
    }
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** This table with `key` set to `value` (a persistent table is left as it is; a transient one is written). */
  set(key: string, value: V): Table<V> {
    if (this.pending !== null) {
      this.pending.set(key, value);
      return this;
    }
    const leaf = new Leaf(key, hashOf(key), value);
    if (this.root === undefined) return new Table(leaf);
    const root = insert(this.root, 0, leaf, null);
    return root === this.root ? this : new Table(root);
  }

  remove(key: string): Table<V> {
    if (this.pending !== null) {
      this.pending.set(key, GONE);
      return this;
    }
    if (this.root === undefined) return this;
    const root = without(this.root, 0, hashOf(key), key, null);
    return root === this.root ? this : new Table(root);
  }

  get isEmpty(): boolean {
    return this.persistent().root === undefined;
  }

  *entries(): Generator<readonly [string, V]> {
    for (const leaf of leavesOf(this.persistent().root)) yield [leaf.key, leaf.value];
  }

  *values(): Generator<V> {
    for (const leaf of leavesOf(this.persistent().root)) yield leaf.value;
  }

  *keys(): Generator<string> {
    for (const leaf of leavesOf(this.persistent().root)) yield leaf.key;
  }

  /** The entries as a plain record, keys sorted. */
  toRecord(): Record<string, V> {
    const entries = [...this.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  }

  /** A table serializes as its record, so a saved state reads back with `fromRecord`. */
  toJSON(): Record<string, V> {
    return this.toRecord();
  }

  /** The entries `now` added, replaced (by identity) or removed since `was`, found by skipping what they share. */
  static changes<V>(was: Table<V>, now: Table<V>): Change<V>[] {
    const out: Change<V>[] = [];
    diffNodes(was.persistent().root, now.persistent().root, out);
    return out;
  }
}
