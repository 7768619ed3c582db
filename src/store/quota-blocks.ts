// Requests a quota refused, for the dashboard's incidents ("who was blocked in the last 24 hours").
// Counted in memory per subject, feature, reason and minute, and written once a second as
// increments (INSERT … ON CONFLICT add), so a client hammering a spent quota costs a map update
// per refusal, not a durable write, and several processes on one PostgreSQL add up. A crash loses
// at most the last second of counts: an operational log, not the event store. Rows older than
// KEPT_DAYS are deleted as counts are written.
// Memory: one entry per (subject, feature, reason) refused since the last write.
import type { Instant } from "../domain/time.js";
import type { Database } from "./database.js";
import { Prisma } from "./generated/postgresql/client.js";
import { sqlValue } from "./insert-rows.js";
import { loggableText } from "./parsed-copy.js";
import { PeriodicWrites } from "./periodic-writes.js";
import { transaction } from "./sql.js";

const MINUTE = 60_000;
const KEPT_DAYS = 7;

export type QuotaBlock = { readonly subject: string; readonly userId: string; readonly feature: string; readonly code: string; readonly at: Instant };

/** One row: refusals of one subject, feature and reason within one minute. */
export type QuotaBlockRow = { readonly subject: string; readonly userId: string; readonly feature: string; readonly code: string; readonly minute: Date; readonly count: number; readonly lastAt: Date };

type Pending = { subject: string; userId: string; feature: string; code: string; minute: number; count: number; lastAt: number };

export class QuotaBlockLog extends PeriodicWrites {
  private pending = new Map<string, Pending>();

  constructor(private readonly db: Database) {
    super();
  }

  record(b: QuotaBlock): void {
    const minute = Math.floor(b.at / MINUTE) * MINUTE;
    const entry = { subject: loggableText(b.subject, 200), userId: loggableText(b.userId, 200), feature: loggableText(b.feature, 200), code: b.code };
    const key = `${entry.subject}\u0000${entry.feature}\u0000${entry.code}\u0000${minute}`;
    const known = this.pending.get(key);
    if (known) {
      known.count += 1;
      known.userId = entry.userId;
      known.lastAt = Math.max(known.lastAt, b.at);
    } else this.pending.set(key, { ...entry, minute, count: 1, lastAt: b.at });
  }

  /** Adds the counts not written yet, in one transaction. */
  protected async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      await transaction(this.db, async (sql) => {
        for (let i = 0; i < rows.length; i += 500) {
          const tuples = rows
            .slice(i, i + 500)
            .map(
              (r) =>
                Prisma.sql`(${r.subject}, ${r.feature}, ${r.code}, ${sqlValue(sql.kind, new Date(r.minute))}, ${r.userId}, ${r.count}, ${sqlValue(sql.kind, new Date(r.lastAt))})`,
            );
          await sql.run(
            Prisma.sql`INSERT INTO "QuotaBlock" ("subject", "feature", "code", "minute", "userId", "count", "lastAt") VALUES ${Prisma.join(tuples)}
              ON CONFLICT ("subject", "feature", "code", "minute") DO UPDATE SET "count" = "QuotaBlock"."count" + excluded."count", "userId" = excluded."userId",
              "lastAt" = CASE WHEN excluded."lastAt" > "QuotaBlock"."lastAt" THEN excluded."lastAt" ELSE "QuotaBlock"."lastAt" END`,
          );
        }
        const oldest = Math.min(...rows.map((r) => r.minute)) - KEPT_DAYS * 86_400_000;
        await sql.run(Prisma.sql`DELETE FROM "QuotaBlock" WHERE "minute" < ${sqlValue(sql.kind, new Date(oldest))}`);
      });
    } catch (e) {
      // Not written: counted again with the next write.
      for (const r of rows) {
        const key = `${r.subject}\u0000${r.feature}\u0000${r.code}\u0000${r.minute}`;
        const known = this.pending.get(key);
        if (known) (known.count += r.count), (known.lastAt = Math.max(known.lastAt, r.lastAt));
        else this.pending.set(key, r);
      }
      throw e;
    }
  }

  /** Refusals since `since`, per subject, feature and reason (summed over minutes), most refused first, with what is not written yet. */
  async since(since: Instant, limit: number): Promise<QuotaBlockRow[]> {
    const stored = await this.db.prisma.quotaBlock.findMany({ where: { minute: { gte: new Date(Math.floor(since / MINUTE) * MINUTE) } } });
    const sums = new Map<string, QuotaBlockRow>();
    const add = (r: { subject: string; userId: string; feature: string; code: string; minute: Date; count: number; lastAt: Date }) => {
      const key = `${r.subject}\u0000${r.feature}\u0000${r.code}`;
      const known = sums.get(key);
      if (known === undefined) sums.set(key, { ...r });
      else
        sums.set(key, {
          ...known,
          count: known.count + r.count,
          minute: r.minute < known.minute ? r.minute : known.minute,
          ...(r.lastAt > known.lastAt ? { lastAt: r.lastAt, userId: r.userId } : {}),
        });
    };
    for (const r of stored) add(r);
    for (const r of this.pending.values()) if (r.lastAt >= since) add({ ...r, minute: new Date(r.minute), lastAt: new Date(r.lastAt) });
    return [...sums.values()].sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime()).slice(0, limit);
  }
}
