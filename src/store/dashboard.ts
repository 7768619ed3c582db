// The dashboard's store reads that are not metrics: a page of customers (searchable by any id or
// email) with their main subscription, and the incidents an operator should look at.
// Cost: the customer search is a LIKE over users and identities (a scan; fine at tens of thousands
// of customers); incidents read the recent failed-payment transitions (by the index on `at`),
// the subscriptions past their period, the refusal log and the unprojected tail of the event store.
import type { Catalog } from "../domain/catalog.js";
import type { Instant } from "../domain/time.js";
import type { Database } from "./database.js";
import { readEvents, type StoredEvent } from "./events.js";
import { Prisma } from "./generated/postgresql/client.js";
import type { QuotaBlockLog, QuotaBlockRow } from "./quota-blocks.js";
import type { RejectionLog, RejectionRow } from "./rejections.js";
import { sqlOf } from "./sql.js";
import { sqlValue } from "./insert-rows.js";

export type CustomerRow = {
  readonly id: string;
  readonly appUserId: string | null;
  readonly email: string | null;
  readonly status: string;
  readonly createdAt: Date;
  readonly plan: string | null;
  readonly subscriptionStatus: string | null;
  readonly currentPeriodEnd: Date | null;
};

export const customerPage = async (db: Database, search: string | null, first: number, offset: number): Promise<{ total: number; customers: CustomerRow[] }> => {
  const text = search?.trim() ?? "";
  const where =
    text === ""
      ? {}
      : { OR: [{ id: { contains: text } }, { appUserId: { contains: text } }, { email: { contains: text } }, { identities: { some: { value: { contains: text } } } }] };
  const [total, users] = await Promise.all([
    db.prisma.user.count({ where }),
    db.prisma.user.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      skip: offset,
      take: first,
      include: { subscriptions: { orderBy: [{ startedAt: { sort: "desc", nulls: "last" } }, { id: "asc" }], take: 1 } },
    }),
  ]);
  return {
    total,
    customers: users.map((u) => ({
      id: u.id,
      appUserId: u.appUserId,
      email: u.email,
      status: u.status,
      createdAt: u.createdAt,
      plan: u.subscriptions[0]?.plan ?? null,
      subscriptionStatus: u.subscriptions[0]?.status ?? null,
      currentPeriodEnd: u.subscriptions[0]?.currentPeriodEnd ?? null,
    })),
  };
};

export type Incident = { readonly kind: string; readonly userId: string; readonly subject: string; readonly at: Date; readonly detail: string };

export type Incidents = {
  readonly failedPayments: readonly Incident[];
  readonly missedRenewals: readonly Incident[];
  readonly rejectedDeliveries: readonly RejectionRow[];
  readonly quotaBlocks: readonly QuotaBlockRow[];
  readonly unprojectedEvents: number;
};

const DAY = 86_400_000;
const LISTED = 100;

export const incidentsAt = async (
  db: Database,
  catalog: Catalog,
  logs: { readonly rejections: RejectionLog; readonly quotaBlocks: QuotaBlockLog },
  projectedThrough: number,
  now: Instant,
): Promise<Incidents> => {
  const failed = await db.prisma.transition.findMany({
    where: { entity: "payment", field: "status", to: "failed", at: { gte: new Date(now - 30 * DAY) } },
    orderBy: [{ at: "desc" }, { id: "asc" }],
    take: LISTED,
    include: { user: { select: { appUserId: true } } },
  });
  const overdue = await db.prisma.subscription.findMany({
    where: { status: "active", currentPeriodEnd: { lt: new Date(now - catalog.grace.pastDueDays * DAY) } },
    orderBy: [{ currentPeriodEnd: "asc" }, { id: "asc" }],
    take: LISTED,
    include: { user: { select: { appUserId: true } } },
  });
  const refused = (await logs.rejections.list(500)).filter((r) => r.receivedAt.getTime() >= now - DAY);
  // Events past the projection position that no projection has marked (the app's own are marked as they are written).
  const tail = await db.prisma.event.count({ where: { seq: { gt: projectedThrough } } });
  const markedTail = await db.prisma.projectedEvent.count({ where: { seq: { gt: projectedThrough } } });
  return {
    failedPayments: failed.map((t) => ({ kind: "payment_failed", userId: t.user.appUserId ?? t.userId, subject: t.entityId, at: t.at, detail: `payment ${t.entityId} failed (event ${t.cause})` })),
    missedRenewals: overdue.map((s) => ({
      kind: "missed_renewal",
      userId: s.user.appUserId ?? s.userId,
      subject: s.id,
      at: s.currentPeriodEnd!,
      detail: `still active, but its period ended ${s.currentPeriodEnd!.toISOString()} and no renewal was seen: check the subscription at ${s.provider} (its dashboard or API) and redeliver the webhook Verity missed`,
    })),
    rejectedDeliveries: refused,
    quotaBlocks: await logs.quotaBlocks.since(now - DAY, LISTED),
    unprojectedEvents: Math.max(0, tail - markedTail),
  };
};

/** One stored event of a user's timeline with the transitions it caused for that user, in fold order. */
export type TimelineEntry = { readonly cause: string; readonly event: StoredEvent | null; readonly transitions: readonly TransitionRow[] };
type TransitionRow = Awaited<ReturnType<Database["prisma"]["transition"]["findMany"]>>[number];

/**
 * The newest `first` events that changed `userId`, newest first, each with its transitions and its
 * stored event (raw body exactly as received). The user's log is read backwards in pages of `page`
 * (by its (userId, ordinal) index) until one more event than asked for has appeared, so the last
 * event shown has all its transitions (one event's transitions are adjacent: one step emits them).
 * Cost: about `first` events' transitions and one lookup per event shown, whatever the user's size.
 */
export const customerTimeline = async (db: Database, userId: string, first: number, page = 500): Promise<TimelineEntry[]> => {
  // Newest first, each event's transitions kept in fold order.
  const byCause = new Map<string, TransitionRow[]>();
  for (let before: number | null = null; ; ) {
    const rows: TransitionRow[] = await db.prisma.transition.findMany({
      where: { userId, ...(before === null ? {} : { ordinal: { lt: before } }) },
      orderBy: { ordinal: "desc" },
      take: page,
    });
    for (const t of rows) {
      const caused = byCause.get(t.cause);
      if (caused) caused.unshift(t);
      else byCause.set(t.cause, [t]);
    }
    if (rows.length < page || byCause.size > first) break;
    before = rows.at(-1)!.ordinal;
  }
  const newest = [...byCause].slice(0, first);
  const sql = sqlOf(db);
  return Promise.all(
    newest.map(async ([cause, caused]) => {
      const split = cause.indexOf(":");
      const [provider, id] = [cause.slice(0, split), cause.slice(split + 1)];
      const event = (await readEvents(sql, Prisma.sql`"provider" = ${provider} AND "providerEventId" = ${id}`))[0] ?? null;
      return { cause, event, transitions: caused };
    }),
  );
};

/** Events received per UTC day and provider since `from`, oldest day first. Cost: the events since `from` (by the index on receivedAt). */
export const eventsPerDay = async (db: Database, from: Instant): Promise<{ day: string; provider: string; count: number }[]> => {
  const sql = sqlOf(db);
  const day = sql.kind === "sqlite" ? Prisma.sql`substr("receivedAt", 1, 10)` : Prisma.sql`to_char("receivedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
  const rows = await sql.query<{ day: string; provider: string; count: number | bigint }>(
    Prisma.sql`SELECT ${day} AS "day", "provider", count(*) AS "count" FROM "Event" WHERE "receivedAt" >= ${sqlValue(sql.kind, new Date(from))} GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return rows.map((r) => ({ day: r.day, provider: r.provider, count: Number(r.count) }));
};

/** Units used per feature over the counters whose period holds `at` (scaled units: divide by 10^decimals). */
export const usageByFeature = async (db: Database, at: Instant): Promise<{ feature: string; used: number; records: number; subjects: number }[]> => {
  const sql = sqlOf(db);
  const t = sqlValue(sql.kind, new Date(at));
  const rows = await sql.query<{ feature: string; used: number | bigint; records: number | bigint; subjects: number | bigint }>(
    Prisma.sql`SELECT "feature", sum("used") AS "used", sum("records") AS "records", count(*) AS "subjects" FROM "UsageCounter" WHERE "periodStart" <= ${t} AND ("periodEnd" IS NULL OR "periodEnd" > ${t}) GROUP BY "feature" ORDER BY "feature"`,
  );
  return rows.map((r) => ({ feature: r.feature, used: Number(r.used), records: Number(r.records), subjects: Number(r.subjects) }));
};
