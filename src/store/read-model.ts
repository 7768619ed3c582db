// The in-memory read model: what the read API answers most (find a user by any id, its grants and
// subscriptions, the API key a request carries) kept in this process's memory, so a read costs a
// lookup, not several queries. It is loaded on first use per user and dropped when a projection
// changes that user: at once for projections of this process; through PostgreSQL NOTIFY for those
// of other processes; on SQLite, entirely when another connection (a CLI command) commits. Bounded: at most `capacity` users (least recently used go first), so
// very many users cost a database read on a cold user, never unbounded memory.
//
// Consistency: an entry is taken from the database after the projection that last changed the
// user has committed, and dropped before the next one is announced, so an answer is never older
// than the last projection this process knew of when the request began.
import pg from "pg";
import type { Principal } from "../api/scopes.js";
import { principalByHash } from "./api-keys.js";
import { countedReading, type Billing, type Grant, type MeterReading, type SlotReading } from "../domain/entitlements.js";
import { activeLeases, type Lease } from "../domain/leases.js";
import { openLeases } from "./leases.js";
import type { Instant } from "../domain/time.js";
import { counterKey, type UsageCounter } from "../domain/usage.js";
import { sqlOf } from "./sql.js";
import { countersOfSubject } from "./usage.js";
import type { Database } from "./database.js";
import { toGrant } from "./projection-rows.js";
import { findUserId } from "./reads.js";
import { Lru } from "./lru.js";

type Row<K extends "user" | "subscription"> = Awaited<ReturnType<Database["prisma"][K]["findMany"]>>[number];

export type UserView = {
  readonly user: Row<"user">;
  readonly grants: readonly Grant[];
  /** Newest started first, as the subscriptions query orders them. */
  readonly subscriptions: readonly Row<"subscription">[];
  /** Provider customer ids, as provider:id, sorted. */
  readonly customerIds: readonly string[];
  /** The billing subject usage counts under: the app's user id, else Verity's id. */
  readonly subject: string;
  /** The subject's usage counters, by counterKey. */
  readonly counters: ReadonlyMap<string, UsageCounter>;
  /** The subject's leases that were open when it was loaded (each holds a slot until released or expired). */
  readonly leases: readonly Lease[];
};

/** How many of the view's leases hold a slot of a grant's feature at `t`. */
export const slotReading =
  (view: UserView, t: Instant): SlotReading =>
  (grant) =>
    activeLeases(view.leases, grant.feature, t);

/**
 * How much a metered grant's feature has used at `t` and when its period resets, from the view's
 * counters: the period is the calendar one, or the billing period of the subscription that grants it.
 */
export const meterReading = (view: UserView, t: Instant): MeterReading => countedReading(view.counters, view.subject, (grant) => billingOf(view, grant), t);

/** The billing period of the subscription behind a grant (null for a lifetime grant). */
export const billingOf = (view: UserView, grant: Grant): Billing | null => {
  if (grant.sourceKind !== "subscription") return null;
  const sub = view.subscriptions.find((s) => s.id === grant.sourceId);
  return sub === undefined ? null : { start: sub.currentPeriodStart?.getTime() ?? null, end: sub.currentPeriodEnd?.getTime() ?? null };
};

/**
 * How long an API key's check is trusted before it is read again: a backstop only, since a
 * revocation reaches every read model at once (announceKeysChanged).
 */
export const KEY_TTL_MS = 5_000;

const CHANNEL = "verity_projected";
/** The NOTIFY payload that says the API keys changed (a users payload is "*" or a JSON array). */
const KEYS_CHANGED = "keys";

/** This process's read models of each database, told of key changes made through it. */
const keyWatchers = new WeakMap<Database, Set<() => void>>();

/**
 * Tells every read model that the API keys changed (one was revoked): this process's at once; other
 * processes' through NOTIFY on PostgreSQL, and on SQLite by the file's data version, which each
 * read model compares before it trusts a remembered key.
 */
export const announceKeysChanged = async (db: Database): Promise<void> => {
  for (const watcher of keyWatchers.get(db) ?? []) watcher();
  if (db.kind === "postgresql") await db.prisma.$executeRawUnsafe(`SELECT pg_notify('${CHANNEL}', $1)`, KEYS_CHANGED);
};

/** Tells every process on the same PostgreSQL which users a projection changed (no-op on SQLite). */
export const announceProjected = async (db: Database, users: readonly string[] | "all"): Promise<void> => {
  if (db.kind !== "postgresql") return;
  const payload = users === "all" || JSON.stringify(users).length > 7000 ? "*" : JSON.stringify(users);
  await db.prisma.$executeRawUnsafe(`SELECT pg_notify('${CHANNEL}', $1)`, payload);
};

export class ReadModel {
  private readonly users: Lru<string, UserView>;
  /** Any id (app user id, customer id, Verity's id) → Verity's user id. */
  private readonly lookups: Lru<string, string | null>;
  /** Users whose view is being loaded, with how many counter notes arrived meanwhile. */
  private readonly loading = new Map<string, number>();
  private readonly keys = new Lru<string, { principal: Principal | null; until: number }>(10_000);
  /** Bumped by every invalidation: a load that began before one is not cached. */
  private generation = 0;
  private unlisten: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Cache hits and database loads, for tests and the bench. */
  hits = 0;
  loads = 0;

  constructor(
    private readonly db: Database,
    capacity = 100_000,
    private readonly now: () => number = Date.now,
    /** The app's clock, for which leases are still open (a test's clock may stand still while key checks still expire). */
    private readonly clock: () => number = now,
  ) {
    this.users = new Lru(capacity);
    this.lookups = new Lru(capacity * 4);
    let watchers = keyWatchers.get(db);
    if (watchers === undefined) keyWatchers.set(db, (watchers = new Set()));
    watchers.add(this.forgetKeys);
    this.fileVersion = db.sqlite === null ? null : db.sqlite.prepare("PRAGMA data_version").pluck();
    this.keysSeenAt = this.fileVersion?.get() ?? null;
  }

  private readonly forgetKeys = (): void => this.keys.clear();
  /** SQLite: the file's data version, which moves when another connection commits (a CLI revoking a key). */
  private readonly fileVersion: { get(): unknown } | null;
  private keysSeenAt: unknown;
  private versionAskedThisTurn = false;

  /**
   * Starts watching for projections written by other processes: on PostgreSQL through NOTIFY (the
   * listener reconnects if its connection drops, and everything is dropped meanwhile); on SQLite,
   * where a command such as `verity reprocess` may rewrite the file while the server runs, by
   * polling `PRAGMA data_version` (it changes when another connection commits) every `pollMs`.
   */
  async start(pollMs = 1000): Promise<void> {
    this.stopped = false;
    if (this.db.kind === "postgresql") return this.listen();
    let seen = await this.dataVersion();
    this.timer = setInterval(() => {
      void this.dataVersion()
        .then((version) => {
          if (version !== seen) (seen = version), this.forget("all");
        })
        .catch(() => this.forget("all"));
    }, pollMs);
    this.timer.unref();
  }

  private async dataVersion(): Promise<number> {
    const rows = await this.db.prisma.$queryRawUnsafe<{ data_version: number | bigint }[]>("PRAGMA data_version");
    return Number(rows[0]?.data_version ?? 0);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.db.url });
    const lost = () => {
      // Notifications may have been missed: nothing cached can be trusted; listen again shortly.
      this.forget("all");
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.listen().catch(lost), 1000).unref();
    };
    client.on("notification", (msg) => {
      if (msg.channel !== CHANNEL) return;
      if (msg.payload === KEYS_CHANGED) return void this.keys.clear();
      const users = msg.payload === undefined || msg.payload === "*" ? "all" : (JSON.parse(msg.payload) as string[]);
      this.forget(users);
    });
    client.on("error", lost);
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.unlisten = async () => {
      client.removeAllListeners();
      await client.end().catch(() => undefined);
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    keyWatchers.get(this.db)?.delete(this.forgetKeys);
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.();
  }

  /** Drops what a projection changed (users, or everything). Lookups all go: they are cheap to redo. */
  forget(users: readonly string[] | "all"): void {
    this.generation += 1;
    this.lookups.clear();
    if (users === "all") this.users.clear(), this.keys.clear();
    else for (const id of users) this.users.delete(id);
  }

  /**
   * Counters this process just committed: a cached view takes them in place (usage changes no
   * grant, so the rest of the view stands), and lookups are not cleared.
   */
  noteCounters(userId: string, counters: readonly UsageCounter[]): void {
    const loading = this.loading.get(userId);
    if (loading !== undefined) this.loading.set(userId, loading + 1);
    const view = this.users.get(userId);
    if (view === undefined) return;
    const held = new Map(view.counters);
    for (const c of counters) {
      if (c.subject !== view.subject) continue;
      const key = counterKey(c.subject, c.feature, c.periodStart);
      // Commits are told once durable, and two told by one flush may arrive in either order (a
      // usage batch and a lease release, say): a counter only grows, so the later one holds more records.
      if ((held.get(key)?.records ?? -1) <= c.records) held.set(key, c);
    }
    this.users.set(userId, { ...view, counters: held });
  }

  /** A lease this process just took or released: a cached view takes it in place. */
  noteLease(userId: string, lease: Lease): void {
    const loading = this.loading.get(userId);
    if (loading !== undefined) this.loading.set(userId, loading + 1);
    const view = this.users.get(userId);
    if (view === undefined || view.subject !== lease.subject) return;
    const now = this.clock();
    this.users.set(userId, { ...view, leases: [...view.leases.filter((l) => l.id !== lease.id && l.expiresAt > now), ...(lease.releasedAt === null ? [lease] : [])] });
  }

  /** Verity's id of the user known by `id` (the app's user id, a provider customer id, or Verity's own). */
  async findUser(id: string): Promise<string | null> {
    const known = this.lookups.get(id);
    if (known !== undefined) return (this.hits++, known);
    const generation = this.generation;
    const userId = await findUserId(this.db, id);
    this.loads += 1;
    // Unknown ids are remembered too: a user can only appear through a projection, which clears them.
    if (generation === this.generation) this.lookups.set(id, userId);
    return userId;
  }

  /** What the read API needs of a user, or null when there is none by that id. */
  async user(userId: string): Promise<UserView | null> {
    const cached = this.users.get(userId);
    if (cached !== undefined) return (this.hits++, cached);
    const generation = this.generation;
    // Counters committed while this load runs would be missed by it: noteCounters counts them.
    const notes = this.loading.get(userId) ?? 0;
    this.loading.set(userId, notes);
    const [user, grants, subscriptions, customers] = await Promise.all([
      this.db.prisma.user.findUnique({ where: { id: userId } }),
      this.db.prisma.entitlement.findMany({ where: { userId }, orderBy: { id: "asc" } }),
      this.db.prisma.subscription.findMany({ where: { userId }, orderBy: [{ startedAt: { sort: "desc", nulls: "last" } }, { id: "asc" }] }),
      this.db.prisma.userIdentity.findMany({ where: { userId, kind: "customer" }, orderBy: { key: "asc" } }),
    ]);
    this.loads += 1;
    const subject = user === null ? null : (user.appUserId ?? user.id);
    const counters = new Map(subject === null ? [] : (await countersOfSubject(sqlOf(this.db), subject)).map((c) => [counterKey(c.subject, c.feature, c.periodStart), c]));
    const leases = subject === null ? [] : await openLeases(sqlOf(this.db), subject, this.clock());
    const noted = this.loading.get(userId);
    this.loading.delete(userId);
    if (user === null || subject === null) return null;
    const view: UserView = { user, grants: grants.map(toGrant), subscriptions, customerIds: customers.map((i) => `${i.provider}:${i.value}`), subject, counters, leases };
    if (generation === this.generation && noted === notes) this.users.set(userId, view);
    return view;
  }

  /**
   * What an `Authorization: Bearer …` header comes to: no key, a key nobody knows (or one revoked),
   * or its principal. A key's answer is remembered until the keys change (announceKeysChanged;
   * on SQLite, until another connection commits), KEY_TTL_MS at most.
   */
  async credentials(header: string | undefined, hash: (key: string) => string): Promise<Credentials> {
    const token = bearerToken(header);
    if (token === null) return NO_KEY;
    const digest = hash(token);
    if (this.fileVersion !== null && !this.versionAskedThisTurn) {
      // Asked once per turn of the event loop, not per request: under load it cost ~20 µs a request
      // (profiled: 11% of a check's CPU), and requests of one turn arrived together anyway.
      this.versionAskedThisTurn = true;
      setImmediate(() => (this.versionAskedThisTurn = false));
      const version = this.fileVersion.get();
      if (version !== this.keysSeenAt) (this.keysSeenAt = version), this.keys.clear();
    }
    const cached = this.keys.get(digest);
    const now = this.now();
    if (cached !== undefined && cached.until > now) return cached.principal === null ? UNKNOWN_KEY : { _tag: "Key", principal: cached.principal };
    const principal = await principalByHash(this.db, digest);
    this.keys.set(digest, { principal, until: now + KEY_TTL_MS });
    return principal === null ? UNKNOWN_KEY : { _tag: "Key", principal };
  }

  /** The principal of a header's key, or null when there is none or it is not known. */
  async principal(header: string | undefined, hash: (key: string) => string): Promise<Principal | null> {
    const credentials = await this.credentials(header, hash);
    return credentials._tag === "Key" ? credentials.principal : null;
  }
}

/** What a request's credentials come to: no key sent, a key Verity does not know (or revoked), or a key's principal. */
export type Credentials = { readonly _tag: "NoKey" } | { readonly _tag: "UnknownKey" } | { readonly _tag: "Key"; readonly principal: Principal };
const NO_KEY: Credentials = { _tag: "NoKey" };
const UNKNOWN_KEY: Credentials = { _tag: "UnknownKey" };

/** The token of an `Authorization: Bearer …` header, or null. */
export const bearerToken = (header: string | undefined): string | null => /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? null;
