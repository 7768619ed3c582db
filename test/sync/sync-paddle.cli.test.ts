// `verity sync paddle` against a stand-in of Paddle Billing's API: drift found, the listed events
// stored once (as fetched, projected like notifications), drift gone; a second sync stores nothing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.js";
import { PROVIDER_PRICES } from "../builders/histories.js";
import { customer, paddleEvent, subscription } from "../builders/paddle.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, type Child } from "../support/child-server.js";
import { createTestDatabase, KINDS, type TestDatabase } from "../support/databases.js";
import { startPaddleStandIn, type PaddleStandIn } from "./paddle-api.js";

const dir = mkdtempSync(join(tmpdir(), "verity-sync-paddle-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const API_KEY = "pdl_sdbx_apikey_standin";

describe.each(KINDS)("verity sync paddle (%s)", (kind) => {
  const started = new Set<Child>();
  let database: TestDatabase | null = null;
  let api: PaddleStandIn | null = null;
  afterEach(async () => {
    for (const child of started) await kill(child);
    await api?.close();
    await database?.drop();
    database = null;
  }, 30_000);

  it("stores and projects the events it lacks, once, and then reports no drift", async () => {
    api = await startPaddleStandIn(API_KEY);
    database = await createTestDatabase(kind);
    const env = childEnv(database.url, configPath, { PADDLE_API_KEY: API_KEY, PADDLE_API_BASE: api.url });
    expect((await runVerity(["migrate"], env, started)).code).toBe(0);
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

    const sync = (...args: string[]) => runVerity(["sync", "paddle", ...args], env, started);
    const drift = await sync("--check");
    expect(drift.code, drift.output).toBe(1);
    expect(drift.output).toContain("sub_01hsyncpaddle: unknown to Verity (Paddle: past_due, pri_01hpro0monthly)");
    const first = await sync();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("fetched 253 events from Paddle: 253 new, stored and projected; 0 already stored");
    expect(api.requests.filter((r) => r.startsWith("GET /events")).length).toBe(2);
    const db = await openDatabase(database.url);
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
});
