// Usage records, decided and stored atomically: in one transaction, the counters the records touch
// are read, each record is decided against its quota in order, and what is accepted is appended
// (its event, marked projected: its whole projection is the counter), its counter written and its
// transition put on the live feed. On PostgreSQL the transaction holds the append lock every append
// takes, so two processes never decide on the same counter at once; SQLite has one writer. Records
// arriving together share the transaction and its durable commit (see UsageAppender).
import { setImmediate } from "node:timers/promises";
import { DEFAULT_USAGE_THRESHOLDS, emptyCatalog, type Catalog } from "../domain/catalog.js";
import { balancesAt, drawCredits, type Balances, type CreditLot } from "../domain/credits.js";
import { APP_SOURCE } from "../domain/source.js";
import { creditUses, lotsOfUser, rebuildCredits, writeCreditDebits, writeCreditUses } from "./credits.js";
import { counterKey, countersOf, crossedThresholds, decideQuota, laterEnd, unscaleUnits, type Quota, type UsageCounter, type UsageRecord } from "../domain/usage.js";
import type { Database } from "./database.js";
import { APPEND_LOCK, insertEvents, instantOf, readEvents, rowOf } from "./events.js";
import { appendToFeed, lockFeed } from "./feed.js";
import { Prisma } from "./generated/postgresql/client.js";
import { insertRows, sqlValue } from "./insert-rows.js";
import { committedTransaction, transaction, type Sql } from "./sql.js";
import { usageBody, USAGE_EVENT_TYPE, usageEventId, usageRecordOf } from "./usage-body.js";

/** A record to decide: everything but the counter after it, with the quota it is decided against. */
export type PendingUsage = {
  readonly record: Omit<UsageRecord, "usedAfter" | "credits">;
  readonly quota: Quota;
  readonly receivedAt: number;
  /** For a feature priced in credits: what this use costs, drawn from the user's lots in the transaction. */
  readonly credits?: { readonly cost: number } | null;
};

export type UsageOutcome =
  | { readonly _tag: "Recorded"; readonly record: UsageRecord; readonly seq: number }
  /** The idempotency key was used before: the record it stored (and so its first answer). */
  | { readonly _tag: "Duplicate"; readonly record: UsageRecord }
  | { readonly _tag: "QuotaExceeded"; readonly used: number }
  | { readonly _tag: "CounterFull"; readonly used: number }
  /** The lots do not hold what the use costs: nothing was recorded or drawn. */
  | { readonly _tag: "InsufficientCredits"; readonly cost: number; readonly balances: Balances };

/** Counter rows as read back. */
type CounterRow = { subject: string; feature: string; periodStart: Date | string; periodEnd: Date | string | null; used: number | bigint; records: number | bigint };

const counterOf = (r: CounterRow): UsageCounter => ({
  subject: r.subject,
  feature: r.feature,
  periodStart: instantOf(r.periodStart),
  periodEnd: r.periodEnd === null ? null : instantOf(r.periodEnd),
  used: Number(r.used),
  records: Number(r.records),
});

/** Keys per statement: three parameters each. */
const KEYS_PER_READ = 300;

/** The stored counters among `keys` (subject, feature, period start). */
export const readCounters = async (sql: Sql, keys: readonly { readonly subject: string; readonly feature: string; readonly periodStart: number }[]): Promise<Map<string, UsageCounter>> => {
  const found = new Map<string, UsageCounter>();
  for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
    const tuples = keys.slice(i, i + KEYS_PER_READ).map((k) => Prisma.sql`(${k.subject}, ${k.feature}, ${sqlValue(sql.kind, new Date(k.periodStart))})`);
    const rows = await sql.query<CounterRow>(
      Prisma.sql`SELECT "subject", "feature", "periodStart", "periodEnd", "used", "records" FROM "UsageCounter" WHERE ("subject", "feature", "periodStart") IN (${Prisma.join(tuples)})`,
    );
    for (const row of rows) {
      const c = counterOf(row);
      found.set(counterKey(c.subject, c.feature, c.periodStart), c);
    }
  }
  return found;
};

/** Every counter the store holds. */
export const allCounters = async (sql: Sql): Promise<UsageCounter[]> =>
  (await sql.query<CounterRow>(Prisma.sql`SELECT "subject", "feature", "periodStart", "periodEnd", "used", "records" FROM "UsageCounter"`)).map(counterOf);

/** Every counter of one subject, oldest period first. */
export const countersOfSubject = async (sql: Sql, subject: string): Promise<UsageCounter[]> =>
  (await sql.query<CounterRow>(Prisma.sql`SELECT "subject", "feature", "periodStart", "periodEnd", "used", "records" FROM "UsageCounter" WHERE "subject" = ${subject} ORDER BY "periodStart", "feature"`)).map(
    counterOf,
  );

/** Writes counters as they now stand (inserted or replaced: the caller holds the lock that makes them current). */
const writeCounters = async (sql: Sql, counters: readonly UsageCounter[]): Promise<void> => {
  for (let i = 0; i < counters.length; i += 500) {
    const tuples = counters
      .slice(i, i + 500)
      .map(
        (c) =>
          Prisma.sql`(${c.subject}, ${c.feature}, ${sqlValue(sql.kind, new Date(c.periodStart))}, ${c.periodEnd === null ? null : sqlValue(sql.kind, new Date(c.periodEnd))}, ${c.used}, ${c.records})`,
      );
    await sql.run(
      Prisma.sql`INSERT INTO "UsageCounter" ("subject", "feature", "periodStart", "periodEnd", "used", "records") VALUES ${Prisma.join(tuples)}
        ON CONFLICT ("subject", "feature", "periodStart") DO UPDATE SET "periodEnd" = excluded."periodEnd", "used" = excluded."used", "records" = excluded."records"`,
    );
  }
};

/** Stored usage records by event id, among `ids`. */
const storedRecords = async (sql: Sql, ids: readonly string[]): Promise<Map<string, UsageRecord>> => {
  const found = new Map<string, UsageRecord>();
  for (let i = 0; i < ids.length; i += 500) {
    const events = await readEvents(sql, Prisma.sql`"provider" = ${APP_SOURCE} AND "providerEventId" IN (${Prisma.join(ids.slice(i, i + 500))})`);
    for (const e of events) found.set(e.providerEventId, usageRecordOf(e.rawBody));
  }
  return found;
};

/** One of the app's events to append: its id, type, time and Verity's own JSON body. */
export type AppEvent = { readonly id: string; readonly type: string; readonly at: number; readonly receivedAt: number; readonly body: Buffer; readonly payload?: unknown };

/**
 * Appends the app's events inside the caller's transaction, marked projected at once (their
 * projection, a counter or a lease, is written by the caller in the same transaction): their seqs.
 */
export const appendAppEvents = async (sql: Sql, events: readonly AppEvent[], projectedAt: number): Promise<number[]> => {
  const rows = events.map((e) =>
    rowOf({ provider: APP_SOURCE, providerEventId: e.id, type: e.type, occurredAt: e.at, receivedAt: e.receivedAt, origin: "api", rawBody: e.body, payload: e.payload ?? JSON.parse(e.body.toString("utf8")) }),
  );
  const seqOf = new Map<string, number>();
  for (let i = 0; i < rows.length; i += 500) {
    for (const c of await sql.query<{ seq: number | bigint; providerEventId: string }>(insertEvents(sql.kind, rows.slice(i, i + 500)))) seqOf.set(c.providerEventId, Number(c.seq));
  }
  const seqs = rows.map((r) => seqOf.get(r.providerEventId)!);
  await insertRows(
    sql,
    "ProjectedEvent",
    ["seq", "projectedAt"],
    seqs.map((seq) => ({ seq, projectedAt: new Date(projectedAt) })),
  );
  return seqs;
};

/**
 * Decides and stores `pending` in one transaction, in order: a record whose key was used before is
 * answered with the stored one; one over a `block` quota is refused and stores nothing; the rest
 * are appended with their counters and feed rows. Resolves once committed.
 */
export type UsageCommit = {
  readonly outcomes: readonly UsageOutcome[];
  /** The counters the commit changed, as they now stand. */
  readonly counters: readonly UsageCounter[];
  /** What it recorded (Verity's user id and seq of each). */
  readonly recorded: readonly { readonly userId: string; readonly seq: number }[];
};

export const recordUsage = async (db: Database, pending: readonly PendingUsage[], projectedAt: number, catalog: Catalog = emptyCatalog): Promise<UsageCommit> =>
  inAppendTransaction(db, (sql) => recordUsageIn(sql, pending, projectedAt, catalog));

/**
 * A transaction that appends the app's events: on PostgreSQL it holds the lock every append takes
 * (so seq order is commit order, and no other process decides on the same counters meanwhile).
 */
export const inAppendTransaction = <T>(db: Database, work: (sql: Sql) => Promise<T>): Promise<T> =>
  transaction(db, async (sql) => {
    await lockAppends(sql);
    return work(sql);
  });

/** Takes, until the transaction `sql` runs in ends, the lock every append holds (PostgreSQL; SQLite has one writer). */
export const lockAppends = async (sql: Sql): Promise<void> => {
  if (sql.kind === "postgresql") await sql.query(Prisma.sql`SELECT 1 FROM pg_advisory_xact_lock(${APPEND_LOCK})`);
};

/** recordUsage's work, inside a transaction that holds the append lock (a lease release records its usage in its own). */
export const recordUsageIn = async (sql: Sql, pending: readonly PendingUsage[], projectedAt: number, catalog: Catalog = emptyCatalog): Promise<UsageCommit> => {
    const ids = pending.map((p) => usageEventId(p.record.subject, p.record.idempotencyKey));
    const earlier = await storedRecords(sql, [...new Set(ids)]);
    const counters = await readCounters(
      sql,
      [...new Map(pending.map((p) => [counterKey(p.record.subject, p.record.feature, p.record.period.start), p.record])).values()].map((r) => ({
        subject: r.subject,
        feature: r.feature,
        periodStart: r.period.start,
      })),
    );
    // Credits: per subject that pays in credits here, its lots (from its orders) and what uses took.
    const wallets = new Map<string, { readonly lots: CreditLot[]; readonly used: Map<string, number>; changed: boolean }>();
    for (const p of pending) {
      if (!p.credits || wallets.has(p.record.subject)) continue;
      wallets.set(p.record.subject, { lots: await lotsOfUser(sql, p.record.userId, catalog), used: await creditUses(sql, p.record.subject), changed: false });
    }
    const changed = new Set<string>();
    const accepted: { readonly index: number; readonly record: UsageRecord }[] = [];
    const outcomes: (UsageOutcome | null)[] = pending.map((p, index) => {
      const id = ids[index]!;
      const before = earlier.get(id);
      if (before !== undefined) return { _tag: "Duplicate", record: before };
      const { record, quota } = p;
      const key = counterKey(record.subject, record.feature, record.period.start);
      const counter = counters.get(key);
      const decision = decideQuota(quota, counter?.used ?? 0, record.units);
      if (decision._tag !== "Within") return decision;
      let credits: UsageRecord["credits"] = null;
      const wallet = p.credits ? wallets.get(record.subject)! : null;
      if (p.credits && wallet) {
        const takes = drawCredits(wallet.lots, wallet.used, p.credits.cost, record.at);
        if (takes === null) return { _tag: "InsufficientCredits", cost: p.credits.cost, balances: balancesAt(wallet.lots, wallet.used, record.at) };
        for (const t of takes) wallet.used.set(t.lot, (wallet.used.get(t.lot) ?? 0) + t.amount);
        wallet.changed = true;
        credits = { cost: p.credits.cost, takes, balances: balancesAt(wallet.lots, wallet.used, record.at) };
      }
      const done: UsageRecord = { ...record, usedAfter: decision.usedAfter, ...(credits ? { credits } : {}) };
      earlier.set(id, done);
      counters.set(key, {
        subject: record.subject,
        feature: record.feature,
        periodStart: record.period.start,
        periodEnd: laterEnd(counter?.periodEnd ?? null, record.period.end),
        used: decision.usedAfter,
        records: (counter?.records ?? 0) + 1,
      });
      changed.add(key);
      accepted.push({ index, record: done });
      return null;
    });
    if (accepted.length === 0) return { outcomes: outcomes as UsageOutcome[], counters: [], recorded: [] };
    const seqs = await appendAppEvents(
      sql,
      accepted.map(({ index, record }) => {
        const payload = usageBody(record);
        return { id: ids[index]!, type: USAGE_EVENT_TYPE, at: record.at, receivedAt: pending[index]!.receivedAt, body: Buffer.from(JSON.stringify(payload)), payload };
      }),
      projectedAt,
    );
    await writeCounters(
      sql,
      [...changed].map((k) => counters.get(k)!),
    );
    for (const [subject, wallet] of wallets) if (wallet.changed) await writeCreditUses(sql, subject, wallet.used);
    await writeCreditDebits(
      sql,
      accepted.filter(({ record }) => record.credits).map(({ index, record }) => ({ usageId: ids[index]!, record })),
    );
    await lockFeed(sql);
    const thresholds = catalog.usageThresholds ?? DEFAULT_USAGE_THRESHOLDS;
    await appendToFeed(
      sql,
      accepted.flatMap(({ index, record }) => {
        const cause = `${APP_SOURCE}:${ids[index]!}`;
        return [usageTransition(record, cause), ...crossedThresholds(record, thresholds).map((percent) => thresholdTransition(record, percent, cause))];
      }),
    );
    accepted.forEach(({ index, record }, i) => (outcomes[index] = { _tag: "Recorded", record, seq: seqs[i]! }));
    return {
      outcomes: outcomes as UsageOutcome[],
      counters: [...changed].map((k) => counters.get(k)!),
      recorded: accepted.map(({ record }, i) => ({ userId: record.userId, seq: seqs[i]! })),
    };
};

/**
 * The transition a usage record makes: its counter from what it was to what it became, with the
 * key and request behind it (the audit trail).
 */
export const usageTransition = (r: UsageRecord, cause: string) => ({
  userId: r.userId,
  entity: "usage",
  entityId: `${r.subject}:${r.feature}:${new Date(r.period.start).toISOString()}`,
  field: "used",
  from: String(unscaleUnits(r.usedAfter - r.units, r.decimals)),
  to: String(unscaleUnits(r.usedAfter, r.decimals)),
  cause,
  at: new Date(r.at),
  keyId: r.keyId,
  requestId: r.requestId,
});

/** A limit's threshold crossed by a record (`to` is the percent), for webhooks out and the audit trail. */
export const thresholdTransition = (r: UsageRecord, percent: number, cause: string) => ({ ...usageTransition(r, cause), field: "threshold", from: null, to: String(percent) });

/** Every usage record in the store, read in pages by seq. */
export async function* storedUsageRecords(sql: Sql, page = 2_000): AsyncGenerator<UsageRecord> {
  for (let after = 0; ; ) {
    const events = await readEvents(sql, Prisma.sql`"provider" = ${APP_SOURCE} AND "type" = ${USAGE_EVENT_TYPE} AND "seq" > ${after}`, Prisma.sql`ORDER BY "seq" LIMIT ${page}`);
    for (const e of events) yield usageRecordOf(e.rawBody);
    if (events.length < page) return;
    after = events.at(-1)!.seq;
  }
}

/** Rebuilds every counter from the stored records (a projection rebuild; verify compares the same sums). */
export const rebuildUsageCounters = async (sql: Sql): Promise<number> => {
  const records: UsageRecord[] = [];
  for await (const r of storedUsageRecords(sql)) records.push(r);
  await sql.run(Prisma.sql`DELETE FROM "UsageCounter"`);
  const counters = [...countersOf(records).values()];
  await writeCounters(sql, counters);
  // What credit-priced uses drew, as their records state it.
  await rebuildCredits(
    sql,
    records.map((record) => ({ usageId: usageEventId(record.subject, record.idempotencyKey), record })),
  );
  return counters.length;
};

/**
 * Group commit of usage records: records that arrive together are decided and stored in one
 * transaction (one durable flush), each caller answered once it has committed.
 */
export class UsageAppender {
  private queue: { readonly pending: PendingUsage; readonly resolve: (o: UsageOutcome) => void; readonly reject: (e: unknown) => void }[] = [];
  private draining = false;

  constructor(
    private readonly db: Database,
    private readonly now: () => number,
    /** Told, before any caller is answered, what a commit recorded. */
    private readonly onCommitted: (commit: UsageCommit) => void = () => undefined,
    private readonly maxBatch = 250,
    /** The catalog credit lots are read with. */
    private readonly catalog: Catalog = emptyCatalog,
  ) {}

  record(pending: PendingUsage): Promise<UsageOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ pending, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // A turn of the event loop, so records read in the same turn share the commit.
      await setImmediate();
      const batch = this.queue.splice(0, this.maxBatch);
      let committed: { readonly result: UsageCommit; readonly durable: Promise<void> };
      try {
        committed = await committedTransaction(this.db, async (sql) => {
          await lockAppends(sql);
          return recordUsageIn(
            sql,
            batch.map((w) => w.pending),
            this.now(),
            this.catalog,
          );
        });
      } catch {
        // One record the database refuses must not fail the others: each is tried on its own.
        for (const w of batch) {
          await recordUsage(this.db, [w.pending], this.now(), this.catalog).then((commit) => {
            if (commit.recorded.length > 0) this.onCommitted(commit);
            w.resolve(commit.outcomes[0]!);
          }, w.reject);
        }
        continue;
      }
      // The next batch is decided while this one's commit is flushed to disk (SQLite, see
      // wal-flush.ts); its callers are answered, and what it recorded told, only once it is durable.
      // The flusher tells commits in their order; commits told by other paths (a lease release's
      // counter) may interleave, which the read model allows for (noteCounters keeps the larger).
      const { result: commit, durable } = committed;
      void durable.then(
        () => {
          if (commit.recorded.length > 0) this.onCommitted(commit);
          batch.forEach((w, i) => w.resolve(commit.outcomes[i]!));
        },
        (e: unknown) => batch.forEach((w) => w.reject(e)),
      );
    }
    this.draining = false;
  }
}
