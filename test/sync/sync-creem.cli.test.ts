// `verity sync creem` against a stand-in of Creem's API. Creem lists neither events nor
// subscriptions: sync finds subscriptions through the transactions that name them, and those
// Verity already knows, and stores what differs as snapshots, once.
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.js";
import { PROVIDER_PRICES, testCatalog } from "../builders/histories.js";
import { bodyOf, checkout, creemEvent, storedEvent, subscription } from "../builders/creem.js";
import { Projector } from "../../src/projection/projector.js";
import { appendEvents } from "../../src/store/events.js";
import { KINDS } from "../support/databases.js";
import { syncHarness } from "./harness.js";
import { startCreemStandIn } from "./creem-api.js";

const API_KEY = "creem_test_standin";
const DAY_MS = 86_400_000;

describe.each(KINDS)("verity sync creem (%s)", (kind) => {
  const { setup, run, configPath } = syncHarness("sync-creem");

  it("finds subscriptions through their transactions, stores what differs once, and follows a known one that changed", async () => {
    const api = await startCreemStandIn(API_KEY);
    const { env, url } = await setup(kind, api, { CREEM_API_KEY: API_KEY, CREEM_API_BASE: api.url });
    const now = Date.now() - 60_000;
    const sub = (status: string, extra: Partial<Parameters<typeof subscription>[0]> = {}) =>
      JSON.parse(JSON.stringify(subscription({ id: "sub_sync_creem", customerId: "cust_sync", productId: PROVIDER_PRICES.creem.proMonthly, status, periodStart: now - 10 * DAY_MS, periodEnd: now + 20 * DAY_MS, updatedAt: now, metadata: { user_id: "u_creem" }, ...extra })));
    const transaction = (id: string, subscriptionId: string | null) => ({ id, mode: "test", object: "transaction", amount: 1000, amount_paid: 1000, currency: "USD", type: subscriptionId === null ? "payment" : "invoice", status: "paid", order: `ord_${id}`, subscription: subscriptionId, customer: "cust_sync", created_at: now });
    // 150 transactions over two pages: 149 invoices of a subscription Creem no longer has (it answers
    // 404 for it) and the subscription's first invoice on the second page.
    api.transactions = [...Array.from({ length: 149 }, (_, i) => transaction(`tran_${i}`, "sub_gone")), transaction("tran_sub", "sub_sync_creem")];
    api.subscriptions = [sub("active")];

    const sync = (...args: string[]) => run(["sync", "creem", ...args], env);
    const state = async () => {
      const db = await openDatabase(url);
      try {
        const user = await db.prisma.user.findFirst({ where: { appUserId: "u_creem" }, include: { subscriptions: true, entitlements: true } });
        return {
          subscriptions: user?.subscriptions.map((s) => [s.providerId, s.status, s.providerStatus, s.plan]) ?? [],
          features: [...new Set(user?.entitlements.filter((e) => e.validUntil === null || e.validUntil > new Date()).map((e) => e.feature) ?? [])].sort(),
          fetched: (await db.prisma.event.count({ where: { origin: "fetched" } })),
        };
      } finally {
        await db.close();
      }
    };

    const drift = await sync("--check");
    expect(drift.code, drift.output).toBe(1);
    expect(drift.output).toContain("sub_sync_creem: unknown to Verity (Creem: active, prod_pro_monthly)");
    expect(api.requests.filter((r) => r.startsWith("GET /v1/transactions/search")).length).toBe(2);
    const first = await sync();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("Creem lists no events: read 1 subscriptions");
    expect(first.output).toContain("1 subscription(s) differed: stored 1 snapshot(s) of their current state");
    expect(await state()).toEqual({ subscriptions: [["sub_sync_creem", "active", "active", "pro"]], features: ["api_calls", "export"], fetched: 1 });
    expect((await sync()).output).toContain("nothing differed: nothing stored");

    // Canceled while webhooks were down, with no new transaction: found because Verity knows it.
    api.transactions = api.transactions.filter((t) => t.subscription !== "sub_sync_creem");
    api.subscriptions = [sub("canceled", { canceledAt: now + 1000, updatedAt: now + 1000 })];
    const later = await sync("--check");
    expect(later.code).toBe(1);
    expect(later.output).toContain("sub_sync_creem: status is canceled at Creem, active in Verity");
    expect((await sync()).code).toBe(0);
    expect(await state()).toEqual({ subscriptions: [["sub_sync_creem", "canceled", "canceled", "pro"]], features: [], fetched: 2 });
    expect((await sync("--check")).output).toContain("no drift: 1 Creem subscriptions match Verity");
    const verified = await run(["verify", "--config", configPath], env);
    expect(verified.code, verified.output).toBe(0);
  }, 180_000);

  it("finds a one-time purchase Verity lacks, and says how to close it (the API does not say what it bought)", async () => {
    const api = await startCreemStandIn(API_KEY);
    const { env, url } = await setup(kind, api, { CREEM_API_KEY: API_KEY, CREEM_API_BASE: api.url });
    const now = Date.now() - 60_000;
    // One purchase arrived as a webhook; the other did not.
    const delivered = creemEvent({ id: "evt_sync_known", type: "checkout.completed", createdAt: now, object: checkout({ id: "ch_known", orderId: "ord_known", customerId: "cust_one", productId: PROVIDER_PRICES.creem.lifetime, type: "onetime", amount: 19900, transactionId: "tran_known", metadata: { user_id: "u_one" } }) });
    const db = await openDatabase(url);
    try {
      const event = storedEvent(JSON.parse(JSON.stringify(delivered)));
      await appendEvents(db, [{ ...event, provider: "creem", receivedAt: Date.now(), origin: "webhook", rawBody: bodyOf(delivered) }]);
      await new Projector(db, testCatalog).catchUp();
    } finally {
      await db.close();
    }
    const payment = (id: string, order: string) => ({ id, object: "transaction", amount: 19900, currency: "EUR", type: "payment", status: "paid", order, subscription: null, customer: "cust_one", created_at: now });
    api.transactions = [payment("tran_known", "ord_known"), payment("tran_missed", "ord_missed")];
    const check = await run(["sync", "creem", "--check"], env);
    expect(check.code).toBe(1);
    expect(check.output).toContain("transaction tran_missed (order ord_missed): a one-time payment unknown to Verity (Creem: paid); Creem's API does not say what it bought: resend its checkout.completed from Creem's dashboard");
    expect(check.output).not.toContain("tran_known");
    const synced = await run(["sync", "creem"], env);
    expect(synced.code).toBe(0);
    expect(synced.output).toContain("transaction tran_missed (order ord_missed): a one-time payment unknown to Verity");
  }, 60_000);

  it("says what the API answered when it refuses the key, and that --since does not apply", async () => {
    const api = await startCreemStandIn(API_KEY);
    const { env, url } = await setup(kind, api, { CREEM_API_KEY: "creem_wrong", CREEM_API_BASE: api.url });
    const refused = await run(["sync", "creem"], env);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`Creem answered 403 for ${api.url}/v1/transactions/search?page_number=1&page_size=100: Invalid API key`);
    const since = await run(["sync", "creem", "--since", "2026-01-01T00:00:00Z"], env);
    expect(since.code).toBe(2);
    expect(since.output).toContain("Creem lists no events, so --since does not apply: sync compares every subscription it has");
    const db = await openDatabase(url);
    try {
      expect(await db.prisma.event.count()).toBe(0);
    } finally {
      await db.close();
    }
  }, 60_000);
});
