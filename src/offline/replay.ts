// Offline replay: folds an exported event log with the same normalizers and the same pure resolver
// the server uses, with no database, and returns the state it gives (users, subscriptions, orders,
// grants, entitlements at an instant, the transition log), shaped as the projections store it.
//
// Also the library entry `verity/replay` (package.json "exports": the JavaScript and type
// declarations compiled to dist when the package installs, so plain Node imports it):
//
//   import { replay, loadCatalogFile } from "verity/replay";
//   const result = await replay(lines, loadCatalogFile("verity.config.json"), { at: Date.now() });
//
// Nothing here reads a clock: the instant for entitlements is an argument.
import { Either } from "effect";
import { loadCatalog } from "../config/catalog.js";
import type { Catalog } from "../domain/catalog.js";
import { entitlementsAt, type EntitlementView } from "../domain/entitlements.js";
import type { NormalizedEvent } from "../domain/event.js";
import { replayEvents } from "../domain/resolver/step.js";
import type { State, Transition } from "../domain/state.js";
import type { StoredEvent } from "../store/events.js";
import { normalizeStored } from "../store/normalize-stored.js";
import { decodeLine, ExportFormatError, fromExported, type ExportedEvent } from "./ndjson.js";
import { projectionRows, toGrant } from "../store/projection-rows.js";
import { snapshotOfRows, type Snapshot } from "./snapshot.js";
import { countedReading } from "../domain/entitlements.js";
import { APP_SOURCE } from "../domain/source.js";
import { countersOf, type UsageRecord } from "../domain/usage.js";
import { USAGE_EVENT_TYPE, usageRecordOf } from "../store/usage-body.js";
import { counterSnapshot, leaseSnapshot, type SnapshotCounter, type SnapshotLease } from "./usage.js";
import { activeLeases, leasesOf, type Lease, type LeaseAcquired, type LeaseReleased } from "../domain/leases.js";
import { acquiredOf, LEASE_ACQUIRED_TYPE, LEASE_RELEASED_TYPE, releasedOf } from "../store/lease-body.js";
import { activationsOf, type ActivationFact } from "../domain/activations.js";
import { activationFactOf, ACTIVATION_TYPES } from "../store/activation-body.js";
import { activationSnapshot, type ActivationSnapshot } from "./activations.js";

export { ExportFormatError, type ExportedEvent } from "./ndjson.js";
export type { Snapshot } from "./snapshot.js";
export type { Catalog } from "../domain/catalog.js";

/** NDJSON lines (as read, one per element) or parsed export records, in any order, duplicates allowed. */
export type ReplaySource = Iterable<string | ExportedEvent> | AsyncIterable<string | ExportedEvent>;

export type ReplayOptions = {
  /** The instant entitlements are evaluated at (epoch milliseconds or a Date). */
  readonly at: number | Date;
  /** Called after each line or record is read, with how many were read so far. */
  readonly onProgress?: (read: number) => void;
};

export type EntitlementAt = Omit<EntitlementView, "resetsAt"> & { readonly resetsAt: string | null };

export type UserEntitlements = { readonly userId: string; readonly appUserId: string | null; readonly entitlements: readonly EntitlementAt[] };

export type ReplayResult = Snapshot & {
  /** The usage counters the app's usage records sum to. */
  readonly usage: readonly SnapshotCounter[];
  /** The concurrency leases the app's lease events fold to. */
  readonly leases: readonly SnapshotLease[];
  /** The activation codes and activations the app's activation events fold to. */
  readonly activations: ActivationSnapshot;
  /** Credits the usage records drew, per subject and lot (`subject#lot`), sorted. */
  readonly creditUses: Readonly<Record<string, number>>;
  /** The instant entitlements were evaluated at, ISO 8601. */
  readonly at: string;
  /** Distinct events folded. */
  readonly events: number;
  /** Every user's entitlements at `at`: one entry per feature the catalog knows. */
  readonly entitlements: readonly UserEntitlements[];
  /** The resolver's own output, for callers that want more than the projections hold. */
  readonly state: State;
  readonly foldTransitions: readonly Transition[];
};

/** Reads and validates a plan catalog file; throws its ConfigError (every problem, with its JSON path). */
export const loadCatalogFile = (file: string): Catalog => Either.getOrThrowWith(loadCatalog(file), (e) => e);

/** A stored or exported event through the normalizers, exactly as the projector does it. */
export const normalizeForReplay = (event: StoredEvent, catalog: Catalog, line: number | null = null): NormalizedEvent => {
  try {
    return normalizeStored(event, catalog);
  } catch (e) {
    const why = e instanceof SyntaxError ? `body is not valid JSON (${e.message})` : `cannot normalize: ${(e as Error).message}`;
    throw new ExportFormatError({ reason: `${event.provider} event ${event.providerEventId}: ${why}`, line });
  }
};

/** One of the app's events (a usage record, a lease taken or released, an activation step) read into `into`, or an ExportFormatError naming its line. */
const readAppEvent = (event: StoredEvent, line: number, into: { usage: UsageRecord[]; acquired: LeaseAcquired[]; released: LeaseReleased[]; activations: ActivationFact[] }): void => {
  const body = event.bodyText ?? event.rawBody;
  try {
    if (event.type === USAGE_EVENT_TYPE) into.usage.push(usageRecordOf(body));
    else if (event.type === LEASE_ACQUIRED_TYPE) into.acquired.push(acquiredOf(body));
    else if (event.type === LEASE_RELEASED_TYPE) into.released.push(releasedOf(body));
    else if ((ACTIVATION_TYPES as readonly string[]).includes(event.type)) into.activations.push(activationFactOf(body));
    else throw new Error(`unknown type "${event.type}"`);
  } catch (e) {
    throw new ExportFormatError({ reason: `app event ${event.providerEventId}: ${(e as Error).message}`, line });
  }
};

/** Folds normalized events (any order, duplicates ignored) and sums usage records into a replay result at `at`. */
export type AppRecords = { readonly usage: readonly UsageRecord[]; readonly acquired: readonly LeaseAcquired[]; readonly released: readonly LeaseReleased[]; readonly activations?: readonly ActivationFact[] };

const NO_APP_RECORDS: AppRecords = { usage: [], acquired: [], released: [], activations: [] };

export const foldNormalized = (events: readonly NormalizedEvent[], catalog: Catalog, at: number, app: AppRecords = NO_APP_RECORDS): ReplayResult => {
  const records = app.usage;
  const leases = leasesOf(app.acquired, app.released);
  const leasesBySubject = new Map<string, Lease[]>();
  for (const l of leases.values()) leasesBySubject.set(l.subject, [...(leasesBySubject.get(l.subject) ?? []), l]);
  const { state, transitions } = replayEvents(catalog, events);
  // The rows the projector would write: the snapshot and the entitlements both come from them.
  const rows = projectionRows(state, transitions, catalog);
  const snapshot = snapshotOfRows(rows);
  const grantsOf = new Map<string, (typeof rows.grants)[number][]>();
  for (const g of rows.grants) {
    const held = grantsOf.get(g.userId);
    if (held) held.push(g);
    else grantsOf.set(g.userId, [g]);
  }
  // A usage record counts once per subject and idempotency key, as the store keeps it.
  const unique = new Map(records.map((r) => [`${r.subject}\u0000${r.idempotencyKey}`, r]));
  const counters = countersOf(unique.values());
  const billing = new Map(rows.subscriptions.map((s) => [s.id, { start: s.currentPeriodStart?.getTime() ?? null, end: s.currentPeriodEnd?.getTime() ?? null }]));
  const entitlements = snapshot.users.map((u) => ({
    userId: u.id,
    appUserId: u.appUserId,
    entitlements: entitlementsAt(
      (grantsOf.get(u.id) ?? []).map(toGrant),
      catalog,
      at,
      countedReading(counters, u.appUserId ?? u.id, (g) => (g.sourceKind === "subscription" ? (billing.get(g.sourceId) ?? null) : null), at),
      (g) => activeLeases(leasesBySubject.get(u.appUserId ?? u.id) ?? [], g.feature, at),
    ).map((e) => ({
      ...e,
      resetsAt: e.resetsAt === null ? null : new Date(e.resetsAt).toISOString(),
    })),
  }));
  const distinct = new Set(events.map((e) => `${e.provider}:${e.eventId}`)).size;
  const usage = counterSnapshot(counters.values());
  const drawn = new Map<string, number>();
  for (const r of unique.values()) for (const take of r.credits?.takes ?? []) drawn.set(`${r.subject}#${take.lot}`, (drawn.get(`${r.subject}#${take.lot}`) ?? 0) + take.amount);
  const creditUses = Object.fromEntries([...drawn].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const activationFacts = app.activations ?? [];
  const { codes, activations } = activationsOf(activationFacts);
  const activationEvents = new Set(activationFacts.map((f) => `${f._tag}:${f._tag === "CodeIssued" || f._tag === "CodeRedeemed" ? f.fact.codeHash : f._tag === "RefreshRotated" ? f.fact.fromHash : f.fact.activationId}`)).size;
  return {
    at: new Date(at).toISOString(),
    events: distinct + unique.size + leases.size + new Set(app.released.map((r) => r.leaseId)).size + activationEvents,
    ...snapshot,
    usage,
    leases: leaseSnapshot(leases.values()),
    activations: activationSnapshot(codes.values(), activations.values()),
    creditUses,
    entitlements,
    state,
    foldTransitions: transitions,
  };
};

/**
 * Folds an exported event log. Lines are parsed and normalized as they are read (the raw body
 * parsed exactly as the projector parses it), so only the normalized events are held; a malformed
 * line throws an ExportFormatError naming its line number. Blank lines are skipped.
 */
export const replay = async (source: ReplaySource, catalog: Catalog, options: ReplayOptions): Promise<ReplayResult> => {
  const at = options.at instanceof Date ? options.at.getTime() : options.at;
  if (!Number.isFinite(at)) throw new TypeError("replay: options.at must be a valid instant");
  const normalized: NormalizedEvent[] = [];
  const app = { usage: [] as UsageRecord[], acquired: [] as LeaseAcquired[], released: [] as LeaseReleased[], activations: [] as ActivationFact[] };
  let line = 0;
  for await (const item of source) {
    line += 1;
    const stored = typeof item === "string" ? decodeLine(item, line) : fromExported(item, line);
    if (stored !== null && stored.provider === APP_SOURCE) readAppEvent(stored, line, app);
    else if (stored !== null) normalized.push(normalizeForReplay(stored, catalog, line));
    options.onProgress?.(line);
  }
  return foldNormalized(normalized, catalog, at, app);
};
