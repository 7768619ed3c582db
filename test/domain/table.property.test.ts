// The persistent table against a plain Map: same entries after any writes, earlier versions
// untouched, one shape per set of entries, and `changes` equal to a comparison of everything.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Table } from "../../src/domain/table.js";

type Op = { readonly kind: "set"; readonly key: string; readonly value: number } | { readonly kind: "remove"; readonly key: string };

// Few distinct keys so writes collide and removals hit; "__proto__" and the empty key included.
const key = fc.oneof(fc.constantFrom("", "__proto__", "constructor", "a", "b"), fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 400 }).map((n) => `k${n}`));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key, value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant("remove" as const), key }),
);

const apply = (table: Table<number>, model: Map<string, number>, o: Op): Table<number> => {
  if (o.kind === "set") return model.set(o.key, o.value), table.set(o.key, o.value);
  return model.delete(o.key), table.remove(o.key);
};

const sortedEntries = (t: Table<number>) => [...t.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe("Table", () => {
  it("holds what a Map holds after any writes, and every earlier version stays as it was", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const model = new Map<string, number>();
        const versions: [Table<number>, [string, number][]][] = [];
        let table = Table.empty<number>();
        for (const o of ops) {
          table = apply(table, model, o);
          versions.push([table, [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
        }
        for (const [k, v] of model) expect(table.get(k)).toBe(v);
        expect(table.get("never-written")).toBeUndefined();
        for (const [version, entries] of versions) expect(sortedEntries(version)).toStrictEqual(entries);
        expect(table.isEmpty).toBe(model.size === 0);
      }),
    );
  });

  it("holds the same entries whatever order wrote them", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer(), (ops, seed) => {
        const model = new Map<string, number>();
        let written = Table.empty<number>();
        for (const o of ops) written = apply(written, model, o);
        const shuffled = [...model.entries()].sort(([a], [b]) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (a < b ? 1 : -1));
        let fresh = Table.empty<number>();
        for (const [k, v] of shuffled) fresh = fresh.set(k, v);
        expect(Table.changes(written, fresh)).toStrictEqual([]);
        expect(written.toRecord()).toStrictEqual(fresh.toRecord());
        expect(JSON.stringify(written)).toBe(JSON.stringify(Object.fromEntries([...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))));
      }),
    );
  });

  it("keeps keys whose 32-bit hashes are equal apart, and large tables whole", () => {
    // Keys whose FNV-1a hashes are equal, found by search (a birthday match among a few 100,000).
    const fnv = (s: string) => {
      let h = 0x811c9dc5;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      return h >>> 0;
    };
    const seen = new Map<number, string>();
    const pairs: [string, string][] = [];
    for (let i = 0; pairs.length < 3; i++) {
      const k = `key-${i}`;
      const other = seen.get(fnv(k));
      if (other !== undefined) pairs.push([other, k]);
      else seen.set(fnv(k), k);
    }
    let table = Table.empty<number>();
    for (let i = 0; i < 20000; i++) table = table.set(`stripe:sub_${i}`, i);
    for (const [a, b] of pairs) table = table.set(a, 1).set(b, 2);
    for (const [a, b] of pairs) expect([table.get(a), table.get(b)]).toStrictEqual([1, 2]);
    for (let i = 0; i < 20000; i++) expect(table.get(`stripe:sub_${i}`)).toBe(i);
    const [[a, b]] = pairs as [[string, string]];
    const removed = table.remove(a);
    expect([removed.get(a), removed.get(b), table.get(a)]).toStrictEqual([undefined, 2, 1]);
    expect(removed.toRecord()).toStrictEqual(Object.fromEntries([...table.entries()].filter(([k]) => k !== a).sort(([x], [y]) => (x < y ? -1 : 1))));
    expect(Table.changes(table, removed)).toStrictEqual([{ key: a, was: 1, now: undefined }]);
    for (let i = 0; i < 20000; i += 2) table = table.remove(`stripe:sub_${i}`);
    expect([...table.keys()].length).toBe(10000 + 6);
    expect(table.get("stripe:sub_2")).toBeUndefined();
    expect(table.get("stripe:sub_3")).toBe(3);
  });

  it("reports exactly the entries that differ between two versions", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.array(op, { maxLength: 40 }), (base, more) => {
        const model = new Map<string, number>();
        let was = Table.empty<number>();
        for (const o of base) was = apply(was, model, o);
        let now = was;
        for (const o of more) now = apply(now, model, o);
        const expected = new Map<string, [number | undefined, number | undefined]>();
        const keys = new Set([...was.keys(), ...now.keys()]);
        for (const k of keys) if (was.get(k) !== now.get(k)) expected.set(k, [was.get(k), now.get(k)]);
        const got = new Map(Table.changes(was, now).map((c) => [c.key, [c.was, c.now] as [number | undefined, number | undefined]]));
        expect(got).toStrictEqual(expected);
      }),
    );
  });

  it("a transient table is written in place, leaving the table it started from as it was; made persistent, it is copied again", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), fc.array(op, { maxLength: 150 }), fc.array(op, { maxLength: 20 }), (base, during, after) => {
        const model = new Map<string, number>();
        let start = Table.empty<number>();
        for (const o of base) start = apply(start, model, o);
        const frozen = sortedEntries(start);
        let edited = start.transient();
        for (const o of during) edited = apply(edited, model, o);
        expect(sortedEntries(start), "the table the transient one started from").toStrictEqual(frozen);
        for (const o of [...base, ...during]) expect(edited.get(o.key), `transient read of ${o.key}`).toBe(model.get(o.key));
        const persisted = edited.persistent();
        const atPersist = sortedEntries(persisted);
        expect(atPersist).toStrictEqual([...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
        let later = persisted;
        for (const o of after) later = apply(later, model, o);
        expect(sortedEntries(persisted), "a persisted table once written again").toStrictEqual(atPersist);
        expect(sortedEntries(later)).toStrictEqual([...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }),
    );
  });
});
