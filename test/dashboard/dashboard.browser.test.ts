// The dashboard in a real headless Chromium against the real server (SQLite), offline: every
// request it makes goes to Verity. The tiles show the figures of a seeded history worked out by
// hand; a customer's page shows its timeline with raw bodies; a webhook delivered while the live
// view is open appears without a reload; with VERITY_DASHBOARD=key it asks for a key and works
// once given one; GraphiQL renders without a CDN.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { createEndpoint } from "../../src/store/webhook-endpoints.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { HAS_BROWSER, launchBrowser, offlinePage } from "../support/browser.js";
import { dashboardCatalog, DASHBOARD_PRICES, SEEDED, seedDashboardHistory } from "../support/dashboard-seed.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

describe.skipIf(!HAS_BROWSER)("dashboard in Chromium", () => {
  let browser: Browser;
  let server: RunningServer;
  let now: number;

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startServer("sqlite", dashboardCatalog, { dashboard: "loopback" });
    now = Math.floor(server.clock.now / 1000);
    await seedDashboardHistory(server.url, now);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the seeded history's figures and incidents, loading nothing from outside", async () => {
    const { page, outside, errors } = await offlinePage(browser, server.url);
    await page.goto(`${server.url}/dashboard`);
    const tile = (id: string) => page.locator(`[data-tile="${id}"] .value`).innerText();
    await page.waitForSelector('[data-tile="mrr"]');
    expect(await tile("activeCustomers")).toBe(String(SEEDED.activeCustomers));
    expect(await tile("mrr")).toBe(SEEDED.mrr);
    expect(await tile("subscriptions")).toBe(String(SEEDED.subscriptions));
    expect(await tile("newMrr")).toBe(SEEDED.newMrr);
    expect(await tile("churnedMrr")).toBe(SEEDED.churnedMrr);
    expect(await tile("netMrr")).toBe(SEEDED.netMrr);
    expect(await tile("nrr")).toBe(SEEDED.nrr);
    expect(await tile("trials")).toBe(String(SEEDED.trials));
    expect(await tile("pastDue")).toBe(String(SEEDED.pastDue));
    expect(await page.locator('[data-tile="pastDue"] .sub').innerText()).toContain(SEEDED.atRisk);
    expect(await page.locator('[data-incident="failedPayments"] summary .incident-count').innerText()).toBe("1");
    expect(await page.locator('[data-incident="failedPayments"] li').innerText()).toContain("user_d");
    // The charts drew (uPlot renders a canvas per chart).
    await page.waitForSelector(".uplot canvas");
    expect(await page.locator(".uplot").count()).toBe(3);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("searches customers and opens one: its timeline shows each event's raw body and what it changed", async () => {
    const { page, errors } = await offlinePage(browser, server.url);
    await page.goto(`${server.url}/dashboard#/customers`);
    await page.fill('input[name="search"]', "user_d@example.com");
    await page.click('form[role="search"] button');
    await page.waitForFunction(() => document.querySelectorAll('[data-table="customers"] tbody tr').length === 1);
    expect(await page.locator('[data-table="customers"] tbody tr').innerText()).toMatch(/user_d.*starter.*past_due/s);
    await page.click('[data-table="customers"] tbody tr a');
    await page.waitForSelector('[data-list="timeline"] details');
    const failed = page.locator('[data-list="timeline"] details', { hasText: "invoice.payment_failed" });
    expect(await failed.locator("summary").innerText()).toContain("payment.status: ∅ → failed");
    await failed.locator("summary").click();
    expect(JSON.parse(await failed.locator("pre.raw").innerText()).id).toBe("evt_inv_user_d_failed");
    expect(await page.locator('[data-table="entitlements"] tbody').innerText()).toContain("api_calls");
    expect(errors).toEqual([]);
  });

  it("shows a transition live, without a reload, when a webhook arrives", async () => {
    const { page, errors } = await offlinePage(browser, server.url);
    await page.goto(`${server.url}/dashboard#/live?provider=stripe`);
    await page.waitForFunction(() => document.querySelector('[data-field="live-status"]')?.textContent?.startsWith("Listening"));
    // It opens on the newest transitions already in the log.
    expect(await page.locator("#feed").innerText()).toContain("stripe:sub_user_e");
    // Give the stream a moment to be registered on the server before the webhook is sent.
    await page.waitForTimeout(300);
    const t = now;
    await deliver(server.url, stripeEvent({ id: "evt_cus_user_live", type: "customer.created", created: t, object: customer({ id: "cus_user_live", metadata: { user_id: "user_live" } }) }), { timestamp: now });
    const sub = subscription({ id: "sub_user_live", customer: "cus_user_live", status: "active", priceId: DASHBOARD_PRICES.scale, periodStart: t, periodEnd: t + 30 * 86_400, shape: "basil" });
    await deliver(server.url, stripeEvent({ id: "evt_sub_user_live", type: "customer.subscription.created", created: t, object: sub }), { timestamp: now });
    await page.waitForSelector('#feed li:has-text("stripe:sub_user_live")', { timeout: 10_000 });
    expect(await page.locator("#feed").innerText()).toMatch(/subscription\.status stripe:sub_user_live: ∅ → active/);
    expect(errors).toEqual([]);
  });

  it("lists webhook endpoints and their deliveries with each one's last answer", async () => {
    // An endpoint that refuses everything: its deliveries stay pending, with the answer recorded.
    const refusing = createServer((_req, res) => res.writeHead(410).end());
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/gone`;
      await createEndpoint(server.db, { url, filter: "entity=subscription", fromStart: true }, new Date(server.clock.now));
      await server.app.webhooksOut.wake();
      const { page, errors, outside } = await offlinePage(browser, server.url);
      await page.goto(`${server.url}/dashboard#/webhooks?status=pending`);
      await page.waitForSelector('[data-webhooks="deliveries"] tbody tr');
      expect(await page.locator('[data-webhooks="endpoints"]').innerText()).toContain(url);
      // The oldest of each customer's messages was tried (and refused); the later ones wait behind it.
      const tried = page.locator('[data-webhooks="deliveries"] tbody tr', { hasText: "410: answered 410" });
      expect(await tried.count()).toBeGreaterThan(0);
      expect(await tried.first().getAttribute("data-status")).toBe("pending");
      expect(await tried.first().innerText()).toMatch(/subscription\.\w+/);
      expect(outside).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      refusing.close();
    }
  });

  it("renders GraphiQL at /graphql offline", async () => {
    const { page, outside } = await offlinePage(browser, server.url);
    await page.goto(`${server.url}/graphql`);
    await page.waitForSelector(".graphiql-container", { timeout: 20_000 });
    expect(await page.locator("body").innerText()).not.toContain("Loading");
    expect(outside).toEqual([]);
  });
});

describe.skipIf(!HAS_BROWSER)("dashboard sign-in in Chromium", () => {
  let browser: Browser;
  let server: RunningServer;

  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startServer("sqlite", dashboardCatalog, { dashboard: "key" });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("asks for a key, refuses one without the dashboard scope, and keeps a good one for the session", async () => {
    const { page } = await offlinePage(browser, server.url);
    await page.goto(`${server.url}/dashboard`);
    await page.waitForSelector('input[name="key"]');
    await page.fill('input[name="key"]', server.readKey);
    await page.click('form button[type="submit"]');
    await page.waitForSelector('text=lacks the "dashboard" scope');
    const key = (await createApiKey(server.db, ["dashboard"], new Date())).key;
    await page.fill('input[name="key"]', key);
    await page.click('form button[type="submit"]');
    await page.waitForSelector('[data-tile="activeCustomers"]');
    expect(await page.locator('[data-tile="activeCustomers"] .value').innerText()).toBe("0");
    await page.reload();
    await page.waitForSelector('[data-tile="activeCustomers"]');
  });
});
