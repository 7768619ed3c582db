// Paddle, Lemon Squeezy and Creem webhooks through the real HTTP server, beside Stripe: each
// provider's signed delivery is stored once and projected, a forged or unconfigured one stores
// nothing, one person buying at two providers is one user, and the union rule across providers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Provider } from "../../src/domain/provider.js";
import { creemSignatureHeader } from "../../src/providers/creem/verify.js";
import { lemonSqueezySignature } from "../../src/providers/lemonsqueezy/verify.js";
import { paddleSignatureHeader } from "../../src/providers/paddle/verify.js";
import * as creem from "../builders/creem.js";
import { PROVIDER_PRICES, PRICES, testCatalog } from "../builders/histories.js";
import * as ls from "../builders/lemonsqueezy.js";
import * as paddle from "../builders/paddle.js";
import { customer, stripeEvent, subscription as stripeSubscription } from "../builders/stripe.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { projectedAfter } from "../support/projected.js";
import { deliver } from "../support/stripe-delivery.js";

const T0 = 1_735_689_600; // 2025-01-01T00:00:00Z
const DAY = 86_400;
const SECRETS = { paddle: "pdl_ntfset_test_secret", lemonsqueezy: "ls_test_secret", creem: "whsec_creem_test_secret" } as const;
type Other = keyof typeof SECRETS;

/** How each provider signs a body, as its own header. */
const signed = (provider: Other, body: Buffer, secret: string): Record<string, string> => {
  switch (provider) {
    case "paddle":
      return { "paddle-signature": paddleSignatureHeader(body, secret, T0) };
    case "lemonsqueezy":
      return { "x-signature": lemonSqueezySignature(body, secret) };
    case "creem":
      return { "creem-signature": creemSignatureHeader(body, secret) };
    default: {
      const unreachable: never = provider;
      return unreachable;
    }
  }
};

type Plan = "pro" | "team";

/** An active subscription at `provider` for the app's user `userId`, on `plan`. */
const activeSubscription = (provider: Other, userId: string, plan: Plan, n: number): Buffer => {
  const start = (T0 - DAY) * 1000;
  const end = (T0 + 29 * DAY) * 1000;
  const price = (p: Record<"proMonthly" | "teamMonthly", string>) => (plan === "pro" ? p.proMonthly : p.teamMonthly);
  switch (provider) {
    case "paddle":
      return paddle.bodyOf(
        paddle.paddleEvent({
          id: `evt_01paddle${n}`,
          type: "subscription.created",
          occurredAt: start,
          data: paddle.subscription({
            id: `sub_01paddle${n}`,
            customerId: `ctm_01paddle${n}`,
            status: "active",
            priceIds: [price(PROVIDER_PRICES.paddle)],
            period: { start, end },
            startedAt: start,
            updatedAt: start,
            customData: { user_id: userId },
          }),
        }),
      );
    case "lemonsqueezy":
      return Buffer.from(
        JSON.stringify(
          ls.lsEvent({
            eventName: "subscription_created",
            customData: { user_id: userId },
            data: ls.subscription({ id: String(900 + n), status: "active", variantId: Number(price(PROVIDER_PRICES.lemonsqueezy)), customerId: 800 + n, createdAt: T0 - DAY, updatedAt: T0 - DAY, renewsAt: T0 + 29 * DAY }),
          }),
        ),
      );
    case "creem":
      return creem.bodyOf(
        creem.creemEvent({
          id: `evt_creem${n}`,
          type: "subscription.active",
          createdAt: start,
          object: creem.subscription({ id: `sub_creem${n}`, customerId: `cust_creem${n}`, productId: price(PROVIDER_PRICES.creem), status: "active", periodStart: start, periodEnd: end, metadata: { user_id: userId } }),
        }),
      );
    default: {
      const unreachable: never = provider;
      return unreachable;
    }
  }
};

type Entitlement = { feature: string; enabled: boolean; source: string | null; limit: number | null };

const OTHERS: readonly Other[] = ["paddle", "lemonsqueezy", "creem"];

describe.each(KINDS)("Paddle, Lemon Squeezy and Creem webhooks on %s", (kind) => {
  let s: RunningServer;
  const post = async (provider: Provider, body: Buffer, headers: Record<string, string>) =>
    projectedAfter(s.url, await fetch(`${s.url}/webhooks/${provider}`, { method: "POST", body: new Uint8Array(body), headers: { "content-type": "application/json", ...headers } }));
  const stored = () => s.db.prisma.event.count();
  const entitlements = async (userId: string): Promise<Record<string, Entitlement>> => {
    const res = await fetch(`${s.url}/api/users/${userId}/entitlements`, { headers: { authorization: `Bearer ${s.readKey}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { entitlements: Entitlement[] };
    return Object.fromEntries(body.entitlements.map((e) => [e.feature, e]));
  };

  beforeAll(async () => {
    s = await startServer(kind, testCatalog, { now: T0 * 1000, providerSecrets: { paddle: [SECRETS.paddle], lemonsqueezy: [SECRETS.lemonsqueezy], creem: [SECRETS.creem] } });
  });
  afterAll(async () => s?.stop());

  it.each(OTHERS)("%s: a signed delivery is stored once and projected; a forged one is refused and stores nothing", async (provider) => {
    const userId = `user_${provider}`;
    const body = activeSubscription(provider, userId, "pro", 1);
    const before = await stored();

    const forged = await post(provider, body, signed(provider, body, "not-the-secret"));
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("signature_mismatch");
    const unsigned = await post(provider, body, {});
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe("missing_signature");
    expect(await stored()).toBe(before);

    const first = await post(provider, body, signed(provider, body, SECRETS[provider]));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ received: true, duplicate: false });
    const again = await post(provider, body, signed(provider, body, SECRETS[provider]));
    expect(await again.json()).toMatchObject({ received: true, duplicate: true });
    expect(await stored()).toBe(before + 1);
    const raw = await s.db.prisma.event.findFirst({ where: { provider }, orderBy: { seq: "desc" } });
    expect(Buffer.from(raw!.rawBody).equals(body)).toBe(true);

    const granted = await entitlements(userId);
    expect(granted["export"]).toMatchObject({ enabled: true, source: "pro" });
    expect(granted["api_calls"]).toMatchObject({ enabled: true, source: "pro", limit: 10_000 });
  });

  it("refuses with invalid_event, and stores nothing, a signed body whose time no Date can hold", async () => {
    const before = await stored();
    // Creem's created_at is epoch milliseconds: 9e15 is past what a Date (or a database) holds.
    const farFuture = creem.bodyOf(creem.creemEvent({ id: "evt_creem_far", type: "subscription.active", createdAt: 9e15, object: { id: "sub_far", object: "subscription" } }));
    for (const [provider, body] of [["creem", farFuture]] as const) {
      const res = await post(provider, body, signed(provider, body, SECRETS[provider]));
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("invalid_event");
    }
    expect(await stored()).toBe(before);
  });

  it("a user with an active Lemon Squeezy subscription and a canceled Stripe one has the Lemon Squeezy plan's features", async () => {
    const userId = "user_two_providers";
    const start = T0 - 40 * DAY;
    await deliver(s.url, stripeEvent({ id: "evt_two_c", type: "customer.created", created: start, object: customer({ id: "cus_two", metadata: { user_id: userId } }) }), { timestamp: T0 });
    const teamAtStripe = (status: "active" | "canceled", created: number) =>
      stripeEvent({
        id: `evt_two_${status}`,
        type: status === "active" ? "customer.subscription.created" : "customer.subscription.deleted",
        created,
        object: stripeSubscription({ id: "sub_two", customer: "cus_two", status, priceId: PRICES.teamMonthly, periodStart: start, periodEnd: start + 30 * DAY, shape: "basil" }),
      });
    await deliver(s.url, teamAtStripe("active", start), { timestamp: T0 });
    expect((await entitlements(userId))["api_calls"]).toMatchObject({ source: "team", limit: 50_000 });
    await deliver(s.url, teamAtStripe("canceled", T0 - 2 * DAY), { timestamp: T0 });
    const body = activeSubscription("lemonsqueezy", userId, "pro", 2);
    expect((await post("lemonsqueezy", body, signed("lemonsqueezy", body, SECRETS.lemonsqueezy))).status).toBe(200);

    const granted = await entitlements(userId);
    expect(granted["api_calls"]).toMatchObject({ enabled: true, source: "pro", limit: 10_000 });
    const subs = await fetch(`${s.url}/api/users/${userId}/subscription`, { headers: { authorization: `Bearer ${s.readKey}` } });
    const { subscription, subscriptions } = (await subs.json()) as { subscription: { provider: string; plan: string; status: string }; subscriptions: { provider: string; status: string }[] };
    expect(subscription).toMatchObject({ provider: "lemonsqueezy", plan: "pro", status: "active" });
    expect(subscriptions.map((x) => [x.provider, x.status]).sort()).toEqual([
      ["lemonsqueezy", "active"],
      ["stripe", "canceled"],
    ]);
  });

  it("union rule: with Paddle Pro and Creem Team both live the highest limit wins; when Team ends, Pro's applies", async () => {
    const userId = "user_union";
    const pro = activeSubscription("paddle", userId, "pro", 3);
    const team = activeSubscription("creem", userId, "team", 3);
    expect((await post("paddle", pro, signed("paddle", pro, SECRETS.paddle))).status).toBe(200);
    expect((await post("creem", team, signed("creem", team, SECRETS.creem))).status).toBe(200);
    const both = await entitlements(userId);
    expect(both["api_calls"]).toMatchObject({ enabled: true, source: "team", limit: 50_000 });
    expect(both["export"]).toMatchObject({ enabled: true });

    const canceled = creem.bodyOf(
      creem.creemEvent({
        id: "evt_creem3_canceled",
        type: "subscription.canceled",
        createdAt: (T0 - 3600) * 1000,
        object: creem.subscription({
          id: "sub_creem3",
          customerId: "cust_creem3",
          productId: PROVIDER_PRICES.creem.teamMonthly,
          status: "canceled",
          periodStart: (T0 - DAY) * 1000,
          periodEnd: (T0 + 29 * DAY) * 1000,
          canceledAt: (T0 - 3600) * 1000,
          metadata: { user_id: userId },
        }),
      }),
    );
    expect((await post("creem", canceled, signed("creem", canceled, SECRETS.creem))).status).toBe(200);
    expect((await entitlements(userId))["api_calls"]).toMatchObject({ enabled: true, source: "pro", limit: 10_000 });
  });
});

describe("a provider without a secret", () => {
  it.each(OTHERS)("%s answers 503 provider_not_configured and stores nothing", async (provider) => {
    const s = await startServer("sqlite", testCatalog, { now: T0 * 1000 });
    try {
      const body = activeSubscription(provider, "user_x", "pro", 9);
      const res = await fetch(`${s.url}/webhooks/${provider}`, { method: "POST", body: new Uint8Array(body), headers: signed(provider, body, SECRETS[provider]) });
      expect(res.status).toBe(503);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("provider_not_configured");
      expect(error.message).toContain(`${provider === "lemonsqueezy" ? "LEMONSQUEEZY" : provider.toUpperCase()}_WEBHOOK_SECRET`);
      expect(await s.db.prisma.event.count()).toBe(0);
    } finally {
      await s.stop();
    }
  });
});
