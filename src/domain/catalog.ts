// The plan catalog as the domain sees it: provider price ids → plan codes → features.
// Decoding and validating verity.config.json happens at the edge (src/config).
import type { Provider } from "./provider.js";

export type Period = "month" | "year" | "period";

export type FeatureSpec =
  | { readonly _tag: "Flag" }
  | { readonly _tag: "Metered"; readonly limit: number; readonly per: Period; readonly overage: "block" | "allow" }
  | { readonly _tag: "Credits"; readonly credits: number };

export type Plan = {
  readonly code: string;
  readonly name: string;
  readonly prices: Readonly<Partial<Record<Provider, readonly string[]>>>;
  readonly features: Readonly<Record<string, FeatureSpec>>;
  readonly credits: { readonly amount: number; readonly per: "once" | "period" } | null;
  readonly lifetime: boolean;
  readonly price: { readonly amount: number; readonly currency: string; readonly interval: "month" | "year" | "once" } | null;
};

export type Catalog = {
  readonly plans: Readonly<Record<string, Plan>>;
  readonly grace: { readonly pastDueDays: number };
  readonly userIdKeys: readonly string[];
};

export const emptyCatalog: Catalog = { plans: {}, grace: { pastDueDays: 0 }, userIdKeys: ["user_id", "userId"] };

/** The plan a provider price belongs to, if the catalog maps it. */
export const planForPrice = (catalog: Catalog, provider: Provider, priceId: string): string | null => {
  for (const code of Object.keys(catalog.plans).sort()) {
    if (catalog.plans[code]!.prices[provider]?.includes(priceId)) return code;
  }
  return null;
};

/** The first mapped plan among several prices (a subscription or order may carry add-ons). */
export const planForPrices = (catalog: Catalog, provider: Provider, priceIds: readonly string[]): string | null => {
  for (const priceId of priceIds) {
    const plan = planForPrice(catalog, provider, priceId);
    if (plan !== null) return plan;
  }
  return null;
};

const featuresOf = new WeakMap<Catalog, readonly string[]>();

/** Every feature key any plan mentions, sorted (computed once per catalog: it is asked per user). */
export const catalogFeatures = (catalog: Catalog): readonly string[] => {
  let features = featuresOf.get(catalog);
  if (features === undefined) featuresOf.set(catalog, (features = [...new Set(Object.values(catalog.plans).flatMap((p) => Object.keys(p.features)))].sort()));
  return features;
};
