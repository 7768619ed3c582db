// `verity sync lemonsqueezy` against a stand-in of Lemon Squeezy's API. Lemon Squeezy lists no
// events, so what webhooks missed comes back as snapshots of the subscriptions and orders it lists:
// drift found, snapshots stored once and projected onto the user an earlier webhook named, drift
// gone; a refund and a cancellation made while webhooks were down are found the same way.
import { describe, expect, it } from "vitest";
import { Projector } from "../../src/projection/projector.js";
import { appendEvents } from "../../src/store/events.js";
import { openDatabase } from "../../src/store/database.js";
import { PROVIDER_PRICES, testCatalog } from "../builders/histories.js";
import { lsEvent, order, stored, subscription } from "../builders/lemonsqueezy.js";
import { KINDS } from "../support/databases.js";
import { syncHarness } from "./harness.js";
import { startLemonSqueezyStandIn } from "./lemonsqueezy-api.js";

const API_KEY = "ls_api_key_standin";
const prices = PROVIDER_PRICES.lemonsqueezy;
const DAY = 86_400;

describe.each(KINDS)("verity sync lemonsqueezy (%s)", (kind) => {
  const { setup, run, configPath } = syncHarness("sync-lemonsqueezy");

  it("stores what differs as snapshots, once: the missed subscription and purchase, then a refund and a cancellation", async () => {
    const api = await startLemonSqueezyStandIn(API_KEY);
    const { env, url } = await setup(kind, api, { LEMONSQUEEZY_API_KEY: API_KEY, LEMONSQUEEZY_API_BASE: api.url });
    const now = Math.floor(Date.now() / 1000) - 60;
    // The one webhook that arrived: the subscription's first order, naming the app's user.
    const firstOrder = order({ id: "70", variantId: Number(prices.proMonthly), total: 1000, customerId: 7, createdAt: now - 10 * DAY });
    const db = await openDatabase(url);
    try {
      const event = stored(lsEvent({ eventName: "order_created", data: firstOrder, customData: { user_id: "u_ls" } }));
      await appendEvents(db, [{ ...event, provider: "lemonsqueezy", receivedAt: Date.now(), origin: "webhook", rawBody: Buffer.from(JSON.stringify(event.payload)) }]);
      await new Projector(db, testCatalog).catchUp();
    } finally {
      await db.close();
    }
    const sub = (status: string, extra: Partial<Parameters<typeof subscription>[0]> = {}) =>
      JSON.parse(JSON.stringify(subscription({ id: "9", status, variantId: Number(prices.proMonthly), customerId: 7, orderId: 70, createdAt: now - 10 * DAY, updatedAt: now, renewsAt: now + 20 * DAY, ...extra })));
    const lifetime = (extra: Partial<Parameters<typeof order>[0]> = {}) => JSON.parse(JSON.stringify(order({ id: "71", variantId: Number(prices.lifetime), total: 19900, customerId: 7, createdAt: now - 5 * DAY, ...extra })));
    api.subscriptions = [sub("active")];
    api.orders = [JSON.parse(JSON.stringify(firstOrder)), lifetime(), JSON.parse(JSON.stringify(order({ id: "72", variantId: Number(prices.lifetime), total: 19900, customerId: 8, status: "pending", createdAt: now })))];

    const sync = (...args: string[]) => run(["sync", "lemonsqueezy", ...args], env);
    const state = async () => {
      const db = await openDatabase(url);
      try {
        const user = await db.prisma.user.findFirstOrThrow({ where: { appUserId: "u_ls" }, include: { subscriptions: true, orders: true, entitlements: true } });
        return {
          subscriptions: user.subscriptions.map((s) => [s.providerId, s.status, s.providerStatus, s.plan]),
          orders: user.orders.map((o) => [o.providerId, o.amountRefunded]).sort(),
          features: [...new Set(user.entitlements.filter((e) => e.validUntil === null || e.validUntil > new Date()).map((e) => e.feature))].sort(),
          fetched: (await db.prisma.event.findMany({ where: { origin: "fetched" }, orderBy: { seq: "asc" } })).map((e) => e.type),
        };
      } finally {
        await db.close();
      }
    };

    const drift = await sync("--check");
    expect(drift.code, drift.output).toBe(1);
    expect(drift.output).toContain("9: unknown to Verity (Lemon Squeezy: active, 101)");
    expect(drift.output).toContain("order 71: unknown to Verity (Lemon Squeezy: paid)");
    expect(drift.output).not.toContain("order 70");
    expect(drift.output).not.toContain("order 72");
    expect((await state()).fetched).toEqual([]);

    const first = await sync();
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("Lemon Squeezy lists no events: read 1 subscriptions and 3 orders");
    expect(first.output).toContain("1 subscription(s) and 1 order(s) differed: stored 2 snapshot(s) of their current state");
    expect(await state()).toEqual({
      subscriptions: [["9", "active", "active", "pro"]],
      orders: [["orders/70", 0], ["orders/71", 0]],
      features: ["api_calls", "export"],
      fetched: ["verity.subscription.snapshot", "verity.order.snapshot"],
    });
    // The API signs each subscription's links afresh on every read: still nothing new.
    const again = await sync();
    expect(again.output, again.output).toContain("nothing differed: nothing stored");
    expect((await sync("--check")).code).toBe(0);

    // While webhooks were down: the lifetime purchase refunded, the subscription cancelled and expired.
    api.orders = [JSON.parse(JSON.stringify(firstOrder)), lifetime({ status: "refunded", refunded: true, refundedAmount: 19900, updatedAt: now + 30 })];
    api.subscriptions = [sub("expired", { updatedAt: now + 30, renewsAt: null, endsAt: now + 30, cancelled: true })];
    const later = await sync("--check");
    expect(later.code).toBe(1);
    expect(later.output).toContain("order 71: refunded 19900 at Lemon Squeezy, 0 in Verity");
    expect(later.output).toContain("9: status is expired at Lemon Squeezy, active in Verity");
    expect((await sync()).output).toContain("1 subscription(s) and 1 order(s) differed: stored 2 snapshot(s)");
    const after = await state();
    expect(after.subscriptions).toEqual([["9", "canceled", "expired", "pro"]]);
    expect(after.orders).toEqual([["orders/70", 0], ["orders/71", 19900]]);
    expect(after.features).toEqual([]);
    expect((await sync("--check")).code).toBe(0);
    // The store replays to the same state offline.
    const verified = await run(["verify", "--config", configPath], env);
    expect(verified.code, verified.output).toBe(0);
    expect(api.requests.every((r) => r.startsWith("GET /v1/subscriptions?page[size]=100") || r.startsWith("GET /v1/orders?page[size]=100"))).toBe(true);
  }, 180_000);

  it("reads every page", async () => {
    const api = await startLemonSqueezyStandIn(API_KEY);
    const { env, url } = await setup(kind, api, { LEMONSQUEEZY_API_KEY: API_KEY, LEMONSQUEEZY_API_BASE: api.url });
    const now = Math.floor(Date.now() / 1000);
    api.subscriptions = Array.from({ length: 230 }, (_, i) => JSON.parse(JSON.stringify(subscription({ id: String(1000 + i), status: "active", variantId: Number(prices.proMonthly), customerId: 5000 + i, orderId: 9000 + i, createdAt: now - DAY, updatedAt: now - 60, renewsAt: now + 29 * DAY }))));
    const check = await run(["sync", "lemonsqueezy", "--check"], env);
    expect(check.code).toBe(1);
    expect(check.output).toContain("drift: 230 difference(s) across 230 Lemon Squeezy subscriptions and 0 orders");
    expect(api.requests.filter((r) => r.startsWith("GET /v1/subscriptions")).length).toBe(3);
    const synced = await run(["sync", "lemonsqueezy"], env);
    expect(synced.output).toContain("230 subscription(s) and 0 order(s) differed: stored 230 snapshot(s)");
    expect((await run(["sync", "lemonsqueezy", "--check"], env)).output).toContain("no drift: 230 Lemon Squeezy subscriptions and 0 orders match Verity");
  }, 120_000);
});
