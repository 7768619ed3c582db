// Usage counters offline: what the stored usage records sum to (replay of an export, verify of a
// database), and how that compares with the counters the database holds. Conservation: a counter
// equals the sum of its period's records; and each record's stated counter (`usedAfter`) is the
// sum of its counter's records up to it, in the order they were accepted.
import { counterKey, countRecord, unscaleUnits, type UsageCounter, type UsageRecord } from "../domain/usage.js";
import type { Lease } from "../domain/leases.js";
import type { Difference } from "./diff.js";

/** A difference in the usage counters, the leases or the activations (compared apart from the projections' tables). */
export type UsageDifference = Omit<Difference, "entity"> & { readonly entity: "usage" | "lease" | "activation" };

/** A lease as a snapshot shows it: instants as ISO text. */
export type SnapshotLease = { readonly id: string; readonly subject: string; readonly userId: string; readonly feature: string; readonly acquiredAt: string; readonly expiresAt: string; readonly releasedAt: string | null };

export const leaseSnapshot = (leases: Iterable<Lease>): SnapshotLease[] =>
  [...leases]
    .map((l) => ({
      id: l.id,
      subject: l.subject,
      userId: l.userId,
      feature: l.feature,
      acquiredAt: new Date(l.acquiredAt).toISOString(),
      expiresAt: new Date(l.expiresAt).toISOString(),
      releasedAt: l.releasedAt === null ? null : new Date(l.releasedAt).toISOString(),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/**
 * Every difference between two lists of rows with ids: a row only on one side, or a field that
 * differs. `prefix` names the kind of row inside `entity` (e.g. "code" within "activation").
 */
export const diffById = <T extends { readonly id: string }>(entity: UsageDifference["entity"], left: readonly T[], right: readonly T[], prefix = ""): UsageDifference[] => {
  const a = new Map(left.map((r) => [r.id, r]));
  const b = new Map(right.map((r) => [r.id, r]));
  const out: UsageDifference[] = [];
  for (const id of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const ra = a.get(id);
    const rb = b.get(id);
    const named = prefix === "" ? id : `${prefix} ${id}`;
    if (ra === undefined || rb === undefined) out.push({ entity, id: named, field: null, left: ra, right: rb });
    else for (const field of Object.keys(ra) as (keyof T & string)[]) if (ra[field] !== rb[field]) out.push({ entity, id: named, field, left: ra[field], right: rb[field] });
  }
  return out;
};

/** Every difference between two lease snapshots. */
export const diffLeases = (left: readonly SnapshotLease[], right: readonly SnapshotLease[]): UsageDifference[] => diffById("lease", left, right);

/** A counter as a snapshot shows it: scaled units, instants as ISO text. */
export type SnapshotCounter = {
  readonly subject: string;
  readonly feature: string;
  readonly periodStart: string;
  readonly periodEnd: string | null;
  /** Scaled units (units × 10^decimals of the meter). */
  readonly used: number;
  readonly records: number;
};

const shown = (c: UsageCounter): SnapshotCounter => ({
  subject: c.subject,
  feature: c.feature,
  periodStart: new Date(c.periodStart).toISOString(),
  periodEnd: c.periodEnd === null ? null : new Date(c.periodEnd).toISOString(),
  used: c.used,
  records: c.records,
});

const idOf = (c: SnapshotCounter): string => `${c.subject}#${c.feature}#${c.periodStart}`;

/** Counters sorted by subject, feature and period. */
export const counterSnapshot = (counters: Iterable<UsageCounter>): SnapshotCounter[] =>
  [...counters].map(shown).sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));

/** Every difference between two counter snapshots (`usage` rows, by subject#feature#period). */
export const diffUsage = (left: readonly SnapshotCounter[], right: readonly SnapshotCounter[]): UsageDifference[] => {
  const a = new Map(left.map((c) => [idOf(c), c]));
  const b = new Map(right.map((c) => [idOf(c), c]));
  const out: UsageDifference[] = [];
  for (const id of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const ca = a.get(id);
    const cb = b.get(id);
    if (ca === undefined || cb === undefined) {
      out.push({ entity: "usage", id, field: null, left: ca, right: cb });
      continue;
    }
    for (const field of ["periodEnd", "used", "records"] as const) {
      if (ca[field] !== cb[field]) out.push({ entity: "usage", id, field, left: ca[field], right: cb[field] });
    }
  }
  return out;
};

/**
 * The stored records summed as they stream by, keeping per counter only each record's stated
 * counter and units (two numbers), so a log of millions of records is checked in bounded memory.
 */
export class UsageTally {
  readonly counters = new Map<string, UsageCounter>();
  /** Credits drawn per subject and lot (`${subject}#${lot}`), as the records state them. */
  readonly drawn = new Map<string, number>();
  private readonly stated = new Map<string, { readonly record: UsageRecord; readonly pairs: number[] }>();
  records = 0;

  add(r: UsageRecord): void {
    countRecord(this.counters, r);
    this.records += 1;
    for (const t of r.credits?.takes ?? []) this.drawn.set(`${r.subject}#${t.lot}`, (this.drawn.get(`${r.subject}#${t.lot}`) ?? 0) + t.amount);
    const key = counterKey(r.subject, r.feature, r.period.start);
    const held = this.stated.get(key);
    if (held) held.pairs.push(r.usedAfter, r.units);
    else this.stated.set(key, { record: r, pairs: [r.usedAfter, r.units] });
  }

  /**
   * Counters whose records' stated counters do not follow from one another: sorted by the counter
   * they state, each record must state the previous one plus its own units. A record altered or
   * lost, or two processes deciding on one counter at once, shows here.
   */
  unbalanced(): UsageDifference[] {
    const out: UsageDifference[] = [];
    for (const { record: r, pairs } of this.stated.values()) {
      const order = Array.from({ length: pairs.length / 2 }, (_, i) => i).sort((a, b) => pairs[2 * a]! - pairs[2 * b]!);
      let sum = 0;
      for (const i of order) {
        sum += pairs[2 * i + 1]!;
        const stated = pairs[2 * i]!;
        if (stated !== sum) {
          out.push({ entity: "usage", id: idOf(shown(this.counters.get(counterKey(r.subject, r.feature, r.period.start))!)), field: "usedAfter", left: unscaleUnits(stated, r.decimals), right: unscaleUnits(sum, r.decimals) });
          sum = stated;
        }
      }
    }
    return out;
  }
}
