// GET /api/plans and GraphQL `plans` on the real server: the catalog as a pricing page needs it,
// the same through both, translated on request, behind a read key, bad input refused.
import { Either } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCatalog } from "../../src/config/catalog.js";
import { createApiKey } from "../../src/server/auth.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";

const catalog = Either.getOrThrow(
  parseCatalog(
    JSON.stringify({
      plans: {
        pro: {
          name: "Pro",
          description: "For growing products",
          order: 2,
          highlighted: true,
          locales: { de: { name: "Profi", description: "Für wachsende Produkte" } },
          prices: { stripe: [{ id: "price_pro_monthly", amount: 1900, currency: "usd", interval: "month" }, { id: "price_pro_yearly", amount: 19000, currency: "usd", interval: "year" }] },
          features: { export: true, api_calls: { limit: 10000, per: "month" }, max_duration_seconds: { value: 300 } },
        },
        free: { name: "Free", order: 1, features: { api_calls: { limit: 100, per: "month" } } },
      },
    }),
    "verity.config.json",
  ),
);

describe.each(KINDS)("plans for the pricing page (%s)", (kind) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(kind, catalog);
  });
  afterAll(async () => server?.stop());
  const get = async (path: string, key: string | null = server.readKey) => {
    const res = await fetch(`${server.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const graphql = async (query: string, variables: Record<string, unknown> = {}) =>
    (await (await fetch(`${server.url}/graphql`, { method: "POST", headers: { authorization: `Bearer ${server.readKey}`, "content-type": "application/json" }, body: JSON.stringify({ query, variables }) })).json()) as any;

  it("lists the plans in display order with prices, features and their limits", async () => {
    const { status, body } = await get("/api/plans");
    expect(status).toBe(200);
    expect(body.plans.map((p: any) => p.code)).toEqual(["free", "pro"]);
    expect(body.plans[1]).toEqual({
      code: "pro",
      name: "Pro",
      description: "For growing products",
      locale: null,
      order: 2,
      highlighted: true,
      lifetime: false,
      prices: [
        { provider: "stripe", id: "price_pro_monthly", amount: 1900, currency: "usd", interval: "month" },
        { provider: "stripe", id: "price_pro_yearly", amount: 19000, currency: "usd", interval: "year" },
      ],
      features: [
        { feature: "api_calls", kind: "metered", limit: 10000, per: "month", overage: "block" },
        { feature: "export", kind: "flag" },
        { feature: "max_duration_seconds", kind: "value", value: 300 },
      ],
      credits: null,
    });
    expect((await get("/api/plans?locale=de-DE")).body.plans[1]).toMatchObject({ name: "Profi", description: "Für wachsende Produkte", locale: "de" });
  });

  it("answers the same through GraphQL", async () => {
    const answer = await graphql(
      `query ($locale: String) { plans(locale: $locale) { code name description locale order highlighted lifetime prices { provider id amount currency interval } features { feature kind limit per overage value } credits { amount } } }`,
      { locale: "de" },
    );
    expect(answer.errors).toBeUndefined();
    const rest = (await get("/api/plans?locale=de")).body.plans;
    expect(answer.data.plans.map((p: any) => [p.code, p.name, p.description, p.locale, p.prices])).toEqual(rest.map((p: any) => [p.code, p.name, p.description, p.locale, p.prices]));
    expect(answer.data.plans[1].features).toEqual([
      { feature: "api_calls", kind: "metered", limit: 10000, per: "month", overage: "block", value: null },
      { feature: "export", kind: "flag", limit: null, per: null, overage: null, value: null },
      { feature: "max_duration_seconds", kind: "value", limit: null, per: null, overage: null, value: 300 },
    ]);
    const bad = await graphql(`{ plans(locale: "not a locale") { code } }`);
    expect(bad.errors[0].message).toBe('locale must be a language tag such as "de" or "pt-BR", got "not a locale"');
  });

  it("needs a key with the read scope, and refuses a locale that is not a language tag", async () => {
    expect(await get("/api/plans", null)).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    const usageOnly = (await createApiKey(server.db, ["usage:write"], new Date())).key;
    expect(await get("/api/plans", usageOnly)).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await get("/api/plans?locale=%3Cscript%3E")).toEqual({ status: 400, body: { error: { code: "invalid_parameter", message: 'locale must be a language tag such as "de" or "pt-BR", got "<script>"' } } });
  });
});
