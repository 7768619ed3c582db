// Read-side queries over the projections and the event log. Nothing here writes.
import type { Catalog } from "../domain/catalog.js";
import { entitlementsAt, isGrantLive, type EntitlementView, type Grant } from "../domain/entitlements.js";
import type { Instant } from "../domain/time.js";
import { objectKey } from "../domain/identity.js";
import type { Provider } from "../domain/provider.js";
import type { Database } from "./database.js";
import { toStoredEvent, type StoredEvent } from "./events.js";
import { MAX_SEQ } from "./feed.js";
import { toGrant } from "./projection-rows.js";

/** Finds a user by the app's user id, any provider customer id, or Verity's own id. */
export const findUserId = async (db: Database, id: string): Promise<string | null> => {
  const identities = await db.prisma.userIdentity.findMany({
    where: { value: id, kind: { in: ["app", "customer"] } },
    select: { userId: true, kind: true },
  });
  const byApp = identities.find((i) => i.kind === "app") ?? identities[0];
  if (byApp) return byApp.userId;
  return (await db.prisma.user.findUnique({ where: { id }, select: { id: true } }))?.id ?? null;
};

export type OrderRow = Awaited<ReturnType<Database["prisma"]["order"]["findMany"]>>[number];

/**
 * What the store says of a provider's checkout (a Stripe Checkout Session, a Paddle transaction, a
 * Lemon Squeezy order, a Creem checkout): the user a stored event linked it to (by the checkout,
 * or the payment or invoice it is), and its order when it was a one-time purchase; null when no
 * stored event names it yet.
 */
export const findCheckout = async (db: Database, provider: Provider, id: string): Promise<{ readonly userId: string; readonly order: OrderRow | null } | null> => {
  const identity = await db.prisma.userIdentity.findFirst({ where: { key: { in: [objectKey("checkout", provider, id), objectKey("payment", provider, id), objectKey("invoice", provider, id)] } }, select: { userId: true } });
  if (identity === null) return null;
  return { userId: identity.userId, order: await db.prisma.order.findFirst({ where: { provider, providerId: id, userId: identity.userId } }) };
};

export const userEntitlements = async (db: Database, catalog: Catalog, userId: string, at: Instant): Promise<EntitlementView[]> => {
  const rows = await db.prisma.entitlement.findMany({ where: { userId }, orderBy: { id: "asc" } });
  return entitlementsAt(rows.map(toGrant), catalog, at);
};

export type SubscriptionRow = Awaited<ReturnType<Database["prisma"]["subscription"]["findMany"]>>[number];

const LIVE = new Set(["trialing", "active", "past_due"]);

/**
 * The live subscription that grants the most (the plan with the most features, then the latest
 * started), given the grants that are live at `at`.
 */
export const primarySubscription = (subs: readonly SubscriptionRow[], liveGrants: readonly Grant[]): SubscriptionRow | null => {
  const weight = (s: SubscriptionRow) => liveGrants.filter((g) => g.sourceId === s.id).length;
  const live = subs.filter((s) => LIVE.has(s.status) && weight(s) > 0);
  const candidates = live.length > 0 ? live : subs.filter((s) => LIVE.has(s.status));
  return (
    [...candidates].sort(
      (a, b) => weight(b) - weight(a) || (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1),
    )[0] ?? null
  );
};

/** The grants that hold at `at`. */
export const liveGrants = (grants: readonly Grant[], at: Instant): Grant[] => grants.filter((g) => isGrantLive(g, at));

export const userSubscriptions = async (db: Database, userId: string, at: Instant) => {
  const subs = await db.prisma.subscription.findMany({ where: { userId }, orderBy: [{ startedAt: { sort: "desc", nulls: "last" } }, { id: "asc" }] });
  const grants = (await db.prisma.entitlement.findMany({ where: { userId } })).map(toGrant);
  return { primary: primarySubscription(subs, liveGrants(grants, at)), all: subs };
};

export const encodeCursor = (seq: number): string => Buffer.from(`seq:${seq}`).toString("base64url");

export const decodeCursor = (cursor: string): number | null => {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const m = /^seq:(\d{1,10})$/.exec(text);
  return m && Number(m[1]) <= MAX_SEQ ? Number(m[1]) : null;
};

export type EventPage = { readonly events: readonly StoredEvent[]; readonly next: string | null };

/** Events in arrival order after a cursor, or received at or after an instant; `rawOnly`: only those kept without a parsed copy. */
export const listEvents = async (
  db: Database,
  since: { readonly afterSeq: number } | { readonly receivedFrom: Instant } | null,
  limit: number,
  options: { readonly rawOnly?: boolean } = {},
): Promise<EventPage> => {
  const where = {
    ...(since === null ? {} : "afterSeq" in since ? { seq: { gt: since.afterSeq } } : { receivedAt: { gte: new Date(since.receivedFrom) } }),
    ...(options.rawOnly ? { rawOnlyReason: { not: null } } : {}),
  };
  const rows = await db.prisma.event.findMany({ where, orderBy: { seq: "asc" }, take: limit + 1 });
  // Listed only once on disk (SQLite commits are flushed off the thread, wal-flush.ts): a cursor
  // must never point past what a power loss could take back, or SQLite would hand its seq out again.
  await db.walFlusher?.barrier();
  const page = rows.slice(0, limit).map(toStoredEvent);
  return { events: page, next: rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null };
};
