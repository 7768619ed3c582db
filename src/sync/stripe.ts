// Reading Stripe's API for `verity sync stripe`, through the official `stripe` package: the events
// Stripe still holds (its last 30 days) to store what webhooks missed, and the current
// subscriptions to compare with Verity's (drift). STRIPE_API_BASE points it at a stand-in in tests.
import Stripe from "stripe";
import type { Json } from "../providers/json.js";
import { subscriptionPeriodSeconds, subscriptionPriceIds } from "../providers/stripe/subscription.js";
import type { RemoteSubscription } from "./remote.js";

export type StripeAccess = { readonly secretKey: string; readonly baseUrl: string };

const clientOf = (access: StripeAccess): Stripe => {
  const base = new URL(access.baseUrl);
  return new Stripe(access.secretKey, {
    host: base.hostname,
    port: base.port === "" ? (base.protocol === "http:" ? 80 : 443) : Number(base.port),
    protocol: base.protocol === "http:" ? "http" : "https",
    maxNetworkRetries: 2,
    timeout: 30_000,
    appInfo: { name: "verity-sync" },
  });
};

/** An event as the API returned it: its id, type, creation (seconds) and the JSON to store. */
export type FetchedEvent = { readonly id: string; readonly type: string; readonly created: number; readonly body: string };

/** Every event Stripe holds created at or after `since` (seconds), oldest first. */
export const stripeEventsSince = async (access: StripeAccess, since: number): Promise<FetchedEvent[]> => {
  const events: FetchedEvent[] = [];
  for await (const event of clientOf(access).events.list({ created: { gte: since }, limit: 100 })) {
    events.push({ id: event.id, type: event.type, created: event.created, body: JSON.stringify(event) });
  }
  return events.sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1));
};

/** Every subscription Stripe has, whatever its status. */
export const stripeSubscriptions = async (access: StripeAccess): Promise<RemoteSubscription[]> => {
  const subscriptions: RemoteSubscription[] = [];
  for await (const sub of clientOf(access).subscriptions.list({ status: "all", limit: 100 })) {
    const json = JSON.parse(JSON.stringify(sub)) as Json;
    const customer = typeof sub.customer === "string" ? sub.customer : (sub.customer?.id ?? null);
    subscriptions.push({ id: sub.id, customer, status: sub.status, priceIds: subscriptionPriceIds(json), periodEnd: subscriptionPeriodSeconds(json).end, body: JSON.stringify(sub) });
  }
  return subscriptions;
};

/** A customer as Stripe has it now (JSON), or null when Stripe does not know it. */
export const stripeCustomer = async (access: StripeAccess, id: string): Promise<string | null> => {
  try {
    return JSON.stringify(await clientOf(access).customers.retrieve(id));
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw e;
  }
};
