// `verity sync stripe` against a stand-in of Stripe's API, beside a running server: webhooks that
// never arrived are found (--check exits 1 and says what differs), stored as fetched events and
// projected (the server answers with them), a second sync stores nothing, and --check is then clean.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { openDatabase } from "../../src/store/database.js";
import { PRICES } from "../builders/histories.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, startVerityProcess, type Child } from "../support/child-server.js";
import { KINDS } from "../support/databases.js";
import { deliver } from "../support/stripe-delivery.js";
import { syncHarness } from "./harness.js";
import { startStripeStandIn } from "./stripe-api.js";

const dir = mkdtempSync(join(tmpdir(), "verity-sync-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET_KEY = "sk_test_sync_standin";

describe.each(KINDS)("verity sync stripe (%s)", (kind) => {
  const { setup, run, started, configPath } = syncHarness("sync-stripe");

  it("finds missed webhooks, stores and projects them once, and then reports no drift", async () => {
    const api = await startStripeStandIn(SECRET_KEY);
    const { env, url } = await setup(kind, api, { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_API_BASE: api.url });
    const server = await startVerityProcess(env, started);
    const now = Math.floor(Date.now() / 1000);
    const sub = (status: "active" | "past_due") => subscription({ id: "sub_sync", customer: "cus_sync", status, priceId: PRICES.proMonthly, periodStart: now - 86_400, periodEnd: now + 29 * 86_400, shape: "basil" });
    const created = stripeEvent({ id: "evt_sync_c", type: "customer.created", created: now - 300, object: customer({ id: "cus_sync", metadata: { user_id: "u_sync" } }) });
    const subscribed = stripeEvent({ id: "evt_sync_s", type: "customer.subscription.created", created: now - 200, object: sub("active") });
    const missed = stripeEvent({ id: "evt_sync_pd", type: "customer.subscription.updated", created: now - 100, object: sub("past_due") });
    // 150 other customers' events: more than one page of the list.
    const others = Array.from({ length: 150 }, (_, i) => stripeEvent({ id: `evt_sync_o${i}`, type: "customer.created", created: now - 1000 + i, object: customer({ id: `cus_sync_o${i}` }) }));
    expect((await deliver(server.url, created)).status).toBe(200);
    expect((await deliver(server.url, subscribed)).status).toBe(200);
    api.events = [created, subscribed, missed, ...others];
    api.subscriptions = [sub("past_due")];

    const sync = (...args: string[]) => run(["sync", "stripe", ...args], env);
    const drift = await sync("--check");
    expect(drift.code, drift.output).toBe(1);
    expect(drift.output).toContain("sub_sync: status is past_due at Stripe, active in Verity");
    expect(drift.output).toContain("drift: 1 difference(s) across 1 Stripe subscriptions");

    const first = await sync();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("fetched 153 events from Stripe since");
    expect(first.output).toContain("151 new, stored and projected; 2 already stored");
    expect(api.requests.filter((r) => r.startsWith("GET /v1/events")).length).toBeGreaterThanOrEqual(2);

    const db = await openDatabase(url);
    try {
      const stored = await db.prisma.event.findFirstOrThrow({ where: { providerEventId: "evt_sync_pd" } });
      expect(stored.origin).toBe("fetched");
      const key = (await createApiKey(db, ["read"], new Date())).key;
      let status: string | undefined;
      for (let i = 0; i < 40 && status !== "past_due"; i++) {
        const body = (await (await fetch(`${server.url}/api/users/u_sync/subscription`, { headers: { authorization: `Bearer ${key}` } })).json()) as { subscriptions: { status: string }[] };
        status = body.subscriptions[0]?.status;
        if (status !== "past_due") await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe("past_due");
    } finally {
      await db.close();
    }

    const second = await sync();
    expect(second.output).toContain("0 new, stored and projected; 153 already stored");
    const clean = await sync("--check");
    expect(clean.code, clean.output).toBe(0);
    expect(clean.output).toContain("no drift: 1 Stripe subscriptions match Verity");
  }, 120_000);
});

describe.each(KINDS)("verity sync stripe, an account older than Stripe's 30 days of events (%s)", (kind) => {
  const { setup, run, started, configPath } = syncHarness("sync-stripe");

  it("stores the current subscription and its customer as snapshots: the user gets the plan, a second sync stores nothing", async () => {
    const api = await startStripeStandIn(SECRET_KEY);
    const { env, url } = await setup(kind, api, { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_API_BASE: api.url });
    const now = Math.floor(Date.now() / 1000);
    // Created 90 days ago: none of its events is listed any more.
    api.customers = [customer({ id: "cus_old", email: "old@example.com", metadata: { user_id: "u_old" }, created: now - 90 * 86_400 })];
    api.subscriptions = [subscription({ id: "sub_old", customer: "cus_old", status: "active", priceId: PRICES.proMonthly, periodStart: now - 10 * 86_400, periodEnd: now + 20 * 86_400, created: now - 90 * 86_400, shape: "basil" })];

    const sync = (...args: string[]) => run(["sync", "stripe", ...args], env);
    const unknown = await sync("--check");
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain("sub_old: unknown to Verity (Stripe: active, price_pro_monthly)");
    const first = await sync();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("fetched 0 events from Stripe");
    expect(first.output).toContain("1 subscription(s) still differed: stored 2 snapshot(s) of their current state");

    const db = await openDatabase(url);
    try {
      const user = await db.prisma.user.findFirstOrThrow({ where: { appUserId: "u_old" }, include: { subscriptions: true, entitlements: true } });
      expect(user.email).toBe("old@example.com");
      expect(user.subscriptions.map((s) => [s.providerId, s.status, s.plan])).toEqual([["sub_old", "active", "pro"]]);
      expect(user.entitlements.map((e) => e.feature).sort()).toEqual(["api_calls", "export"]);
      expect((await db.prisma.event.findMany({ where: { origin: "fetched" }, orderBy: { seq: "asc" } })).map((e) => e.type)).toEqual(["verity.customer.snapshot", "verity.subscription.snapshot"]);
    } finally {
      await db.close();
    }
    const second = await sync();
    expect(second.output).not.toContain("still differed");
    expect((await sync("--check")).code).toBe(0);
    // The store replays to the same state offline: verify compares the projections with a replay.
    const verified = await run(["verify", "--config", configPath], env);
    expect(verified.code, verified.output).toBe(0);
  }, 120_000);
});

describe("verity sync, refused", () => {
  const started = new Set<Child>();
  afterEach(async () => {
    for (const child of started) await kill(child);
  });
  it("needs the provider's API key, and says which providers it reads", async () => {
    const env = childEnv(`file:${join(dir, "refused.db")}`, configPath);
    expect(await runVerity(["migrate"], env, started)).toMatchObject({ code: 0 });
    const noKey = await runVerity(["sync", "stripe"], env, started);
    expect(noKey.code).toBe(2);
    expect(noKey.output).toContain("STRIPE_SECRET_KEY is not set (in the environment or .env)");
    const paddle = await runVerity(["sync", "paddle"], env, started);
    expect(paddle.code).toBe(2);
    expect(paddle.output).toContain("PADDLE_API_KEY is not set (in the environment or .env)");
    const lemon = await runVerity(["sync", "lemonsqueezy"], env, started);
    expect(lemon.code).toBe(2);
    expect(lemon.output).toContain("LEMONSQUEEZY_API_KEY is not set (in the environment or .env)");
    const creem = await runVerity(["sync", "creem"], env, started);
    expect(creem.code).toBe(2);
    expect(creem.output).toContain("CREEM_API_KEY is not set (in the environment or .env)");
    const other = await runVerity(["sync", "gumroad"], env, started);
    expect(other.code).toBe(2);
    expect(other.output).toContain('unknown provider "gumroad"; sync reads stripe, paddle, lemonsqueezy, creem');
  }, 60_000);
});
