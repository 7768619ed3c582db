// GET /api/checkouts/{provider}/{id} on the real server, as a success page asks it: pending until
// the provider's signed event arrived (a forged redirect's id stays pending), then for whom and what
// the purchase grants now (a refund takes it back); a subscription checkout answers the
// subscription it started. Bad input refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { PRICES, PROVIDER_PRICES, testCatalog } from "../builders/histories.js";
import { charge, checkoutSession, customer, stripeEvent, subscription } from "../builders/stripe.js";
import { lsEvent, order } from "../builders/lemonsqueezy.js";
import { lemonSqueezySignature } from "../../src/providers/lemonsqueezy/verify.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { projectedAfter } from "../support/projected.js";
import { deliver } from "../support/stripe-delivery.js";

const LS_SECRET = "ls_checkout_test";

describe.each(KINDS)("checkout verification (%s)", (kind) => {
  let server: RunningServer;
  const signed = () => ({ timestamp: Math.floor(server.clock.now / 1000) });
  beforeAll(async () => {
    server = await startServer(kind, testCatalog, { providerSecrets: { lemonsqueezy: [LS_SECRET] } });
  });
  afterAll(async () => server?.stop());
  const get = async (path: string, key: string | null = server.readKey) => {
    const res = await fetch(`${server.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const now = () => Math.floor(server.clock.now / 1000);

  it("is pending until the purchase's event arrived, then says for whom and what it grants, until refunded", async () => {
    expect((await get("/api/checkouts/stripe/cs_test_once")).body).toEqual({ provider: "stripe", id: "cs_test_once", status: "pending", userId: null, paid: false, order: null, subscriptions: [], entitlements: [] });
    const t = now() - 120;
    await deliver(server.url, stripeEvent({ id: "evt_co_cus", type: "customer.created", created: t, object: customer({ id: "cus_co", metadata: { user_id: "u_co" } }) }), signed());
    await deliver(
      server.url,
      stripeEvent({ id: "evt_co_done", type: "checkout.session.completed", created: t + 1, object: checkoutSession({ id: "cs_test_once", mode: "payment", customer: "cus_co", clientReferenceId: "u_co", paymentIntent: "pi_co", amountTotal: 19900, currency: "usd", metadata: { price_id: PRICES.lifetime, user_id: "u_co" }, created: t + 1 }) }),
      signed(),
    );
    const done = (await get("/api/checkouts/stripe/cs_test_once")).body;
    expect(done).toMatchObject({ provider: "stripe", id: "cs_test_once", status: "completed", userId: "u_co", paid: true, order: { id: "cs_test_once", plan: "lifetime", status: "paid", amount: 19900, amountRefunded: 0, currency: "usd" }, subscriptions: [] });
    expect(done.entitlements.map((e: any) => [e.feature, e.source])).toEqual([["api_calls", "lifetime"], ["export", "lifetime"]]);

    await deliver(server.url, stripeEvent({ id: "evt_co_refund", type: "charge.refunded", created: t + 60, object: charge({ id: "ch_co", customer: "cus_co", paymentIntent: "pi_co", amount: 19900, amountRefunded: 19900, currency: "usd", created: t + 60 }) }), signed());
    const refunded = (await get("/api/checkouts/stripe/cs_test_once")).body;
    expect(refunded).toMatchObject({ status: "completed", userId: "u_co", order: { status: "refunded", amountRefunded: 19900 }, entitlements: [] });
  });

  it("answers a subscription checkout with the subscription it started and what it grants", async () => {
    const t = now() - 100;
    await deliver(server.url, stripeEvent({ id: "evt_cs_cus", type: "customer.created", created: t, object: customer({ id: "cus_cs", metadata: { user_id: "u_cs" } }) }), signed());
    await deliver(server.url, stripeEvent({ id: "evt_cs_sub", type: "customer.subscription.created", created: t + 1, object: subscription({ id: "sub_cs", customer: "cus_cs", status: "active", priceId: PRICES.proMonthly, periodStart: t, periodEnd: t + 30 * 86_400, shape: "basil" }) }), signed());
    await deliver(server.url, stripeEvent({ id: "evt_cs_done", type: "checkout.session.completed", created: t + 2, object: checkoutSession({ id: "cs_test_sub", mode: "subscription", customer: "cus_cs", clientReferenceId: "u_cs", subscription: "sub_cs", amountTotal: 1000, currency: "usd", created: t + 2 }) }), signed());
    const done = (await get("/api/checkouts/stripe/cs_test_sub")).body;
    expect(done).toMatchObject({ status: "completed", userId: "u_cs", paid: true, order: null });
    expect(done.subscriptions.map((s: any) => [s.id, s.plan, s.status])).toEqual([["sub_cs", "pro", "active"]]);
    expect(done.entitlements.map((e: any) => e.feature)).toEqual(["api_calls", "export"]);
  });

  it("knows a Lemon Squeezy checkout by its order id", async () => {
    const t = now() - 90;
    const body = Buffer.from(JSON.stringify(lsEvent({ eventName: "order_created", data: order({ id: "4242", variantId: Number(PROVIDER_PRICES.lemonsqueezy.lifetime), total: 19900, customerId: 77, createdAt: t }), customData: { user_id: "u_ls_co" } })));
    const res = await projectedAfter(server.url, await fetch(`${server.url}/webhooks/lemonsqueezy`, { method: "POST", headers: { "content-type": "application/json", "x-signature": lemonSqueezySignature(body, LS_SECRET) }, body }));
    expect(res.status).toBe(200);
    for (const id of ["4242", "orders%2F4242"]) {
      const answer = (await get(`/api/checkouts/lemonsqueezy/${id}`)).body;
      expect(answer).toMatchObject({ provider: "lemonsqueezy", status: "completed", userId: "u_ls_co", order: { id: "orders/4242", plan: "lifetime", status: "paid" } });
    }
    expect((await get("/api/checkouts/lemonsqueezy/4243")).body.status).toBe("pending");
  });

  it("needs a read key, and refuses an unknown provider or a bad id", async () => {
    expect(await get("/api/checkouts/stripe/cs_x", null)).toMatchObject({ status: 401 });
    const usageOnly = (await createApiKey(server.db, ["usage:write"], new Date())).key;
    expect(await get("/api/checkouts/stripe/cs_x", usageOnly)).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await get("/api/checkouts/gumroad/x")).toEqual({ status: 400, body: { error: { code: "invalid_parameter", message: 'unknown provider "gumroad"; providers are stripe, paddle, lemonsqueezy, creem' } } });
    expect((await get("/api/checkouts/stripe/cs%00x")).status).toBe(400);
    expect((await get("/api/checkouts/stripe/%E0%A4%A")).status).toBe(400);
  });
});
