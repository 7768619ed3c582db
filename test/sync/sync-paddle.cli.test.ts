// `verity sync paddle` against a stand-in of Paddle Billing's API: drift found, the listed events
// stored once (as fetched, projected like notifications), drift gone; a second sync stores nothing.
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.js";
import { PROVIDER_PRICES } from "../builders/histories.js";
import { customer, paddleEvent, subscription } from "../builders/paddle.js";
import { KINDS } from "../support/databases.js";
import { syncHarness } from "./harness.js";
import { startPaddleStandIn } from "./paddle-api.js";

const API_KEY = "pdl_sdbx_apikey_standin";

describe.each(KINDS)("verity sync paddle (%s)", (kind) => {
  const { setup, run, configPath } = syncHarness("sync-paddle");

  it("stores and projects the events it lacks, once, and then reports no drift", async () => {
    const api = await startPaddleStandIn(API_KEY);
    const { env, url } = await setup(kind, api, { PADDLE_API_KEY: API_KEY, PADDLE_API_BASE: api.url });
    const now = Date.now() - 60_000;
    const sub = (status: "active" | "past_due") =>
      subscription({ id: "sub_01hsyncpaddle", customerId: "ctm_01hsyncpaddle", status, priceIds: [PROVIDER_PRICES.paddle.proMonthly], period: { start: now - 86_400_000, end: now + 29 * 86_400_000 }, startedAt: now - 86_400_000, updatedAt: now, customData: { user_id: "u_paddle" } });
    const event = (n: number, type: string, data: Record<string, any>) => ({ ...paddleEvent({ id: `evt_01hsync${String(n).padStart(4, "0")}`, type, occurredAt: now + n, data }), notification_id: undefined });
    const others = Array.from({ length: 250 }, (_, i) => event(100 + i, "customer.created", customer({ id: `ctm_01hother${i}`, email: `o${i}@example.com`, at: now })));
    api.events = [
      event(1, "customer.created", customer({ id: "ctm_01hsyncpaddle", email: "p@example.com", at: now })),
      event(2, "subscription.created", sub("active")),
      event(3, "subscription.past_due", sub("past_due")),
      ...others,
    ].map((e) => JSON.parse(JSON.stringify(e)));
    api.subscriptions = [JSON.parse(JSON.stringify(sub("past_due")))];

    const sync = (...args: string[]) => run(["sync", "paddle", ...args], env);
    const drift = await sync("--check");
    expect(drift.code, drift.output).toBe(1);
    expect(drift.output).toContain("sub_01hsyncpaddle: unknown to Verity (Paddle: past_due, pri_01hpro0monthly)");
    const first = await sync();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("fetched 253 events from Paddle: 253 new, stored and projected; 0 already stored");
    expect(api.requests.filter((r) => r.startsWith("GET /events")).length).toBe(2);
    const db = await openDatabase(url);
    try {
      const user = await db.prisma.user.findFirstOrThrow({ where: { appUserId: "u_paddle" }, include: { subscriptions: true } });
      expect(user.subscriptions.map((s) => [s.providerId, s.status, s.plan])).toEqual([["sub_01hsyncpaddle", "past_due", "pro"]]);
    } finally {
      await db.close();
    }
    expect((await sync()).output).toContain("253 events from Paddle: 0 new, stored and projected; 253 already stored");
    const clean = await sync("--check");
    expect(clean.code, clean.output).toBe(0);
    expect(clean.output).toContain("no drift: 1 Paddle subscriptions match Verity");
  }, 120_000);

  it("stores a snapshot of a subscription whose events Paddle no longer lists, once", async () => {
    const api = await startPaddleStandIn(API_KEY);
    const { env, url } = await setup(kind, api, { PADDLE_API_KEY: API_KEY, PADDLE_API_BASE: api.url });
    const now = Date.now() - 60_000;
    const old = (status: "active" | "canceled") =>
      JSON.parse(JSON.stringify(subscription({ id: "sub_01hpaddleold", customerId: "ctm_01hpaddleold", status, priceIds: [PROVIDER_PRICES.paddle.proMonthly], period: status === "active" ? { start: now - 86_400_000, end: now + 29 * 86_400_000 } : null, startedAt: now - 400 * 86_400_000, updatedAt: now, customData: { user_id: "u_paddle_old" }, canceledAt: status === "canceled" ? now : null })));
    api.events = [];
    api.subscriptions = [old("active")];
    const sync = (...args: string[]) => run(["sync", "paddle", ...args], env);
    const first = await sync();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("fetched 0 events from Paddle");
    expect(first.output).toContain("1 subscription(s) still differed: stored 1 snapshot(s) of their current state");
    const subscriptions = async () => {
      const db = await openDatabase(url);
      try {
        const user = await db.prisma.user.findFirstOrThrow({ where: { appUserId: "u_paddle_old" }, include: { subscriptions: true } });
        return user.subscriptions.map((s) => [s.providerId, s.status, s.plan]);
      } finally {
        await db.close();
      }
    };
    expect(await subscriptions()).toEqual([["sub_01hpaddleold", "active", "pro"]]);
    expect((await sync()).output).not.toContain("differed");
    api.subscriptions = [old("canceled")];
    expect((await sync()).output).toContain("1 subscription(s) still differed: stored 1 snapshot(s)");
    expect(await subscriptions()).toEqual([["sub_01hpaddleold", "canceled", "pro"]]);
    expect((await sync("--check")).code).toBe(0);
    const verified = await run(["verify", "--config", configPath], env);
    expect(verified.code, verified.output).toBe(0);
  }, 120_000);
});
