// The pricing page's view of the catalog: display order, translations with their fallbacks, prices
// with what they cost, features with their limits.
import { Either } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCatalog } from "../../src/config/catalog.js";
import type { Catalog } from "../../src/domain/catalog.js";
import { pricingPlans } from "../../src/domain/pricing.js";

const catalogOf = (json: unknown): Catalog => Either.getOrThrow(parseCatalog(JSON.stringify(json), "verity.config.json"));

const catalog = catalogOf({
  plans: {
    team: { name: "Team", order: 3, prices: { stripe: ["price_team"] }, features: { seats: { value: 10 } } },
    pro: {
      name: "Pro",
      description: "For growing products",
      order: 2,
      highlighted: true,
      locales: { de: { name: "Profi", description: "Für wachsende Produkte" }, "pt-BR": { description: "Para produtos em crescimento" } },
      prices: {
        stripe: [{ id: "price_pro_monthly", amount: 1900, currency: "USD", interval: "month" }, { id: "price_pro_yearly", amount: 19000, currency: "usd", interval: "year" }, "price_pro_legacy"],
        paddle: ["pri_pro"],
      },
      price: { amount: 2100, currency: "eur", interval: "month" },
      features: { export: true, api_calls: { limit: 10000, per: "month" }, ai_image: { credits: 5 }, tasks: { concurrent: 3, leaseSeconds: 600 } },
      credits: { amount: 500, per: "period" },
    },
    hobby: { prices: { stripe: ["price_hobby"] }, features: { export: true } },
    free: { name: "Free", order: 1 },
  },
});

describe("pricing plans", () => {
  it("lists plans by their order, those without one last by code, with prices, features and credits", () => {
    const plans = pricingPlans(catalog, null);
    expect(plans.map((p) => p.code)).toEqual(["free", "pro", "team", "hobby"]);
    const pro = plans[1]!;
    expect(pro).toMatchObject({ code: "pro", name: "Pro", description: "For growing products", locale: null, order: 2, highlighted: true, lifetime: false });
    expect(pro.prices).toEqual([
      { provider: "stripe", id: "price_pro_monthly", amount: 1900, currency: "usd", interval: "month" },
      { provider: "stripe", id: "price_pro_yearly", amount: 19000, currency: "usd", interval: "year" },
      // Three Stripe prices: the plan's one `price` cannot say which it is.
      { provider: "stripe", id: "price_pro_legacy", amount: null, currency: null, interval: null },
      // Paddle's only price for the plan: the plan's `price` is what it costs.
      { provider: "paddle", id: "pri_pro", amount: 2100, currency: "eur", interval: "month" },
    ]);
    expect(pro.features).toEqual([
      { feature: "ai_image", kind: "credits", credits: 5 },
      { feature: "api_calls", kind: "metered", limit: 10000, per: "month", overage: "block" },
      { feature: "export", kind: "flag" },
      { feature: "tasks", kind: "concurrent", concurrent: 3, leaseSeconds: 600 },
    ]);
    expect(pro.credits).toEqual({ amount: 500, per: "period", rollover: false, expiresAfterDays: null });
    expect(plans[3]).toMatchObject({ code: "hobby", name: "hobby", description: null, order: null, highlighted: false });
  });

  it("takes names and descriptions in the asked language, then its language alone, then the catalog's own", () => {
    const pro = (locale: string | null) => pricingPlans(catalog, locale).find((p) => p.code === "pro")!;
    expect(pro("de")).toMatchObject({ name: "Profi", description: "Für wachsende Produkte", locale: "de" });
    expect(pro("DE-at")).toMatchObject({ name: "Profi", locale: "de" });
    // A translation may give only some texts: the rest stay the catalog's.
    expect(pro("pt-br")).toMatchObject({ name: "Pro", description: "Para produtos em crescimento", locale: "pt-BR" });
    expect(pro("pt")).toMatchObject({ name: "Pro", description: "For growing products", locale: null });
    expect(pro("fr")).toMatchObject({ name: "Pro", locale: null });
  });

  it("lists every plan once, whatever the order values, and each plan's prices in the catalog's order", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }), { minKeys: 1, maxKeys: 8 }), (orders) => {
        const plans = pricingPlans(catalogOf({ plans: Object.fromEntries(Object.entries(orders).map(([code, order]) => [code, order === undefined ? {} : { order }])) }), null);
        expect(plans.map((p) => p.code).sort()).toEqual(Object.keys(orders).sort());
        const ranks = plans.map((p) => p.order ?? Infinity);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      }),
    );
  });
});
