// The plan catalog: the example file is valid, and every mistake names its path.
import { readFileSync } from "node:fs";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { loadCatalog, parseCatalog } from "../../src/config/catalog.js";

const problems = (json: unknown): string[] => {
  const r = parseCatalog(JSON.stringify(json), "verity.config.json");
  if (Either.isRight(r)) throw new Error("expected the catalog to be refused");
  return [...r.left.problems];
};

describe("plan catalog", () => {
  it("accepts the example verity.config.json and maps its features", () => {
    const r = loadCatalog(new URL("../../verity.config.json", import.meta.url).pathname);
    expect(Either.isRight(r)).toBe(true);
    const catalog = Either.getOrThrow(r);
    expect(catalog.plans.pro!.features.export).toEqual({ _tag: "Flag" });
    expect(catalog.plans.pro!.features.api_calls).toEqual({ _tag: "Metered", limit: 10000, per: "month", overage: "block", decimals: 0 });
    expect(catalog.grace.pastDueDays).toBe(3);
  });

  it("decodes the feature kinds of the usage contract (DESIGN.md): metered with decimals, concurrency, values, credits", () => {
    const catalog = Either.getOrThrow(
      parseCatalog(
        JSON.stringify({
          plans: {
            pro: {
              features: {
                export: true,
                beta: false,
                api_calls: { limit: 10000, per: "month", overage: "block" },
                cpu_seconds: { limit: 3600, per: "period", overage: "allow", decimals: 3 },
                tasks: { concurrent: 3, leaseSeconds: 120 },
                jobs: { concurrent: 1 },
                max_duration_seconds: { value: 300 },
                ratio: { value: 0.25 },
                ai_image: { credits: 5 },
              },
              credits: { amount: 500, per: "period", rollover: true, expiresAfterDays: 90 },
            },
            pack: { credits: { amount: 1000, per: "once" }, lifetime: true },
          },
        }),
        "verity.config.json",
      ),
    );
    expect(catalog.plans.pro!.features).toEqual({
      export: { _tag: "Flag" },
      api_calls: { _tag: "Metered", limit: 10000, per: "month", overage: "block", decimals: 0 },
      cpu_seconds: { _tag: "Metered", limit: 3600, per: "period", overage: "allow", decimals: 3 },
      tasks: { _tag: "Concurrent", concurrent: 3, leaseSeconds: 120 },
      jobs: { _tag: "Concurrent", concurrent: 1, leaseSeconds: 300 },
      max_duration_seconds: { _tag: "Value", value: 300 },
      ratio: { _tag: "Value", value: 0.25 },
      ai_image: { _tag: "Credits", credits: 5 },
    });
    expect(catalog.plans.pro!.credits).toEqual({ amount: 500, per: "period", rollover: true, expiresAfterDays: 90 });
    expect(catalog.plans.pack!.credits).toEqual({ amount: 1000, per: "once", rollover: false, expiresAfterDays: null });
  });

  it.each([
    [{ plans: { pro: { features: { cpu: { limit: 5, per: "month", decimals: 7 } } } } }, "plans.pro.features.cpu.decimals"],
    [{ plans: { pro: { features: { cpu: { limit: 5, per: "month", decimals: 1.5 } } } } }, "plans.pro.features.cpu.decimals"],
    [{ plans: { pro: { features: { tasks: { concurrent: 0 } } } } }, "plans.pro.features.tasks.concurrent"],
    [{ plans: { pro: { features: { tasks: { concurrent: 2, leaseSeconds: -5 } } } } }, "plans.pro.features.tasks.leaseSeconds"],
    [{ plans: { pro: { features: { tasks: { concurrent: 2, limit: 5 } } } } }, "plans.pro.features.tasks.limit"],
    [{ plans: { pro: { features: { max: { value: "300" } } } } }, "plans.pro.features.max.value"],
    [{ plans: { pro: { credits: { amount: 5, per: "once", rollover: true } } } }, "plans.pro.credits.rollover"],
    [{ plans: { pro: { credits: { amount: 5, per: "period", expiresAfterDays: 0 } } } }, "plans.pro.credits.expiresAfterDays"],
    [{ plans: { pro: { prices: { strpe: ["p"] } } } }, "plans.pro.prices.strpe"],
    [{ plans: { pro: { features: { api: { limit: 0, per: "month" } } } } }, "plans.pro.features.api.limit"],
    [{ plans: { pro: { features: { api: { limit: 5, per: "week" } } } } }, "plans.pro.features.api.per"],
    [{ plans: { pro: {} }, grace: { pastDueDays: -1 } }, "grace.pastDueDays"],
    [{ plans: { pro: {} }, userIdKeys: [] }, "userIdKeys"],
    [{ plan: {} }, "plan"],
    [{ plans: { a: { prices: { stripe: ["p1"] } }, b: { prices: { stripe: ["p1"] } } } }, "plans.b.prices.stripe[0]"],
    [{ plans: { a: { prices: { stripe: ["p1"] } }, b: { prices: { stripe: [{ id: "p1", amount: 5, currency: "usd", interval: "month" }] } } } }, "plans.b.prices.stripe[0]"],
    [{ plans: { pro: { prices: { stripe: [{ id: "p1", amount: -5, currency: "usd", interval: "month" }] } } } }, "plans.pro.prices.stripe[0].amount"],
    [{ plans: { pro: { prices: { stripe: [{ id: "p1", amount: 5, currency: "usd" }] } } } }, "plans.pro.prices.stripe[0].interval"],
    [{ plans: { pro: { prices: { stripe: [42] } } } }, "plans.pro.prices.stripe[0]"],
    [{ plans: { pro: { locales: { "not a tag": { name: "x" } } } } }, "plans.pro.locales.not a tag"],
    [{ plans: { pro: { locales: { de: { title: "x" } } } } }, "plans.pro.locales.de.title"],
    [{ plans: { pro: { order: 1.5 } } }, "plans.pro.order"],
  ])("refuses %j with one problem, naming %s", (json, path) => {
    const found = problems(json);
    expect(found, found.join("\n")).toHaveLength(1);
    expect(found[0]!.startsWith(`${path}:`) || found[0]!.startsWith(`${path}[`), found[0]).toBe(true);
  });

  it.each([
    [{ plans: { pro: { features: { api: { limit: 5, per: "week" } } } } }, 'plans.pro.features.api.per: expected "month", "year" or "period", got "week"'],
    [{ plans: { pro: { features: { api: { limit: 5, per: "month", overage: "stop" } } } } }, 'plans.pro.features.api.overage: expected "block" or "allow", got "stop"'],
    [{ plans: { pro: { features: { api: "yes" } } } }, 'plans.pro.features.api: expected true or false, or an object: { "limit", "per" } (metered), { "credits" }, { "concurrent" } or { "value" }, got "yes"'],
    [{ plans: { pro: { features: { api: { limit: 5, per: "month", decimal: 2 } } } } }, 'plans.pro.features.api.decimal: is unexpected, expected: "limit" | "per" | "overage" | "decimals"'],
    [{ plans: { pro: { credits: { amount: 5, per: "month" } } } }, 'plans.pro.credits.per: expected "once" or "period", got "month"'],
    [{ plan: {} }, 'plan: unknown key; did you mean "plans"?'],
    [{ Plans: {} }, 'Plans: unknown key; did you mean "plans"?'],
    [{ plans: { pro: { prices: { stripe: [{ id: "p1", amount: 5, currency: "usd", interval: "week" }] } } } }, 'plans.pro.prices.stripe[0].interval: expected "month", "year" or "once", got "week"'],
    [{ plans: { pro: { prices: { stripe: [42] } } } }, 'plans.pro.prices.stripe[0]: expected a price id or { "id", "amount", "currency", "interval" }, got 42'],
  ])("says what %j should be, in one line", (json, message) => {
    expect(problems(json)).toEqual([message]);
  });

  it.each([
    ['{\n  "plans": {\n    "pro": { "prices": {} ,, }\n  }\n}\n', "line 3, column 28: not valid JSON (Expected double-quoted property name)"],
    ['{ "plans": {', "line 1, column 13: not valid JSON (Expected property name or '}')"],
    ["", "line 1, column 1: not valid JSON (Unexpected end of JSON input)"],
    ['{\n "plans": {}\n} trailing', "line 3, column 3: not valid JSON (Unexpected non-whitespace character after JSON)"],
  ])("names the line and column where %j stops being JSON", (text, message) => {
    const r = parseCatalog(text, "broken.json");
    expect(Either.isLeft(r) && r.left.problems).toEqual([message]);
  });

  it("takes the usage thresholds webhooks out announce, sorted once each, 80 and 100 by default", () => {
    const parsed = (json: unknown) => Either.getOrThrow(parseCatalog(JSON.stringify(json), "verity.config.json"));
    expect(parsed({ plans: {} }).usageThresholds).toBeUndefined();
    expect(parsed({ plans: {}, usageThresholds: [100, 50, 80, 80] }).usageThresholds).toEqual([50, 80, 100]);
    expect(problems({ plans: {}, usageThresholds: [0] })[0]).toMatch(/^usageThresholds\[0\]: /);
  });

  it("reads a catalog saved with a byte order mark", () => {
    expect(Either.isRight(parseCatalog('\uFEFF{ "plans": {} }', "bom.json"))).toBe(true);
  });

  it("refuses a file that is not JSON, or missing, with the file named", () => {
    const notJson = parseCatalog("{ plans: ", "broken.json");
    expect(Either.isLeft(notJson) && notJson.left.message).toMatch(/broken\.json[\s\S]*not valid JSON/);
    const missing = loadCatalog("/nonexistent/verity.config.json");
    expect(Either.isLeft(missing) && missing.left.message).toMatch(/nonexistent\/verity\.config\.json[\s\S]*ENOENT/);
  });

  it("keeps README's catalog example valid", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const block = /```json\n(\{\n  "plans"[\s\S]*?)\n```/.exec(readme);
    expect(block, "README.md has a verity.config.json example").not.toBeNull();
    expect(Either.isRight(parseCatalog(block![1]!, "README.md"))).toBe(true);
  });
});
