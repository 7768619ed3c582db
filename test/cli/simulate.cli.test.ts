// `verity simulate` against a running server, as a user tries Verity without a provider account:
// each scenario's signed events are accepted and move the user's state the way the real ones do.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { openDatabase } from "../../src/store/database.js";
import { PRICES, PROVIDER_PRICES } from "../builders/histories.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, startVerityProcess, type Child } from "../support/child-server.js";

const dir = mkdtempSync(join(tmpdir(), "verity-simulate-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
const started = new Set<Child>();
afterEach(async () => {
  for (const child of started) await kill(child);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("verity simulate", () => {
  it.each(["stripe", "paddle", "lemonsqueezy", "creem"] as const)("%s: walks a subscription through renewal, past due and cancellation, and a purchase through its refund", async (provider) => {
    const url = `file:${join(dir, `sim-${provider}.db`)}`;
    const env = childEnv(url, configPath, { PADDLE_WEBHOOK_SECRET: "pdl_ntfset_simulate_test", CREEM_WEBHOOK_SECRET: "whsec_creem_simulate_test", LEMONSQUEEZY_WEBHOOK_SECRET: "ls_simulate_test" });
    const prices = { stripe: PRICES, paddle: PROVIDER_PRICES.paddle, lemonsqueezy: PROVIDER_PRICES.lemonsqueezy, creem: PROVIDER_PRICES.creem }[provider];
    const server = await startVerityProcess(env, started);
    const db = await openDatabase(url);
    const key = (await createApiKey(db, ["read"], new Date())).key;
    await db.close();
    const get = async (path: string) => (await (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as Record<string, any>;
    const simulate = async (scenario: string, price: string = prices.proMonthly) => {
      const r = await runVerity(["simulate", provider, scenario, "--user", "u_sim", "--price", price, "--url", server.url], env, started);
      expect(r.code, r.output).toBe(0);
      // A webhook is answered once stored; its projection follows. Wait until it has.
      const last = Math.max(...[...r.output.matchAll(/\(seq (\d+)\)/g)].map((m) => Number(m[1])));
      await expect
        .poll(async () => ((await (await fetch(`${server.url}/healthz`)).json()) as { projectedThrough: number }).projectedThrough, { timeout: 30_000, interval: 50 })
        .toBeGreaterThanOrEqual(last);
      return r.output;
    };
    const features = async () => ((await get("/api/users/u_sim/entitlements")).entitlements as { feature: string; enabled: boolean }[]).filter((e) => e.enabled).map((e) => e.feature).sort();
    const status = async () => ((await get("/api/users/u_sim/subscription")).subscriptions as { status: string }[])[0]?.status;

    expect(await simulate("subscription")).toMatch(/^(customer\.created|checkout\.completed|order_created) \S+ → 200 stored \(seq \d+\)$/m);
    expect(await status()).toBe("active");
    expect(await features()).toEqual(["api_calls", "export"]);
    await simulate("renewal");
    expect(await status()).toBe("active");
    await simulate("past-due");
    expect(await status()).toBe("past_due");
    await simulate("cancel");
    expect(await status()).toBe("canceled");
    expect(await features()).toEqual([]);

    await simulate("purchase", prices.lifetime);
    expect(await features()).toEqual(["api_calls", "export"]);
    await simulate("refund", prices.lifetime);
    expect(await features()).toEqual([]);
  }, 120_000);

  it("says what is missing: the secret, a scenario, a running server", async () => {
    const env = childEnv(`file:${join(dir, "none.db")}`, configPath);
    const noSecret = await runVerity(["simulate", "stripe", "subscription", "--user", "u", "--price", "p"], { ...env, STRIPE_WEBHOOK_SECRET: "" }, started);
    expect(noSecret.code).toBe(2);
    expect(noSecret.output).toContain("STRIPE_WEBHOOK_SECRET is not set (in the environment or .env)");
    const lemon = await runVerity(["simulate", "lemonsqueezy", "subscription", "--user", "u", "--price", "pro"], { ...env, LEMONSQUEEZY_WEBHOOK_SECRET: "x" }, started);
    expect(lemon.code).toBe(2);
    expect(lemon.output).toContain('a Lemon Squeezy price is a variant id (a whole number), got "pro"');
    const scenario = await runVerity(["simulate", "stripe", "upgrade", "--user", "u", "--price", "p"], env, started);
    expect(scenario.code).toBe(2);
    expect(scenario.output).toContain('unknown scenario "upgrade"; scenarios are subscription, renewal, past-due, cancel, purchase, refund');
    const down = await runVerity(["simulate", "stripe", "subscription", "--user", "u", "--price", "p", "--url", "http://127.0.0.1:9"], env, started);
    expect(down.code).toBe(2);
    expect(down.output).toContain("no Verity answers at http://127.0.0.1:9");
  }, 60_000);
});
