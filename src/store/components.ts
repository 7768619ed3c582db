// Connected components as the store keeps them (Component, ComponentKey) and their folded states:
// saved in the database and cached in memory, so an event later than every event of its component
// is folded onto the state instead of re-deriving the component from all its events. A state is
// current when its token is the component's: every projection of the component gives it a new one,
// so a state cached by one process is never used after another process (or a rebuild) changed it.
import { randomUUID } from "node:crypto";
import type { Catalog } from "../domain/catalog.js";
import type { NormalizedEvent } from "../domain/event.js";
import { stateFromRecords, type State } from "../domain/state.js";
import type { Database, Prisma as Client } from "./database.js";
import { insertRows, sqlValue } from "./insert-rows.js";
import type { Sql } from "./sql.js";
import { instantOf } from "./events.js";
import { Lru } from "./lru.js";
import type { DatabaseKind } from "./url.js";
import { Prisma } from "./generated/postgresql/client.js";

type Tx = Parameters<Parameters<Client["$transaction"]>[0]>[0];

export type ComponentHead = {
  readonly id: string;
  readonly token: string;
  /** occurredAt (ms) of the latest event folded in. */
  readonly watermark: number;
  readonly events: number;
  readonly stateToken: string | null;
  readonly stateEvents: number;
};

/**
 * A folded state as cached: current while `token` is its component's token. Beside it, in memory
 * only, the state before the watermark's instant and the events of that instant: an event of the
 * same instant (Stripe sends a renewal's invoice and subscription update in one second) is folded
 * with them onto that earlier state, in canonical order, instead of re-deriving the component.
 */
export type CachedState = {
  readonly token: string;
  readonly catalog: Catalog;
  readonly state: State;
  readonly savedSize: number;
  /** null when not known (a state read back from the database). */
  readonly beforeLastInstant: State | null;
  readonly lastInstant: readonly NormalizedEvent[];
};

/**
 * Folded states by component id, least recently used dropped first. A dropped state is read back
 * from the database when it was saved as of the current token, else the component is re-derived.
 */
export type StateCache = Lru<string, CachedState>;

/** The cached state of a component, if it is current: folded as of `token`, with this catalog. */
export const currentState = (cache: StateCache, id: string, token: string, catalog: Catalog): CachedState | undefined => {
  const entry = cache.get(id);
  return entry === undefined || entry.token !== token || entry.catalog !== catalog ? undefined : entry;
};

/** How many components' states a process keeps in memory unless told otherwise (VERITY_STATE_CACHE). */
export const DEFAULT_STATE_CACHE = 10_000;

const caches = new WeakMap<Database, StateCache>();

/** This process's cache of folded states for `db`. */
export const stateCacheOf = (db: Database): StateCache => {
  let cache = caches.get(db);
  if (cache === undefined) caches.set(db, (cache = new Lru<string, CachedState>(DEFAULT_STATE_CACHE)));
  return cache;
};

/** Bounds this process's cache of folded states for `db` to `limit` components (it starts empty). */
export const limitStateCache = (db: Database, limit: number): void => void caches.set(db, new Lru<string, CachedState>(limit));

/**
 * The states a transaction folded, kept apart until it commits (a rolled-back projection must not
 * leave its states in the cache); reads see them first, then the shared cache.
 */
export class PendingStates {
  private readonly pending: StateCache;
  /** Components merged into another in this transaction. */
  private readonly forgotten: string[] = [];

  constructor(
    private readonly shared: StateCache | null,
    limit = 1_000,
  ) {
    this.pending = new Lru(limit);
  }

  get(id: string, token: string, catalog: Catalog): CachedState | undefined {
    return currentState(this.pending, id, token, catalog) ?? (this.shared === null ? undefined : currentState(this.shared, id, token, catalog));
  }

  set(id: string, entry: CachedState): void {
    this.pending.set(id, entry);
  }

  /** Components merged into another: their states are gone. */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.pending.delete(id);
    this.forgotten.push(...ids);
  }

  /** After commit: the shared cache takes what this transaction folded. */
  publish(): void {
    if (this.shared === null) return;
    for (const id of this.forgotten) this.shared.delete(id);
    for (const [id, entry] of this.pending.entries()) this.shared.set(id, entry);
  }
}

export const newToken = (): string => randomUUID();

/**
 * When to save a state with the projection that folded it: always while it is small (the cost is
 * that of the rows written anyway); once large, every SAVE_EVERY events, so a user with a big state
 * does not rewrite it per event. A state not saved as of the current token is re-derived when it is
 * not in memory (after a restart, or when another process projected the component last).
 */
const SMALL_STATE = 64 * 1024;
const SAVE_EVERY = 64;

export const shouldSave = (savedSize: number, events: number, stateEvents: number): boolean => savedSize <= SMALL_STATE || events - stateEvents >= SAVE_EVERY;

const BATCH = 500;

/** The components the keys belong to, by key. */
export const componentsOfKeys = async (sql: Sql, keys: readonly string[]): Promise<Map<string, string>> => {
  const found = new Map<string, string>();
  for (let i = 0; i < keys.length; i += BATCH) {
    const rows = await sql.query<{ key: string; componentId: string }>(
      Prisma.sql`SELECT "key", "componentId" FROM "ComponentKey" WHERE "key" IN (${Prisma.join(keys.slice(i, i + BATCH))})`,
    );
    for (const r of rows) found.set(r.key, r.componentId);
  }
  return found;
};

type HeadRow = { id: string; token: string; watermark: Date | string; events: number | bigint; stateToken: string | null; stateEvents: number | bigint | null };

export const componentHeads = async (sql: Sql, ids: readonly string[]): Promise<ComponentHead[]> => {
  const heads: ComponentHead[] = [];
  for (let i = 0; i < ids.length; i += BATCH) {
    const rows = await sql.query<HeadRow>(
      Prisma.sql`SELECT c."id", c."token", c."watermark", c."events", s."token" AS "stateToken", s."events" AS "stateEvents" FROM "Component" c LEFT JOIN "ComponentState" s ON s."id" = c."id" WHERE c."id" IN (${Prisma.join(ids.slice(i, i + BATCH))})`,
    );
    for (const r of rows) {
      heads.push({ id: r.id, token: r.token, watermark: instantOf(r.watermark), events: Number(r.events), stateToken: r.stateToken, stateEvents: Number(r.stateEvents ?? 0) });
    }
  }
  return heads.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};

/** The saved states of these components that are current (saved as of the component's token), by id. */
export const savedStates = async (sql: Sql, heads: readonly ComponentHead[]): Promise<Map<string, { state: State; size: number }>> => {
  const tokens = new Map(heads.filter((h) => h.stateToken === h.token).map((h) => [h.id, h.token]));
  const found = new Map<string, { state: State; size: number }>();
  const ids = [...tokens.keys()];
  for (let i = 0; i < ids.length; i += BATCH) {
    const rows = await sql.query<{ id: string; token: string; state: string }>(
      Prisma.sql`SELECT "id", "token", "state" FROM "ComponentState" WHERE "id" IN (${Prisma.join(ids.slice(i, i + BATCH))})`,
    );
    for (const row of rows) {
      if (row.token === tokens.get(row.id)) found.set(row.id, { state: stateFromRecords(JSON.parse(row.state) as Parameters<typeof stateFromRecords>[0]), size: row.state.length });
    }
  }
  return found;
};

/** Every key of these components. */
export const keysOfComponents = async (sql: Sql, ids: readonly string[]): Promise<string[]> => {
  if (ids.length === 0) return [];
  const rows = await sql.query<{ key: string }>(Prisma.sql`SELECT "key" FROM "ComponentKey" WHERE "componentId" IN (${Prisma.join(ids)})`);
  return rows.map((r) => r.key);
};

/** The projected events of these components (those that name any of their keys). */
export const eventSeqsOfComponents = async (sql: Sql, ids: readonly string[]): Promise<number[]> => {
  if (ids.length === 0) return [];
  const rows = await sql.query<{ seq: number | bigint }>(
    Prisma.sql`SELECT DISTINCT ek."eventSeq" AS seq FROM "EventKey" ek JOIN "ComponentKey" ck ON ck."key" = ek."key" WHERE ck."componentId" IN (${Prisma.join(ids)})`,
  );
  return rows.map((r) => Number(r.seq));
};

/** The users owning keys of these components. */
export const usersOfComponents = async (sql: Sql, ids: readonly string[]): Promise<string[]> => {
  if (ids.length === 0) return [];
  const rows = await sql.query<{ userId: string }>(
    Prisma.sql`SELECT DISTINCT ui."userId" AS "userId" FROM "UserIdentity" ui JOIN "ComponentKey" ck ON ck."key" = ui."key" WHERE ck."componentId" IN (${Prisma.join(ids)})`,
  );
  return rows.map((r) => r.userId);
};

/** Removes components (their rows and key index), for a re-derivation that replaces them. */
export const dropComponents = async (tx: Tx, ids: readonly string[]): Promise<void> => {
  if (ids.length === 0) return;
  await tx.componentKey.deleteMany({ where: { componentId: { in: [...ids] } } });
  await tx.componentState.deleteMany({ where: { id: { in: [...ids] } } });
  await tx.component.deleteMany({ where: { id: { in: [...ids] } } });
};

export type ComponentWrite = {
  readonly id: string;
  readonly token: string;
  readonly watermark: number;
  readonly events: number;
  /** The state's JSON, when it is saved with this projection. */
  readonly saved: string | null;
  readonly stateEvents: number;
};

/** Creates components (new ones, folded from nothing) in one statement each for heads and states (see insert-rows.ts). */
export const createComponents = async (sql: Sql, components: readonly ComponentWrite[]): Promise<void> => {
  await insertRows(
    sql,
    "Component",
    ["id", "token", "watermark", "events"] as const,
    components.map((c) => ({ id: c.id, token: c.token, watermark: new Date(c.watermark), events: c.events })),
  );
  const saved = components.flatMap((c) => (c.saved === null ? [] : [{ id: c.id, token: c.token, events: c.stateEvents, state: c.saved }]));
  await insertRows(sql, "ComponentState", ["id", "token", "events", "state"] as const, saved);
};

/** Saves folded states (JSON) as of their components' tokens, replacing what was saved before. */
export const saveStates = async (sql: Sql, states: readonly { readonly id: string; readonly token: string; readonly events: number; readonly state: string }[]): Promise<void> => {
  for (const s of states) {
    await sql.run(
      Prisma.sql`INSERT INTO "ComponentState" ("id", "token", "events", "state") VALUES (${s.id}, ${s.token}, ${s.events}, ${s.state}) ON CONFLICT ("id") DO UPDATE SET "token" = excluded."token", "events" = excluded."events", "state" = excluded."state"`,
    );
  }
};

export const writeComponent = async (sql: Sql, exists: boolean, c: ComponentWrite): Promise<void> => {
  if (!exists) return createComponents(sql, [c]);
  const watermark = sqlValue(sql.kind, new Date(c.watermark));
  await sql.run(Prisma.sql`UPDATE "Component" SET "token" = ${c.token}, "watermark" = ${watermark}, "events" = ${c.events} WHERE "id" = ${c.id}`);
  // The saved state is left alone unless this projection saves it.
  if (c.saved !== null) await saveStates(sql, [{ id: c.id, token: c.token, events: c.stateEvents, state: c.saved }]);
};
