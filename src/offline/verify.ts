// `verity verify`: replays the event log offline and compares the result with the live
// projections, field by field. No difference is the replay-equivalence property, checked on the
// operator's own data.
//
// A user's rows depend on the events of its connected component alone (src/domain/components.ts),
// so verify walks the store one group of components at a time: it folds a group's events, reads the
// rows of the users that fold gives, compares, and forgets them. Memory holds one group, a bit per
// stored event and the ids of the users compared; time grows with the log, never faster.
//
// The groups come from the projector's own bookkeeping, which is itself under test here, so the walk
// checks it as it goes: each event in exactly one group, no event naming a key outside its group,
// no user in two groups, and afterwards no row owned by a user no group gave. Where the bookkeeping
// fails a check, verify folds the whole log at once instead, as replay does, and says so.
import type { Catalog } from "../domain/catalog.js";
import { eventKeys } from "../domain/components.js";
import type { NormalizedEvent } from "../domain/event.js";
import { replayEvents } from "../domain/resolver/step.js";
import { componentsOfKeys, eventSeqsOfComponents, keysOfComponents } from "../store/components.js";
import type { Database } from "../store/database.js";
import { componentPage, eventsBySeq, lastEventSeq, seqPage, unprojectedSeqs } from "../store/partition.js";
import { noRows, projectionRows } from "../store/projection-rows.js";
import { catalogFingerprint } from "../projection/projector.js";
import { projectionProgress } from "../store/progress.js";
import { rowsNotOwnedBy, rowsOfUsers, tableSizes } from "../store/rows-of-users.js";
import { sqlOf } from "../store/sql.js";
import { diffSnapshots, mergePieces, type Difference } from "./diff.js";
import { exportEvents } from "./export.js";
import { encodeLine } from "./ndjson.js";
import { normalizeForReplay, replay } from "./replay.js";
import { allCounters, storedUsageRecords } from "../store/usage.js";
import { counterSnapshot, diffLeases, diffUsage, leaseSnapshot, UsageTally, type UsageDifference } from "./usage.js";
import { allLeases, leasesFromEvents } from "../store/leases.js";
import { activationsFromEvents, storedActivations } from "../store/activations.js";
import { activationSnapshot, diffActivations } from "./activations.js";
import { allCreditUses } from "../store/credits.js";
import { databaseSnapshot, snapshotCounts, snapshotOfRows, type Snapshot } from "./snapshot.js";

type Counts = Record<keyof Snapshot, number>;

export type VerifyResult = {
  /** Differences as (left) projections vs (right) replay; usage counters vs the sums of their records last. */
  readonly differences: readonly (Difference | UsageDifference)[];
  /** Usage counters the database holds and usage records summed. */
  readonly usage: { readonly counters: number; readonly records: number };
  /** Rows the projections hold, per table. */
  readonly counts: Counts;
  /** Events replayed. */
  readonly events: number;
  /** Stored events the projections do not include yet (the server catches up on them). */
  readonly pending: number;
  /** False when the projections were derived with another plan catalog or Verity version. */
  readonly sameCatalog: boolean;
  /** True when the database kept changing during every attempt: the comparison may not be exact. */
  readonly unsettled: boolean;
  /** Why the whole log was folded at once instead of component by component (null: it was not). */
  readonly wholeLog: string | null;
};

export type VerifyOptions = {
  readonly at: number;
  readonly attempts?: number;
  readonly onProgress?: (events: number) => void;
  /** Events folded per group of components (default 2,000). */
  readonly groupEvents?: number;
};

/** What changes whenever events are appended or projections rewritten. */
const watermark = async (db: Database): Promise<string> => {
  const p = await projectionProgress(db);
  return JSON.stringify([p.lastEventSeq, p.projected, p.lastFeedSeq, p.derivedWith]);
};

async function* lines(db: Database): AsyncGenerator<string> {
  for await (const event of exportEvents(db)) yield encodeLine(event);
}

const NOTHING: Snapshot = snapshotOfRows(noRows());

type Compared = { readonly differences: Difference[]; readonly counts: Counts; readonly events: number };

/** The bookkeeping failed a check: fold the whole log instead. */
class Unpartitioned {
  constructor(readonly reason: string) {}
}

const addCounts = (into: Counts, add: Counts): void => {
  for (const k of Object.keys(into) as (keyof Counts)[]) into[k] += add[k];
};

/** Compares component by component; an Unpartitioned when the bookkeeping cannot be trusted. */
const compareByComponent = async (db: Database, catalog: Catalog, options: VerifyOptions): Promise<Compared | Unpartitioned> => {
  const groupEvents = options.groupEvents ?? 2000;
  const sql = sqlOf(db);
  const last = await lastEventSeq(db);
  const inGroup = new Uint8Array(last + 1);
  const owners = new Set<string>();
  const pieces: Difference[] = [];
  const fetched = snapshotCounts(NOTHING);
  let events = 0;
  const normalize = (seqs: readonly number[]) => eventsBySeq(db, seqs).then((stored) => stored.map((e) => normalizeForReplay(e, catalog)));

  /** Folds the events of these components (and `extra` events, with `extraKeys`) and compares their users' rows. */
  const compareGroup = async (ids: readonly string[], extra: readonly number[] = [], extraKeys: readonly string[] = []): Promise<Unpartitioned | null> => {
    const seqs = [...new Set([...(await eventSeqsOfComponents(sql, ids)), ...extra])];
    for (const seq of seqs) {
      // Events appended after the cut may already be folded in: the attempt is then unsettled.
      if (seq > last) continue;
      if (inGroup[seq] === 1) return new Unpartitioned(`event #${seq} is counted in two components`);
      inGroup[seq] = 1;
    }
    const keys = new Set([...(await keysOfComponents(sql, ids)), ...extraKeys]);
    const folded: NormalizedEvent[] = await normalize(seqs);
    for (const event of folded) {
      const outside = eventKeys(event).find((k) => !keys.has(k));
      if (outside !== undefined) return new Unpartitioned(`event ${event.provider}:${event.eventId} names ${outside}, which its component does not hold`);
    }
    const { state, transitions } = replayEvents(catalog, folded);
    const replayed = snapshotOfRows(projectionRows(state, transitions, catalog));
    const users = replayed.users.map((u) => u.id);
    for (const u of users) {
      if (owners.has(u)) return new Unpartitioned(`user ${u} comes out of two components`);
      owners.add(u);
    }
    const live = snapshotOfRows(await rowsOfUsers(sql, users));
    addCounts(fetched, snapshotCounts(live));
    pieces.push(...diffSnapshots(live, replayed));
    events += folded.length;
    options.onProgress?.(events);
    return null;
  };

  // Events not projected yet belong with whichever components their keys reach: one group.
  const pending = await unprojectedSeqs(db, last);
  const done = new Set<string>();
  if (pending.length > 0) {
    const pendingKeys = [...new Set((await normalize(pending)).flatMap(eventKeys))];
    for (const id of (await componentsOfKeys(sql, pendingKeys)).values()) done.add(id);
    const failed = await compareGroup([...done], pending, pendingKeys);
    if (failed) return failed;
  }

  let group: string[] = [];
  let size = 0;
  for (let after: string | null = null; ; ) {
    const page = await componentPage(db, after, 1000);
    for (const c of page) {
      if (done.has(c.id)) continue;
      group.push(c.id);
      size += c.events;
      if (size >= groupEvents) {
        const failed = await compareGroup(group);
        if (failed) return failed;
        group = [];
        size = 0;
      }
    }
    if (page.length < 1000) break;
    after = page[page.length - 1]!.id;
  }
  if (group.length > 0) {
    const failed = await compareGroup(group);
    if (failed) return failed;
  }

  // Events in no component must name no key: they change nothing, and count as replayed.
  for (let after = 0; after < last; ) {
    const seqs = await seqPage(db, after, last, 5000);
    if (seqs.length === 0) break;
    const loose = seqs.filter((seq) => inGroup[seq] === 0);
    for (const event of loose.length === 0 ? [] : await normalize(loose)) {
      if (eventKeys(event).length > 0) return new Unpartitioned(`event ${event.provider}:${event.eventId} names keys but is in no component`);
      events += 1;
    }
    after = seqs[seqs.length - 1]!;
  }

  // Rows the walk did not read belong to users no replay gives: only in the projections.
  const total = await tableSizes(sql);
  const unread = new Set((Object.keys(total) as (keyof Counts)[]).filter((t) => total[t] !== fetched[t]));
  if (unread.size > 0) pieces.push(...diffSnapshots(snapshotOfRows(await rowsNotOwnedBy(sql, owners, unread)), NOTHING));
  return { differences: mergePieces(pieces), counts: total, events };
};

/** The whole log replayed at once and compared with every row: memory grows with the log. */
const compareWhole = async (db: Database, catalog: Catalog, options: VerifyOptions): Promise<Compared> => {
  const replayed = await replay(lines(db), catalog, { at: options.at, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  const live = await databaseSnapshot(db);
  return { differences: diffSnapshots(live, replayed), counts: snapshotCounts(live), events: replayed.events };
};

/**
 * Conservation: every usage counter against the sum of its stored records, and each record's
 * stated counter; every lease, activation code and activation against its events.
 */
const compareUsage = async (db: Database): Promise<{ readonly differences: UsageDifference[]; readonly counters: number; readonly records: number }> => {
  const sql = sqlOf(db);
  const tally = new UsageTally();
  for await (const r of storedUsageRecords(sql)) tally.add(r);
  const live = await allCounters(sql);
  const leases = diffLeases(leaseSnapshot(await allLeases(sql)), leaseSnapshot((await leasesFromEvents(sql)).values()));
  const stored = await storedActivations(db);
  const folded = await activationsFromEvents(sql);
  const activations = diffActivations(activationSnapshot(stored.codes.values(), stored.activations.values()), activationSnapshot(folded.codes.values(), folded.activations.values()));
  // Credits: what uses took from each lot, against the sum of the debits the records state.
  const { stored: creditsStored } = await allCreditUses(sql);
  const drawn = new Map<string, number>();
  for (const [key, n] of tally.drawn) drawn.set(key, n);
  const credits: UsageDifference[] = [];
  for (const key of [...new Set([...creditsStored.keys(), ...drawn.keys()])].sort()) {
    if (creditsStored.get(key) !== drawn.get(key)) credits.push({ entity: "usage", id: `credits#${key}`, field: "used", left: creditsStored.get(key), right: drawn.get(key) });
  }
  return {
    differences: [...diffUsage(counterSnapshot(live), counterSnapshot(tally.counters.values())), ...tally.unbalanced(), ...leases, ...activations, ...credits],
    counters: live.length,
    records: tally.records,
  };
};

/**
 * Replays and compares. When the database changes meanwhile (a running server ingesting), it tries
 * again, up to `attempts` times. `at` is the instant a whole-log replay evaluates entitlements at.
 */
export const verify = async (db: Database, catalog: Catalog, options: VerifyOptions): Promise<VerifyResult> => {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const before = await watermark(db);
    const partitioned = await compareByComponent(db, catalog, options);
    const compared = partitioned instanceof Unpartitioned ? await compareWhole(db, catalog, options) : partitioned;
    const usage = await compareUsage(db);
    const after = await watermark(db);
    if (before !== after && attempt < attempts) continue;
    const progress = await projectionProgress(db);
    return {
      ...compared,
      differences: [...compared.differences, ...usage.differences],
      usage: { counters: usage.counters, records: usage.records },
      pending: progress.events - progress.projected,
      sameCatalog: progress.derivedWith === null || progress.derivedWith === catalogFingerprint(catalog),
      unsettled: before !== after,
      wholeLog: partitioned instanceof Unpartitioned ? partitioned.reason : null,
    };
  }
};

/** Only the projection fields of a replay result. */
export const snapshotOf = (r: Snapshot): Snapshot => ({
  users: r.users,
  identities: r.identities,
  subscriptions: r.subscriptions,
  orders: r.orders,
  grants: r.grants,
  transitions: r.transitions,
});

/** The offline fold of the database's exported event log, shaped like databaseSnapshot. */
export const replaySnapshot = async (db: Database, catalog: Catalog): Promise<Snapshot> =>
  snapshotOf(await replay(lines(db), catalog, { at: 0 }));
