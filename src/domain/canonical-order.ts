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

/** Orders one group of same-instant events: topological over `mustPrecede`, smallest fallback first. */
const orderTies = (group: readonly NormalizedEvent[]): NormalizedEvent[] => {
  if (group.length < 2) return [...group];
  const sorted = [...group].sort(compareFallback);
  const indegree = sorted.map((b) => sorted.filter((a) => a !== b && mustPrecede(a, b)).length);
  const done = new Set<number>();
  const out: NormalizedEvent[] = [];
  while (out.length < sorted.length) {
    let next = sorted.findIndex((_, i) => !done.has(i) && indegree[i] === 0);
    // A cycle (contradictory data) falls back to the fixed key so the order stays total.
    if (next === -1) next = sorted.findIndex((_, i) => !done.has(i));
    done.add(next);
    const chosen = sorted[next]!;
    out.push(chosen);
    sorted.forEach((b, i) => {
      if (!done.has(i) && mustPrecede(chosen, b)) indegree[i] = indegree[i]! - 1;
    });
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
