// The dashboard's GraphQL reads on the real server, on SQLite and PostgreSQL: the metrics of a
// seeded history (worked out by hand in test/support/dashboard-seed.ts), customers found by any
// id or email, incidents, a customer's timeline with raw bodies, and who may read them (a key
// with the dashboard scope; without a key only the dashboard on this machine, when allowed).
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { KINDS } from "../support/databases.js";
import { dashboardCatalog, seedDashboardHistory } from "../support/dashboard-seed.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { replay } from "../../src/offline/replay.js";
import { subscriptionHistories } from "../../src/domain/metrics/history.js";
import { seriesAt, snapshotAt } from "../../src/domain/metrics/kpis.js";
import { exportLines } from "../offline/support.js";
import { customerTimeline } from "../../src/store/dashboard.js";

const DAY = 86_400;

const METRICS = `{ dashboard { metrics { activeCustomers mrr { currency amount } subscriptionsByStatus { status count }
  movement { new { currency amount } churned { currency amount } net { currency amount } expansion { currency amount } netRevenueRetention { currency rate } }
  trials { trialing ended converted conversionRate } pastDueCount amountAtRisk { currency amount } } } }`;

describe.each(KINDS)("dashboard reads (%s)", (kind) => {
  let server: RunningServer;
  let key: string;
  let now: number;
  const ask = async (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = { authorization: `Bearer ${key}` }) => {
    const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query, variables }) });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    server = await startServer(kind, dashboardCatalog, { dashboard: "loopback" });
    now = Math.floor(server.clock.now / 1000);
    await seedDashboardHistory(server.url, now);
    key = (await createApiKey(server.db, ["dashboard"], new Date())).key;
  });
  afterAll(() => server?.stop());

  it("computes the headline metrics of the seeded history", async () => {
    const { body } = await ask(METRICS);
    expect(body.errors).toBeUndefined();
    const m = body.data.dashboard.metrics;
    expect(m.activeCustomers).toBe(4);
    expect(m.mrr).toEqual([{ currency: "USD", amount: 6700 }]);
    expect(Object.fromEntries(m.subscriptionsByStatus.map((s: any) => [s.status, s.count]))).toEqual({ active: 2, trialing: 1, past_due: 1, canceled: 1 });
    expect(m.movement.new).toEqual([{ currency: "USD", amount: 5800 }]);
    expect(m.movement.churned).toEqual([{ currency: "USD", amount: 900 }]);
    expect(m.movement.expansion).toEqual([]);
    expect(m.movement.net).toEqual([{ currency: "USD", amount: 4900 }]);
    expect(m.movement.netRevenueRetention).toEqual([{ currency: "USD", rate: 0.5 }]);
    expect(m.trials).toEqual({ trialing: 1, ended: 0, converted: 0, conversionRate: null });
    expect(m.pastDueCount).toBe(1);
    expect(m.amountAtRisk).toEqual([{ currency: "USD", amount: 900 }]);
  });

  it("answers any past instant from the log: 45 days ago only e paid", async () => {
    const { body } = await ask(`query($at: DateTime) { dashboard { metrics(at: $at) { activeCustomers mrr { currency amount } } } }`, { at: new Date((now - 45 * DAY) * 1000).toISOString() });
    expect(body.data.dashboard.metrics).toEqual({ activeCustomers: 1, mrr: [{ currency: "USD", amount: 900 }] });
    const series = await ask(`query($from: DateTime!, $to: DateTime!) { dashboard { series(from: $from, to: $to, points: 3) { mrr { amount } activeSubscriptions } } }`, {
      from: new Date((now - 70 * DAY) * 1000).toISOString(),
      to: new Date(now * 1000).toISOString(),
    });
    // 70 days ago nothing; 35 days ago d and e; now a, b and d.
    expect(series.body.data.dashboard.series).toEqual([
      { mrr: [], activeSubscriptions: 0 },
      { mrr: [{ amount: 1800 }], activeSubscriptions: 2 },
      { mrr: [{ amount: 6700 }], activeSubscriptions: 3 },
    ]);
  });

  it("gives the same metrics and series as a replay of the exported log", async () => {
    const replayed = await replay(await exportLines(server.db), dashboardCatalog, { at: server.clock.now });
    const histories = subscriptionHistories(
      replayed.foldTransitions,
      [...replayed.state.orders.values()].flatMap((o) => (o.subscriptionId === null ? [] : [{ ...o, subscriptionId: o.subscriptionId, paidAt: o.paidAt }])),
      [...replayed.state.subscriptions.values()].map((sub) => ({ id: sub.id, userId: sub.userId, start: sub.currentPeriodStart, end: sub.currentPeriodEnd })),
    );
    const [from, to] = [(now - 70 * DAY) * 1000, now * 1000];
    const served = await ask(`query($from: DateTime!, $to: DateTime!) { dashboard { metrics { activeCustomers mrr { currency amount } } series(from: $from, to: $to, points: 15) { at mrr { currency amount } activeSubscriptions } } }`, {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    const instants = Array.from({ length: 15 }, (_, i) => Math.round(from + ((to - from) * i) / 14));
    const money = (m: Record<string, number>) => Object.entries(m).map(([currency, amount]) => ({ currency, amount }));
    expect(served.body.data.dashboard.series).toEqual(seriesAt(histories, instants, dashboardCatalog).map((p) => ({ at: new Date(p.at).toISOString(), mrr: money(p.mrr), activeSubscriptions: p.activeSubscriptions })));
    const snapshot = snapshotAt(histories, server.clock.now, dashboardCatalog);
    expect(served.body.data.dashboard.metrics).toEqual({ activeCustomers: snapshot.activeCustomers, mrr: money(snapshot.mrr) });
  });

  it("refuses a series of too many points or a backwards range with a clear error", async () => {
    const { body } = await ask(`{ dashboard { series(from: "2026-01-01T00:00:00Z", to: "2025-01-01T00:00:00Z") { at } } }`);
    expect(body.errors[0].message).toMatch(/to: must come after from/);
    const many = await ask(`{ dashboard { series(from: "2025-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", points: 5000) { at } } }`);
    expect(many.body.errors[0].message).toMatch(/points: between 2 and 400/);
  });

  it("finds customers by app id, email or provider customer id, newest first, with usage and plan", async () => {
    const all = await ask(`{ dashboard { customers { total customers { id plan subscriptionStatus } } } }`);
    expect(all.body.data.dashboard.customers.total).toBe(5);
    expect(all.body.data.dashboard.customers.customers.map((c: any) => c.id)).toEqual(["user_c", "user_b", "user_a", "user_d", "user_e"]);
    for (const search of ["user_b", "user_b@example", "cus_user_b"]) {
      const found = await ask(`query($s: String) { dashboard { customers(search: $s) { total customers { id plan subscriptionStatus usage { feature limit used } creditBalance } } } }`, { s: search });
      expect(found.body.data.dashboard.customers.total).toBe(1);
      expect(found.body.data.dashboard.customers.customers[0]).toMatchObject({ id: "user_b", plan: "scale", subscriptionStatus: "active" });
      expect(found.body.data.dashboard.customers.customers[0].usage).toEqual([{ feature: "api_calls", limit: 10_000, used: 0 }]);
      expect(found.body.data.dashboard.customers.customers[0].creditBalance).toBe(0);
    }
    const none = await ask(`{ dashboard { customers(search: "nobody%") { total } } }`);
    expect(none.body.data.dashboard.customers.total).toBe(0);
  });

  it("lists incidents: the failed payment, a refused delivery, a missed renewal", async () => {
    const forged = await fetch(`${server.url}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=00" }, body: "{}" });
    expect(forged.status).toBe(400);
    // f: active, its period ended 10 days ago and no renewal came.
    const f = now - 40 * DAY;
    await deliver(server.url, stripeEvent({ id: "evt_cus_user_f", type: "customer.created", created: f, object: customer({ id: "cus_user_f", metadata: { user_id: "user_f" } }) }), { timestamp: now });
    const { subscription } = await import("../builders/stripe.js");
    await deliver(
      server.url,
      stripeEvent({ id: "evt_sub_user_f", type: "customer.subscription.created", created: f, object: subscription({ id: "sub_user_f", customer: "cus_user_f", status: "active", priceId: "price_dash_starter", periodStart: f, periodEnd: f + 30 * DAY, shape: "basil" }) }),
      { timestamp: now },
    );
    const { body } = await ask(`{ dashboard { incidents { failedPayments { userId kind } missedRenewals { userId subject detail } rejectedDeliveries { provider count } unprojectedEvents } } }`);
    const i = body.data.dashboard.incidents;
    expect(i.failedPayments).toEqual([{ userId: "user_d", kind: "payment_failed" }]);
    expect(i.missedRenewals).toEqual([{ userId: "user_f", subject: "stripe:sub_user_f", detail: expect.stringMatching(/no renewal was seen/) }]);
    expect(i.rejectedDeliveries.reduce((n: number, r: any) => n + r.count, 0)).toBeGreaterThanOrEqual(1);
    expect(i.unprojectedEvents).toBe(0);
  });

  it("lists users blocked by a quota in the last 24 hours, counted once whether written yet or not", async () => {
    const usageKey = (await createApiKey(server.db, ["read", "usage:write"], new Date())).key;
    const call = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${usageKey}` }, body: JSON.stringify(body) });
    expect((await call("/v1/usage", { userId: "user_a", feature: "api_calls", units: 1001, idempotencyKey: "too-many" })).status).toBe(429);
    expect((await call("/v1/check", { userId: "user_a", feature: "api_calls", units: 5000 })).status).toBe(429);
    expect((await call("/v1/usage", { userId: "user_a", feature: "api_calls", units: 1, idempotencyKey: "fine" })).status).toBe(200);
    const blocks = async () => (await ask(`{ dashboard { incidents { quotaBlocks { userId feature code count } } } }`)).body.data.dashboard.incidents.quotaBlocks;
    expect(await blocks()).toEqual([{ userId: "user_a", feature: "api_calls", code: "quota_exceeded", count: 2 }]);
    // Written once a second: the same count once it is in the store.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await blocks()).toEqual([{ userId: "user_a", feature: "api_calls", code: "quota_exceeded", count: 2 }]);
    // One call recorded this period against an MRR of $76.00 (f, added above, pays the catalog price); one quota check answered.
    const kpis = (await ask(`{ dashboard { revenuePerThousandCalls { currency amount } quotaCheckLatency { count p95 } usage { feature used records } } }`)).body.data.dashboard;
    expect(kpis.revenuePerThousandCalls).toEqual([{ currency: "USD", amount: 7_600_000 }]);
    expect(kpis.usage).toEqual([{ feature: "api_calls", used: 1, records: 1 }]);
    expect(kpis.quotaCheckLatency.count).toBeGreaterThanOrEqual(1);
    expect(kpis.quotaCheckLatency.p95).toBeGreaterThan(0);
  });

  it("shows a customer's timeline with each event's raw body exactly as received", async () => {
    const { body } = await ask(`{ dashboard { timeline(userId: "user_d") { cause event { type rawBody } transitions { entity field to } } } }`);
    const timeline = body.data.dashboard.timeline;
    // Newest first: the renewal's two events, then the three of the start.
    expect(timeline.map((e: any) => e.cause).slice(2)).toEqual(["stripe:evt_inv_user_d", "stripe:evt_sub_user_d", "stripe:evt_cus_user_d"]);
    const failed = timeline.find((e: any) => e.cause === "stripe:evt_inv_user_d_failed");
    expect(failed.transitions).toContainEqual({ entity: "payment", field: "status", to: "failed" });
    const raw = Buffer.from(failed.event.rawBody, "base64").toString("utf8");
    expect(JSON.parse(raw).id).toBe("evt_inv_user_d_failed");
    // Read backwards two transitions at a time, the timeline is the same, each event complete.
    const userId = (await server.app.reads.findUser("user_d"))!;
    const paged = await customerTimeline(server.db, userId, 3, 2);
    const whole = await customerTimeline(server.db, userId, 3);
    expect(paged.map((e) => [e.cause, e.transitions.map((t) => t.id)])).toEqual(whole.map((e) => [e.cause, e.transitions.map((t) => t.id)]));
    expect(whole.map((e) => e.cause)).toEqual(timeline.slice(0, 3).map((e: any) => e.cause));
    expect(whole.map((e) => e.transitions.length)).toEqual(timeline.slice(0, 3).map((e: any) => e.transitions.length));
    const unknown = await ask(`{ dashboard { timeline(userId: "nobody") { cause } } }`);
    expect(unknown.body.data.dashboard.timeline).toBeNull();
  });

  it("answers every query the dashboard page sends within the API's limits (cost, depth)", async () => {
    const page = readFileSync(new URL("../../src/dashboard/dashboard.js", import.meta.url), "utf8");
    const queries = [...page.matchAll(/const ([A-Z_]+) = `(query[^`]*)`/g)];
    expect(queries.map((q) => q[1])).toEqual(["TILES", "CHARTS", "CUSTOMERS", "CUSTOMER", "ENTITLEMENTS_AT", "TIMELINE", "RECENT", "WEBHOOKS"]);
    const variables = { id: "user_d", at: new Date(now * 1000).toISOString(), from: new Date((now - 90 * DAY) * 1000).toISOString(), to: new Date(now * 1000).toISOString(), search: null, offset: 0, status: null };
    for (const [, name, query] of queries) {
      const { status, body } = await ask(query!, variables, { "x-verity-dashboard": "1" });
      expect({ name, status, errors: body.errors }).toEqual({ name, status: 200, errors: undefined });
    }
  });

  it("lets only the dashboard scope in; without a key only the dashboard on this machine, not through a proxy", async () => {
    const readOnly = (await createApiKey(server.db, ["read"], new Date())).key;
    const refused = await ask(METRICS, {}, { authorization: `Bearer ${readOnly}` });
    expect(refused.body.errors[0].extensions.code).toBe("forbidden");
    expect(refused.body.errors[0].message).toMatch(/dashboard/);
    expect((await ask(METRICS, {}, {})).status).toBe(401);
    const local = await ask(METRICS, {}, { "x-verity-dashboard": "1" });
    expect(local.body.data.dashboard.metrics.activeCustomers).toBeGreaterThanOrEqual(4);
    expect((await ask(METRICS, {}, { "x-verity-dashboard": "1", "x-forwarded-for": "203.0.113.9" })).status).toBe(401);
    // Another site open in the operator's browser, or a page that rebinds its name to 127.0.0.1.
    expect((await ask(METRICS, {}, { "x-verity-dashboard": "1", origin: "http://evil.example" })).status).toBe(401);
    expect((await ask(METRICS, {}, { "x-verity-dashboard": "1", "sec-fetch-site": "cross-site" })).status).toBe(401);
    // fetch sets Host itself: a raw request names another.
    const rebound = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ query: METRICS });
      const req = request(`${server.url}/graphql`, { method: "POST", headers: { host: "evil.example:4000", "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-verity-dashboard": "1" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(rebound).toBe(401);
    expect((await ask(METRICS, {}, { "x-verity-dashboard": "1", origin: server.url, "sec-fetch-site": "same-origin" })).status).toBe(200);
    // Its page and assets are read with GET only, and nothing outside them is served.
    expect((await fetch(`${server.url}/dashboard`, { method: "POST", body: "x" })).status).toBe(405);
    expect((await fetch(`${server.url}/dashboard/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/dashboard/assets/secret.env`)).status).toBe(404);
    expect((await fetch(`${server.url}/dashboard/assets/uPlot.iife.min.js`)).headers.get("content-type")).toMatch(/javascript/);
    // The local dashboard reads what the dashboard shows, not the app's other scopes.
    const usage = await fetch(`${server.url}/v1/check`, { method: "POST", headers: { "content-type": "application/json", "x-verity-dashboard": "1" }, body: "{}" });
    expect(usage.status).toBe(401);
  });
});

describe("dashboard access by key only", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer("sqlite", dashboardCatalog, { dashboard: "key" });
  });
  afterAll(() => server?.stop());

  it("asks the local dashboard for a key when VERITY_DASHBOARD=key", async () => {
    const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", "x-verity-dashboard": "1" }, body: JSON.stringify({ query: "{ dashboard { metrics { activeCustomers } } }" }) });
    expect(res.status).toBe(401);
  });
});
