// The REST shortcuts: the same answers as GraphQL for the questions apps ask most.
import { Either } from "effect";
import { eventPageQuery } from "../api/event-page.js";
import type { Catalog } from "../domain/catalog.js";
import type { EntitlementView } from "../domain/entitlements.js";
import type { Database } from "../store/database.js";
import type { StoredEvent } from "../store/events.js";
import { entitlementsAt } from "../domain/entitlements.js";
import { meterReading, slotReading, type ReadModel, type UserView } from "../store/read-model.js";
import { encodeCursor, findCheckout, listEvents, liveGrants, primarySubscription, type OrderRow, type SubscriptionRow } from "../store/reads.js";
import { PROVIDERS, type Provider } from "../domain/provider.js";
import { checkoutRefs } from "../providers/registry.js";
import { InvalidParameter, ok, UserNotFound, type Answer } from "./errors.js";
import { creditsOf } from "../store/credits.js";
import { isLanguageTag, pricingPlans } from "../domain/pricing.js";

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export const entitlementJson = (e: EntitlementView) => ({ ...e, resetsAt: iso(e.resetsAt) });

export const subscriptionJson = (s: SubscriptionRow) => ({
  provider: s.provider,
  id: s.providerId,
  plan: s.plan,
  status: s.status,
  providerStatus: s.providerStatus,
  currentPeriodStart: s.currentPeriodStart?.toISOString() ?? null,
  currentPeriodEnd: s.currentPeriodEnd?.toISOString() ?? null,
  cancelAtPeriodEnd: s.cancelAtPeriodEnd,
  canceledAt: s.canceledAt?.toISOString() ?? null,
  startedAt: s.startedAt?.toISOString() ?? null,
  endedAt: s.endedAt?.toISOString() ?? null,
  trialStart: s.trialStart?.toISOString() ?? null,
  trialEnd: s.trialEnd?.toISOString() ?? null,
});

export const eventJson = (e: StoredEvent) => ({
  cursor: encodeCursor(e.seq),
  provider: e.provider,
  id: e.providerEventId,
  type: e.type,
  origin: e.origin,
  occurredAt: new Date(e.occurredAt).toISOString(),
  receivedAt: new Date(e.receivedAt).toISOString(),
  payload: e.payload,
  ...(e.rawOnlyReason ? { rawOnlyReason: e.rawOnlyReason } : {}),
});

/** The user known by `id` (any id it is known by), from the read model. */
const userView = async (reads: ReadModel, id: string): Promise<Either.Either<UserView, UserNotFound>> => {
  const userId = await reads.findUser(id);
  const view = userId === null ? null : await reads.user(userId);
  return view === null ? Either.left(new UserNotFound({ id })) : Either.right(view);
};

/** A user's entitlements at `now`, from the read model (a lookup once the user is in memory). */
export const getEntitlements = async (reads: ReadModel, catalog: Catalog, id: string, now: number): Promise<Either.Either<Answer, UserNotFound>> =>
  Either.map(await userView(reads, id), (view) =>
    ok({ userId: view.user.appUserId ?? view.user.id, entitlements: entitlementsAt(view.grants, catalog, now, meterReading(view, now), slotReading(view, now)).map(entitlementJson) }),
  );

export const getSubscription = async (reads: ReadModel, id: string, now: number): Promise<Either.Either<Answer, UserNotFound>> =>
  Either.map(await userView(reads, id), (view) => {
    const primary = primarySubscription(view.subscriptions, liveGrants(view.grants, now));
    return ok({
      userId: view.user.appUserId ?? view.user.id,
      subscription: primary ? subscriptionJson(primary) : null,
      subscriptions: view.subscriptions.map(subscriptionJson),
    });
  });

export const getEvents = async (db: Database, query: URLSearchParams): Promise<Either.Either<Answer, InvalidParameter>> =>
  Either.match(eventPageQuery(query.get("since"), query.get("limit")), {
    onLeft: async (message) => Either.left(new InvalidParameter({ message })),
    onRight: async ({ from, limit }) => {
      const page = await listEvents(db, from, limit);
      return Either.right(ok({ events: page.events.map(eventJson), next: page.next }));
    },
  });

/** A user's credit balances and ledger at `now` (oldest entry first), a page at a time. */
export const getCredits = async (db: Database, reads: ReadModel, catalog: Catalog, id: string, now: number, query: URLSearchParams): Promise<Either.Either<Answer, UserNotFound | InvalidParameter>> => {
  const found = await userView(reads, id);
  if (Either.isLeft(found)) return Either.left(found.left);
  const limitText = query.get("limit") ?? "100";
  const limit = /^\d{1,3}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= 500)) return Either.left(new InvalidParameter({ message: "limit: an integer from 1 to 500" }));
  const after = query.get("after");
  const offset = after === null ? 0 : decodeLedgerCursor(after);
  if (offset === null) return Either.left(new InvalidParameter({ message: "after: not a cursor from this ledger's `next`" }));
  const view = found.right;
  const { balances, ledger } = await creditsOf(db, catalog, view.user.id, view.subject, now);
  const page = ledger.slice(offset, offset + limit);
  return Either.right(
    ok({
      userId: view.user.appUserId ?? view.user.id,
      balances,
      ledger: page.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      next: offset + limit < ledger.length ? encodeLedgerCursor(offset + limit) : null,
    }),
  );
};

const encodeLedgerCursor = (n: number): string => Buffer.from(`ledger:${n}`).toString("base64url");
const decodeLedgerCursor = (cursor: string): number | null => {
  const m = /^ledger:(\d{1,9})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return m ? Number(m[1]) : null;
};

/** `GET /api/plans?locale=`: the catalog as a pricing page needs it, texts in the asked language where the catalog has them. */
export const getPlans = (catalog: Catalog, query: URLSearchParams): Either.Either<Answer, InvalidParameter> => {
  const locale = query.get("locale");
  if (locale !== null && !isLanguageTag(locale)) return Either.left(new InvalidParameter({ message: `locale must be a language tag such as "de" or "pt-BR", got ${JSON.stringify(locale)}` }));
  return Either.right(ok({ plans: pricingPlans(catalog, locale) }));
};

/** An order as the checkout answer states it. */
const orderJson = (o: OrderRow) => ({
  id: o.providerId,
  plan: o.plan,
  status: o.status,
  amount: o.amount,
  amountRefunded: o.amountRefunded,
  currency: o.currency,
  paidAt: o.paidAt.toISOString(),
});

/**
 * `GET /api/checkouts/{provider}/{id}`: has this checkout completed, for whom, and what does it
 * grant now. Answered from stored events only: `pending` until a provider's signed event named it,
 * so a success page asking this cannot be fooled by a forged redirect. A one-time purchase answers
 * its order and what that order grants; a subscription checkout the user's subscriptions at that
 * provider and what they grant.
 */
export const getCheckout = async (db: Database, reads: ReadModel, catalog: Catalog, providerText: string, rawId: string, now: number): Promise<Either.Either<Answer, InvalidParameter>> => {
  if (!(PROVIDERS as readonly string[]).includes(providerText)) return Either.left(new InvalidParameter({ message: `unknown provider ${JSON.stringify(providerText)}; providers are ${PROVIDERS.join(", ")}` }));
  const provider = providerText as Provider;
  const id = checkoutRefs[provider]?.(rawId) ?? rawId;
  const found = await findCheckout(db, provider, id);
  const view = found === null ? null : await reads.user(found.userId);
  if (found === null || view === null) return Either.right(ok({ provider, id: rawId, status: "pending", userId: null, paid: false, order: null, subscriptions: [], entitlements: [] }));
  const subscriptions = found.order === null ? view.subscriptions.filter((s) => s.provider === provider) : [];
  const sources = new Set([...(found.order === null ? [] : [found.order.id]), ...subscriptions.map((s) => s.id)]);
  const grants = view.grants.filter((g) => sources.has(g.sourceId));
  return Either.right(
    ok({
      provider,
      id: rawId,
      status: "completed",
      userId: view.user.appUserId ?? view.user.id,
      paid: found.order === null ? subscriptions.length > 0 : found.order.status !== "pending",
      order: found.order === null ? null : orderJson(found.order),
      subscriptions: subscriptions.map(subscriptionJson),
      entitlements: entitlementsAt(grants, catalog, now, meterReading(view, now), slotReading(view, now))
        .filter((e) => e.enabled)
        .map(entitlementJson),
    }),
  );
};
