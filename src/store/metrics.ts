// What the dashboard's metrics are computed from, read from the projections: every subscription's
// status and plan changes from the transition log, its paid invoices and its current billing
// period (src/domain/metrics builds the histories and computes). The read costs a scan of the
// subscription transitions and orders (seconds at a million orders), so it is kept in memory, read
// ahead at start, and refreshed behind the requests once the projections have moved on.
import type { Catalog } from "../domain/catalog.js";
import { subscriptionHistories, type SubscriptionHistory } from "../domain/metrics/history.js";
import type { Database } from "./database.js";
import { instantOf } from "./events.js";
import { Prisma } from "./generated/postgresql/client.js";
import { sqlOf } from "./sql.js";

/** The histories of every subscription the projections hold. */
export const readHistories = async (db: Database): Promise<SubscriptionHistory[]> => {
  const sql = sqlOf(db);
  const log = await sql.query<{ entityId: string; userId: string; field: string; to: string | null; at: Date | string }>(
    Prisma.sql`SELECT "entityId", "userId", "field", "to", "at" FROM "Transition" WHERE "entity" = 'subscription' AND "field" IN ('status', 'plan') ORDER BY "userId", "ordinal"`,
  );
  const invoices = await sql.query<{ subscriptionId: string; amount: number; amountRefunded: number; currency: string; paidAt: Date | string; status: string }>(
    Prisma.sql`SELECT "subscriptionId", "amount", "amountRefunded", "currency", "paidAt", "status" FROM "Order" WHERE "subscriptionId" IS NOT NULL`,
  );
  const periods = await sql.query<{ id: string; userId: string; currentPeriodStart: Date | string | null; currentPeriodEnd: Date | string | null }>(
    Prisma.sql`SELECT "id", "userId", "currentPeriodStart", "currentPeriodEnd" FROM "Subscription"`,
  );
  return subscriptionHistories(
    log.map((t) => ({ entity: "subscription", entityId: t.entityId, userId: t.userId, field: t.field, to: t.to, at: instantOf(t.at) })),
    invoices.map((i) => ({ ...i, amount: Number(i.amount), amountRefunded: Number(i.amountRefunded), paidAt: instantOf(i.paidAt) })),
    periods.map((p) => ({ id: p.id, userId: p.userId, start: p.currentPeriodStart === null ? null : instantOf(p.currentPeriodStart), end: p.currentPeriodEnd === null ? null : instantOf(p.currentPeriodEnd) })),
  );
};

/**
 * The histories, read once and then kept until the projections move on. Then a request starts a
 * fresh read (one at a time) and waits for it at most `waitMs`: on a small store it gets what is
 * current, on a large one what was held (at once), and the requests after the read the new state.
 */
export class HistoryCache {
  private held: { readonly through: number; readonly histories: SubscriptionHistory[] } | null = null;
  private reading: Promise<SubscriptionHistory[]> | null = null;

  constructor(
    private readonly db: Database,
    private readonly waitMs = 250,
  ) {}

  private read(projectedThrough: number): Promise<SubscriptionHistory[]> {
    this.reading ??= readHistories(this.db)
      .then((histories) => {
        this.held = { through: projectedThrough, histories };
        return histories;
      })
      .finally(() => (this.reading = null));
    return this.reading;
  }

  /** Reads the histories ahead of the first request (a failure is left for that request to meet). */
  warm(projectedThrough: number): void {
    void this.read(projectedThrough).catch(() => undefined);
  }

  histories(projectedThrough: number): Promise<SubscriptionHistory[]> {
    const held = this.held;
    if (held !== null && held.through === projectedThrough) return Promise.resolve(held.histories);
    const fresh = this.read(projectedThrough);
    if (held === null) return fresh;
    fresh.catch(() => undefined);
    return Promise.race([fresh, new Promise<SubscriptionHistory[]>((resolve) => setTimeout(() => resolve(held.histories), this.waitMs).unref())]);
  }
}
