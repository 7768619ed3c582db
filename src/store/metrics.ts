// What the dashboard's metrics are computed from, read from the projections: every subscription's
// status and plan changes from the transition log, its paid invoices and its current billing
// period (src/domain/metrics builds the histories and computes). The read costs a scan of the
// subscription transitions and orders, so it is kept in memory and read again only once the
// projections have moved on and `maxAgeMs` has passed.
import type { Catalog } from "../domain/catalog.js";
import { subscriptionHistories, type SubscriptionHistory } from "../domain/metrics/history.js";
import type { Instant } from "../domain/time.js";
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

/** The histories as of a projection position, read again when the position moved and they are older than `maxAgeMs`. */
export class HistoryCache {
  private held: { readonly through: number; readonly readAt: Instant; readonly histories: Promise<SubscriptionHistory[]> } | null = null;

  constructor(
    private readonly db: Database,
    private readonly maxAgeMs = 5_000,
  ) {}

  histories(projectedThrough: number, now: Instant): Promise<SubscriptionHistory[]> {
    const held = this.held;
    if (held !== null && (held.through === projectedThrough || now - held.readAt < this.maxAgeMs)) return held.histories;
    const histories = readHistories(this.db);
    this.held = { through: projectedThrough, readAt: now, histories };
    // A failed read is not kept.
    histories.catch(() => {
      if (this.held?.histories === histories) this.held = null;
    });
    return histories;
  }
}

