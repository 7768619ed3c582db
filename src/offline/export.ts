// Streams the event log in canonical order, page by page, so memory stays flat however long the log.
//
// Canonical order is occurred-at, then a data-derived order among events of the same instant
// (src/domain/canonical-order.ts). Only events of one instant constrain each other, so the log is
// read in (occurredAt, seq) order through the occurredAt index, in pages, and each group of events
// sharing one instant is put in canonical order by canonicalOrder before it is written. Memory holds
// one page plus the current same-instant group (Stripe's timestamps are whole seconds: a group is the
// events of one second).
//
// The export is a consistent cut: only events with seq up to the largest seq at the start are
// written. Appends take turns (seq order is commit order), so that is exactly the set of events
// stored when the export began, even while webhooks keep arriving.
import { emptyCatalog } from "../domain/catalog.js";
import { canonicalOrder } from "../domain/canonical-order.js";
import { noHint, type NormalizedEvent } from "../domain/event.js";
import type { Source } from "../domain/source.js";
import type { Instant } from "../domain/time.js";
import type { Database } from "../store/database.js";
import { readEventsInTimeOrder, type StoredEvent } from "../store/events.js";
import { lastEventSeq } from "../store/partition.js";
import { sqlOf } from "../store/sql.js";
import { normalizeStored } from "../store/normalize-stored.js";

export type ExportOptions = {
  /** Only events that occurred at or after this instant. */
  readonly since?: Instant | null;
  readonly provider?: Source | null;
  /** Rows read per query (default 1000). */
  readonly pageSize?: number;
};

/**
 * The hint that places an event among its same-instant neighbours. Hints come from the event alone
 * (no catalog setting affects them), so the empty catalog is enough. An event its normalizer cannot
 * read is placed by the fixed fallback key (provider, type, id) and exported all the same.
 */
const placement = (event: StoredEvent): NormalizedEvent => {
  try {
    return normalizeStored(event, emptyCatalog);
  } catch {
    return { provider: event.provider, eventId: event.providerEventId, type: event.type, occurredAt: event.occurredAt, hint: noHint, facts: [] };
  }
};

/** Puts one same-instant group in canonical order. */
const orderGroup = (group: readonly StoredEvent[]): StoredEvent[] => {
  if (group.length < 2) return [...group];
  const byNormalized = new Map<NormalizedEvent, StoredEvent>(group.map((e) => [placement(e), e]));
  return canonicalOrder([...byNormalized.keys()]).map((n) => byNormalized.get(n)!);
};

/** The stored events, in canonical order, read in pages. */
export async function* exportEvents(db: Database, options: ExportOptions = {}): AsyncGenerator<StoredEvent> {
  const take = options.pageSize ?? 1000;
  const upToSeq = await lastEventSeq(db);
  if (upToSeq === 0) return;
  const sql = sqlOf(db);
  let after: StoredEvent | null = null;
  let group: StoredEvent[] = [];
  for (;;) {
    const page = { after, take, upToSeq, provider: options.provider ?? null, since: options.since ?? null };
    const events = await readEventsInTimeOrder(sql, page);
    for (const event of events) {
      if (group.length > 0 && group[0]!.occurredAt !== event.occurredAt) {
        yield* orderGroup(group);
        group = [];
      }
      group.push(event);
    }
    if (events.length < take) break;
    after = events[events.length - 1]!;
  }
  yield* orderGroup(group);
}
