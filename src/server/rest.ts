// The REST shortcuts: the same answers as GraphQL for the questions apps ask most.
import { Either } from "effect";
import { eventPageQuery } from "../api/event-page.js";
import type { Catalog } from "../domain/catalog.js";
import type { EntitlementView } from "../domain/entitlements.js";
import type { Database } from "../store/database.js";
import type { StoredEvent } from "../store/events.js";
import { entitlementsAt } from "../domain/entitlements.js";
import type { ReadModel } from "../store/read-model.js";
import { encodeCursor, listEvents, liveGrants, primarySubscription, type SubscriptionRow } from "../store/reads.js";
import { apiError, type ApiError } from "./errors.js";

export type RestResult = { readonly status: 200; readonly body: unknown } | ApiError;

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

const userNotFound = (id: string) => apiError(404, "user_not_found", `no user is known by the id "${id}"`);

/** A user's entitlements at `now`, from the read model (a lookup once the user is in memory). */
export const getEntitlements = async (reads: ReadModel, catalog: Catalog, id: string, now: number): Promise<RestResult> => {
  const userId = await reads.findUser(id);
  const view = userId === null ? null : await reads.user(userId);
  if (view === null) return userNotFound(id);
  return { status: 200, body: { userId: view.user.appUserId ?? view.user.id, entitlements: entitlementsAt(view.grants, catalog, now).map(entitlementJson) } };
};

export const getSubscription = async (reads: ReadModel, id: string, now: number): Promise<RestResult> => {
  const userId = await reads.findUser(id);
  const view = userId === null ? null : await reads.user(userId);
  if (view === null) return userNotFound(id);
  const primary = primarySubscription(view.subscriptions, liveGrants(view.grants, now));
  return {
    status: 200,
    body: {
      userId: view.user.appUserId ?? view.user.id,
      subscription: primary ? subscriptionJson(primary) : null,
      subscriptions: view.subscriptions.map(subscriptionJson),
    },
  };
};

export const getEvents = async (db: Database, query: URLSearchParams): Promise<RestResult> => {
  const parsed = eventPageQuery(query.get("since"), query.get("limit"));
  if (Either.isLeft(parsed)) return apiError(400, "invalid_parameter", parsed.left);
  const page = await listEvents(db, parsed.right.from, parsed.right.limit);
  return { status: 200, body: { events: page.events.map(eventJson), next: page.next } };
};
