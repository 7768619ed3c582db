// Canonical order: a total order over events derived from the events themselves, never from
// arrival. Events are ordered by occurred-at; events of the same instant are ordered by what the
// data says (creation before update, an update after the state it left, termination last), and
// only then by a fixed fallback key for events that commute.
import type { NormalizedEvent, OrderHint, Scalar } from "./event.js";

const phaseRank: Record<OrderHint["phase"], number> = { create: 0, update: 1, other: 2, derived: 3, terminal: 4 };

const compareFallback = (a: NormalizedEvent, b: NormalizedEvent): number =>
  phaseRank[a.hint.phase] - phaseRank[b.hint.phase] ||
  (a.hint.version ?? -Infinity) - (b.hint.version ?? -Infinity) ||
  compareText(a.provider, b.provider) ||
  compareText(a.type, b.type) ||
  compareText(a.eventId, b.eventId);

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** True when `later` is an update that names, as the state it left, the state `earlier` produced. */
const leftStateOf = (later: OrderHint, earlier: OrderHint): boolean => {
  if (later.left === null) return false;
  const fields = Object.keys(later.left);
  return fields.length > 0 && fields.every((f) => f in earlier.state && earlier.state[f] === later.left![f]);
};

/** What `field` was just before the update: the value it names as left, else (unchanged) its own value. */
const valueBefore = (hint: OrderHint, field: string): Scalar | undefined =>
  hint.left !== null && Object.hasOwn(hint.left, field) ? hint.left[field] : hint.state[field];

/**
 * Can `later` directly follow `earlier`? Every field either of them changed must read, just before
 * `later`, as `earlier` left it. An update's previous state names only what it changed, so a field
 * it does not name was the same before it: an update that names no scalar (a price change lists only
 * the nested items) is still placed by the fields the other update changed.
 */
const canFollow = (later: OrderHint, earlier: OrderHint): boolean => {
  if (later.left === null) return false;
  const fields = new Set([...Object.keys(later.left), ...Object.keys(earlier.left ?? {})]);
  return fields.size > 0 && [...fields].every((f) => Object.hasOwn(earlier.state, f) && valueBefore(later, f) === earlier.state[f]);
};

/** Must `a` come before `b`? Only events about the same object constrain each other. */
const mustPrecede = (a: NormalizedEvent, b: NormalizedEvent): boolean => {
  if (a.hint.object === null || a.hint.object !== b.hint.object) return false;
  const ra = phaseRank[a.hint.phase];
  const rb = phaseRank[b.hint.phase];
  if (ra !== rb) return ra < rb;
  // The full check decides when it can; else what `b` names as left (a partial set may lack a step).
  const follows = canFollow(b.hint, a.hint);
  if (follows !== canFollow(a.hint, b.hint)) return follows;
  return leftStateOf(b.hint, a.hint) && !leftStateOf(a.hint, b.hint);
};

/** A set of indices that gives up its smallest first: a binary min-heap. */
const minHeap = () => {
  const heap: number[] = [];
  const push = (x: number): void => {
    let i = heap.length;
    heap.push(x);
    for (let parent = (i - 1) >> 1; i > 0 && heap[parent]! > x; i = parent, parent = (i - 1) >> 1) heap[i] = heap[parent]!;
    heap[i] = x;
  };
  const pop = (): number | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let i = 0;
    for (let child = 1; child < heap.length; i = child, child = 2 * i + 1) {
      if (child + 1 < heap.length && heap[child + 1]! < heap[child]!) child += 1;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
    }
    heap[i] = last;
    return top;
  };
  return { push, pop };
};

/** Indices of the events about each object: only these constrain each other (see mustPrecede). */
const byObject = (events: readonly NormalizedEvent[]): number[][] => {
  const groups = new Map<string, number[]>();
  events.forEach((e, i) => {
    if (e.hint.object === null) return;
    const group = groups.get(e.hint.object);
    if (group) group.push(i);
    else groups.set(e.hint.object, [i]);
  });
  return [...groups.values()];
};

/**
 * Orders one group of same-instant events: topological over `mustPrecede`, smallest fallback first.
 * Pairs are compared within one object only, so a second in which many users' events tie costs what
 * each object's events cost, not the square of the group.
 */
const orderTies = (group: readonly NormalizedEvent[]): NormalizedEvent[] => {
  if (group.length < 2) return [...group];
  const sorted = [...group].sort(compareFallback);
  const successors = sorted.map((): number[] => []);
  const indegree = sorted.map(() => 0);
  for (const members of byObject(sorted)) {
    for (const a of members) {
      for (const b of members) {
        if (a === b || !mustPrecede(sorted[a]!, sorted[b]!)) continue;
        successors[a]!.push(b);
        indegree[b] = indegree[b]! + 1;
      }
    }
  }
  const ready = minHeap();
  indegree.forEach((n, i) => {
    if (n === 0) ready.push(i);
  });
  const done = sorted.map(() => false);
  let firstLeft = 0;
  const out: NormalizedEvent[] = [];
  while (out.length < sorted.length) {
    // A cycle (contradictory data) leaves nothing ready: the fixed key decides, so the order stays total.
    let next = ready.pop();
    if (next === undefined) {
      while (done[firstLeft]) firstLeft += 1;
      next = firstLeft;
    }
    done[next] = true;
    out.push(sorted[next]!);
    for (const b of successors[next]!) {
      if (done[b]) continue;
      indegree[b] = indegree[b]! - 1;
      if (indegree[b] === 0) ready.push(b);
    }
  }
  return out;
};

/** Deduplicates by (provider, event id) and returns the events in canonical order. */
export const canonicalOrder = (events: readonly NormalizedEvent[]): NormalizedEvent[] => {
  const unique = new Map<string, NormalizedEvent>();
  for (const e of events) unique.set(`${e.provider}:${e.eventId}`, e);
  const byInstant = new Map<number, NormalizedEvent[]>();
  for (const e of unique.values()) {
    const group = byInstant.get(e.occurredAt);
    if (group) group.push(e);
    else byInstant.set(e.occurredAt, [e]);
  }
  return [...byInstant.keys()].sort((a, b) => a - b).flatMap((t) => orderTies(byInstant.get(t)!));
};
