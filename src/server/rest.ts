// The REST shortcuts: the same answers as GraphQL for the questions apps ask most.
import { Either } from "effect";
import { eventPageQuery } from "../api/event-page.js";
import type { Catalog } from "../domain/catalog.js";
import type { EntitlementView } from "../domain/entitlements.js";
import type { Database } from "../store/database.js";
import type { StoredEvent } from "../store/events.js";
import { entitlementsAt } from "../domain/entitlements.js";
import { meterReading, slotReading, type ReadModel, type UserView } from "../store/read-model.js";
import { encodeCursor, listEvents, liveGrants, primarySubscription, type SubscriptionRow } from "../store/reads.js";
import { InvalidParameter, ok, UserNotFound, type Answer } from "./errors.js";

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
