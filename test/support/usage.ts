// Usage tests' world: a catalog with every kind of metered feature, subscribers made by delivering
// signed Stripe events to the real server, and calls of the usage endpoints.
import type { Catalog } from "../../src/domain/catalog.js";
import { createApiKey } from "../../src/server/auth.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import type { RunningServer } from "./server.js";
import { deliver } from "./stripe-delivery.js";

export const USAGE_PRICES = { starter: "price_starter_monthly", scale: "price_scale_monthly" } as const;

/** Starter and Scale: a calendar-month API quota that blocks, CPU seconds per billing period with overage, and the other kinds. */
export const usageCatalog: Catalog = {
  plans: {
    starter: {
      code: "starter",
      name: "Starter",
      prices: { stripe: [USAGE_PRICES.starter] },
      features: {
        export: { _tag: "Flag" },
        api_calls: { _tag: "Metered", limit: 100, per: "month", overage: "block", decimals: 0 },
        cpu_seconds: { _tag: "Metered", limit: 10, per: "period", overage: "allow", decimals: 3 },
        tasks: { _tag: "Concurrent", concurrent: 3, leaseSeconds: 300 },
        max_duration_seconds: { _tag: "Value", value: 300 },
      },
      credits: null,
      lifetime: false,
      price: { amount: 900, currency: "usd", interval: "month" },
    },
    scale: {
      code: "scale",
      name: "Scale",
      prices: { stripe: [USAGE_PRICES.scale] },
      features: {
        export: { _tag: "Flag" },
        api_calls: { _tag: "Metered", limit: 1_000, per: "month", overage: "block", decimals: 0 },
        cpu_seconds: { _tag: "Metered", limit: 100, per: "period", overage: "allow", decimals: 3 },
      },
      credits: null,
      lifetime: false,
      price: { amount: 4900, currency: "usd", interval: "month" },
    },
  },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id", "userId"],
};

/** 2026-11-10T00:00:00Z, in seconds: inside November 2026. */
export const T0 = 1_794_268_800;

/** Delivers a customer with the app's user id and (unless `priceId` is null) an active subscription to `priceId`. */
export const subscribe = async (
  server: { readonly url: string; readonly clock?: { readonly now: number } },
  user: string,
  priceId: string | null,
  options: { readonly periodStart?: number; readonly periodEnd?: number; readonly created?: number; readonly eventSuffix?: string } = {},
): Promise<void> => {
  const created = options.created ?? T0;
  const suffix = options.eventSuffix ?? "";
  const cus = `cus_${user}`;
  // Signed at the server's clock, so the signature is fresh whatever the events say happened.
  const timestamp = Math.floor((server.clock?.now ?? Date.now()) / 1000);
  await deliver(server.url, stripeEvent({ id: `evt_cus_${user}${suffix}`, type: "customer.created", created, object: customer({ id: cus, metadata: { user_id: user } }) }), { timestamp });
  if (priceId === null) return;
  const object = subscription({
    id: `sub_${user}`,
    customer: cus,
    status: "active",
    priceId,
    periodStart: options.periodStart ?? T0,
    periodEnd: options.periodEnd ?? T0 + 30 * 86_400,
    shape: "basil",
  });
  await deliver(server.url, stripeEvent({ id: `evt_sub_${user}${suffix}`, type: suffix === "" ? "customer.subscription.created" : "customer.subscription.updated", created, object }), { timestamp });
};

/** A key with the usage:write and read scopes. */
export const usageKey = async (server: RunningServer): Promise<string> => (await createApiKey(server.db, ["read", "usage:write"], new Date())).key;

export type Posted = { readonly status: number; readonly body: any; readonly headers: Headers };

export const post = async (server: RunningServer, path: string, key: string | null, body: unknown, headers: Record<string, string> = {}): Promise<Posted> => {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
};

/** How many usage records and counters the store holds. */
export const usageCounts = async (server: RunningServer): Promise<{ readonly events: number; readonly used: number }> => {
  const events = await server.db.prisma.event.count({ where: { provider: "app" } });
  const counters = await server.db.prisma.usageCounter.findMany();
  return { events, used: counters.reduce((sum, c) => sum + Number(c.used), 0) };
};
