// `npm run screenshots`: regenerates the README's pictures of the dashboard (docs/screenshots/):
// a server on a temporary SQLite database, the history of test/support/dashboard-seed.ts
// delivered as signed webhooks, and Debian's Chromium (CHROMIUM_PATH) photographing each view.
import { mkdirSync } from "node:fs";
import { createApiKey } from "../src/server/auth.js";
import { launchBrowser, HAS_BROWSER, CHROMIUM } from "../test/support/browser.js";
import { dashboardCatalog, seedDashboardHistory } from "../test/support/dashboard-seed.js";
import { startServer } from "../test/support/server.js";
import { deliver } from "../test/support/stripe-delivery.js";
import { customer, stripeEvent } from "../test/builders/stripe.js";

if (!HAS_BROWSER) {
  console.error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  process.exit(1);
}
const out = new URL("../docs/screenshots/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const server = await startServer("sqlite", dashboardCatalog, { dashboard: "loopback" });
const browser = await launchBrowser();
try {
  const now = Math.floor(server.clock.now / 1000);
  await seedDashboardHistory(server.url, now);
  // A quota block and a refused delivery, so the incidents have something to show.
  const key = (await createApiKey(server.db, ["usage:write"], new Date())).key;
  await fetch(`${server.url}/v1/usage`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ userId: "user_a", feature: "api_calls", units: 5000, idempotencyKey: "shot" }) });
  await fetch(`${server.url}/webhooks/stripe`, { method: "POST", headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=00" }, body: "{}" });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shoot = async (hash: string, ready: string, file: string) => {
    await page.goto(`${server.url}/dashboard${hash}`);
    await page.waitForSelector(ready);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${out}${file}`, fullPage: true });
    console.log(`wrote docs/screenshots/${file}`);
  };
  await shoot("#/", ".uplot canvas", "overview.png");
  await shoot("#/customers", '[data-table="customers"] tbody tr', "customers.png");
  await shoot("#/customer/user_d", '[data-list="timeline"] details', "customer.png");
  await page.goto(`${server.url}/dashboard#/live`);
  await page.waitForFunction(() => document.querySelector('[data-field="live-status"]')?.textContent?.startsWith("Listening"));
  await page.waitForTimeout(300);
  await deliver(server.url, stripeEvent({ id: "evt_cus_user_new", type: "customer.created", created: now, object: customer({ id: "cus_user_new", email: "new@example.com", metadata: { user_id: "user_new" } }) }), { timestamp: now });
  await page.waitForSelector("#feed li");
  await page.screenshot({ path: `${out}live.png`, fullPage: true });
  console.log("wrote docs/screenshots/live.png");
} finally {
  await browser.close();
  await server.stop();
}
