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
    expect(catalog.plans.pro!.features.api_calls).toEqual({ _tag: "Metered", limit: 10000, per: "month", overage: "block" });
    expect(catalog.grace.pastDueDays).toBe(3);
  });

  it.each([
    [{ plans: { pro: { prices: { strpe: ["p"] } } } }, "plans.pro.prices.strpe"],
    [{ plans: { pro: { features: { api: { limit: 0, per: "month" } } } } }, "plans.pro.features.api.limit"],
    [{ plans: { pro: { features: { api: { limit: 5, per: "week" } } } } }, "plans.pro.features.api.per"],
    [{ plans: { pro: {} }, grace: { pastDueDays: -1 } }, "grace.pastDueDays"],
    [{ plans: { pro: {} }, userIdKeys: [] }, "userIdKeys"],
    [{ plan: {} }, "plan"],
    [{ plans: { a: { prices: { stripe: ["p1"] } }, b: { prices: { stripe: ["p1"] } } } }, "plans.b.prices.stripe[0]"],
  ])("refuses %j naming %s", (json, path) => {
    expect(problems(json).some((p) => p.startsWith(`${path}:`) || p.startsWith(`${path}[`))).toBe(true);
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
