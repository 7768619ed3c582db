// A persistent map from string ids to records: `set` and `remove` return a new table that shares
// everything but the path to the changed entry with the old one (a hash array mapped trie, 32 ways
// per level). A fold step that writes one record therefore costs O(log n) whatever the state holds,
// every earlier state stays valid as it was, and two versions are compared in time proportional to
// what differs (`changes`), not to their size.
//
// The shape depends only on the entries, never on the order they were written in, so two tables
// with the same entries are deeply equal. Iteration follows the hash, not insertion; `toJSON` and
// `toRecord` sort by key.

class Leaf<V> {
  constructor(
    readonly key: string,
    readonly hash: number,
    readonly value: V,
  ) {}
}

/** Entries whose keys hash alike (all 32 bits), sorted by key. */
class Bucket<V> {
  constructor(
    readonly hash: number,
    readonly leaves: readonly Leaf<V>[],
  ) {}
}

/** One level of the trie: `bitmap` says which of the 32 slots are present, `slots` holds them in order. */
class Branch<V> {
  constructor(
    readonly bitmap: number,
    readonly slots: readonly Node<V>[],
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
const joinNodes = <V>(a: Leaf<V> | Bucket<V>, b: Leaf<V>, shift: number): Node<V> => {
  const ha = hashOfNode(a);
  if (ha === b.hash) {
    const leaves = a instanceof Bucket ? a.leaves : [a];
    return new Bucket(ha, [...leaves, b].sort((x, y) => (x.key < y.key ? -1 : 1)));
  }
  const ia = (ha >>> shift) & MASK;
  const ib = (b.hash >>> shift) & MASK;
  if (ia === ib) return new Branch(1 << ia, [joinNodes(a, b, shift + BITS)]);
  return new Branch((1 << ia) | (1 << ib), ia < ib ? [a, b] : [b, a]);
};

const withSlot = <V>(slots: readonly Node<V>[], at: number, node: Node<V>): Node<V>[] => {
  const copy = slots.slice();
  copy[at] = node;
  return copy;
};

const insert = <V>(node: Node<V>, shift: number, leaf: Leaf<V>): Node<V> => {
  if (node instanceof Branch) {
    const bit = 1 << ((leaf.hash >>> shift) & MASK);
    const at = slotIndex(node.bitmap, bit);
    if ((node.bitmap & bit) === 0) {
      const slots = node.slots.slice();
      slots.splice(at, 0, leaf);
      return new Branch(node.bitmap | bit, slots);
    }
    const child = node.slots[at]!;
    const next = insert(child, shift + BITS, leaf);
    return next === child ? node : new Branch(node.bitmap, withSlot(node.slots, at, next));
  }
  if (node instanceof Leaf) {
    if (node.key !== leaf.key) return joinNodes(node, leaf, shift);
    return node.value === leaf.value ? node : leaf;
  }
  if (node.hash !== leaf.hash) return joinNodes(node, leaf, shift);
  const at = node.leaves.findIndex((l) => l.key === leaf.key);
  if (at < 0) return joinNodes(node, leaf, shift);
  return node.leaves[at]!.value === leaf.value ? node : new Bucket(node.hash, withSlot(node.leaves, at, leaf) as Leaf<V>[]);
};

/** The node without `key`: the same node when it does not hold it, undefined when nothing is left. */
const without = <V>(node: Node<V>, shift: number, hash: number, key: string): Node<V> | undefined => {
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
  const next = without(child, shift + BITS, hash, key);
  if (next === child) return node;
  const slots = next === undefined ? node.slots.filter((_, i) => i !== at) : withSlot(node.slots, at, next);
  if (slots.length === 0) return undefined;
  // A level holding one entry (or one bucket) and nothing else folds into it, so the shape stays
  // the one that writing the remaining entries from scratch gives.
  if (slots.length === 1 && !(slots[0] instanceof Branch)) return slots[0];
  return new Branch(next === undefined ? node.bitmap & ~bit : node.bitmap, slots);
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
  private constructor(private readonly root: Node<V> | undefined) {}

  static empty<V>(): Table<V> {
    return new Table<V>(undefined);
  }

  static fromRecord<V>(record: Readonly<Record<string, V>>): Table<V> {
    let table = Table.empty<V>();
    for (const [key, value] of Object.entries(record)) table = table.set(key, value);
    return table;
  }

  get(key: string): V | undefined {
    const hash = hashOf(key);
    let node = this.root;
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

  /** This table with `key` set to `value`; this very table when it already holds that value. */
  set(key: string, value: V): Table<V> {
    const leaf = new Leaf(key, hashOf(key), value);
    if (this.root === undefined) return new Table(leaf);
    const root = insert(this.root, 0, leaf);
    return root === this.root ? this : new Table(root);
  }

  remove(key: string): Table<V> {
    if (this.root === undefined) return this;
    const root = without(this.root, 0, hashOf(key), key);
    return root === this.root ? this : new Table(root);
  }

  get isEmpty(): boolean {
    return this.root === undefined;
  }

  *entries(): Generator<readonly [string, V]> {
    for (const leaf of leavesOf(this.root)) yield [leaf.key, leaf.value];
  }

  *values(): Generator<V> {
    for (const leaf of leavesOf(this.root)) yield leaf.value;
  }

  *keys(): Generator<string> {
    for (const leaf of leavesOf(this.root)) yield leaf.key;
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
    diffNodes(was.root, now.root, out);
    return out;
  }
}
