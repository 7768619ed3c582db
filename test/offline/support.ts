// Helpers for the offline suites: ingest a history as the server would (append, then project as
// each event arrives), export a database to NDJSON lines, and the test catalog as the JSON file an
// operator would write (the CLI reads a file).
import type { Database } from "../../src/store/database.js";
import { Projector } from "../../src/store/projector.js";
import { exportEvents, type ExportOptions } from "../../src/offline/export.js";
import { encodeLine } from "../../src/offline/ndjson.js";
import { testCatalog } from "../builders/histories.js";
import type { StripeEvent } from "../builders/stripe.js";
import { appendStripeEvent } from "../support/append.js";

export const ingest = async (db: Database, delivered: readonly StripeEvent[], catalog = testCatalog): Promise<void> => {
  const projector = new Projector(db, catalog);
  for (const [i, e] of delivered.entries()) {
    const r = await appendStripeEvent(db, e, 1_700_000_000_000 + i);
    if (!r.duplicate) await projector.project(r.seq);
  }
};

/** The export as NDJSON lines (each without its newline). */
export const exportLines = async (db: Database, options: ExportOptions = {}): Promise<string[]> => {
  const lines: string[] = [];
  for await (const e of exportEvents(db, options)) lines.push(encodeLine(e).slice(0, -1));
  return lines;
};

/** testCatalog as verity.config.json text (the same prices at every provider). */
export const testCatalogJson = JSON.stringify(
  {
    plans: {
      pro: {
        name: "Pro",
        prices: testCatalog.plans.pro!.prices,
        features: { export: true, api_calls: { limit: 10000, per: "month", overage: "block" } },
        price: { amount: 1900, currency: "usd", interval: "month" },
      },
      team: {
        name: "Team",
        prices: testCatalog.plans.team!.prices,
        features: { export: true, api_calls: { limit: 50000, per: "period", overage: "allow" } },
        price: { amount: 4900, currency: "usd", interval: "month" },
      },
      lifetime: {
        name: "Lifetime",
        prices: testCatalog.plans.lifetime!.prices,
        features: { export: true, api_calls: { limit: 5000, per: "month", overage: "block" } },
        lifetime: true,
        price: { amount: 19900, currency: "usd", interval: "once" },
      },
      enterprise: {
        name: "Enterprise",
        prices: { stripe: ["price_enterprise_yearly"] },
        features: { export: true, sso: true },
        price: { amount: 99000, currency: "usd", interval: "year" },
      },
    },
    grace: { pastDueDays: 3 },
    userIdKeys: ["user_id", "userId"],
  },
  null,
  2,
);
