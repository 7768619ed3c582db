// The plan catalog as the domain sees it: provider price ids → plan codes → features.
// Decoding and validating verity.config.json happens at the edge (src/config).
import type { Provider } from "./provider.js";

export type Period = "month" | "year" | "period";

/**
 * What a plan gives of one feature:
 * - Flag: on;
 * - Metered: `limit` units per period, blocked or allowed past it; units carry at most `decimals`
 *   digits after the point (0: whole units);
 * - Credits: each use costs `credits` from the user's balance;
 * - Concurrent: at most `concurrent` leases held at once, each for `leaseSeconds` unless released;
 * - Value: a plain number the app reads (`max_duration_seconds: 300`).
 */
export type FeatureSpec =
  | { readonly _tag: "Flag" }
  | { readonly _tag: "Metered"; readonly limit: number; readonly per: Period; readonly overage: "block" | "allow"; readonly decimals: number }
  | { readonly _tag: "Credits"; readonly credits: number }
  | { readonly _tag: "Concurrent"; readonly concurrent: number; readonly leaseSeconds: number }
  | { readonly _tag: "Value"; readonly value: number };

/** Credits a plan grants: once (a credit pack) or with each paid period, kept or lost at the next, expiring or not. */
export type PlanCredits = {
  readonly amount: number;
  readonly per: "once" | "period";
  readonly rollover: boolean;
  readonly expiresAfterDays: number | null;
};

/** What a provider's price costs, as the pricing page shows it. */
export type PriceDetail = { readonly amount: number; readonly currency: string; readonly interval: "month" | "year" | "once" };

/** A plan's name and description in one language. */
export type PlanText = { readonly name?: string; readonly description?: string };

export type Plan = {
  readonly code: string;
  readonly name: string;
  /** For the pricing page (GET /api/plans): its description, place, emphasis and translations. */
  readonly description?: string | null;
  readonly order?: number | null;
  readonly highlighted?: boolean;
  /** By language tag ("de", "pt-BR"). */
  readonly locales?: Readonly<Record<string, PlanText>>;
  /** What each listed price costs, where the catalog says (by provider, then price id). */
  readonly priceDetails?: Readonly<Partial<Record<Provider, Readonly<Record<string, PriceDetail>>>>>;
  readonly prices: Readonly<Partial<Record<Provider, readonly string[]>>>;
  readonly features: Readonly<Record<string, FeatureSpec>>;
  readonly credits: PlanCredits | null;
  readonly lifetime: boolean;
  readonly price: { readonly amount: number; readonly currency: string; readonly interval: "month" | "year" | "once" } | null;
};

/** Percents of a limit whose crossing is a transition (`usage.threshold`), unless the catalog says others. */
export const DEFAULT_USAGE_THRESHOLDS: readonly number[] = [80, 100];

export type Catalog = {
  readonly plans: Readonly<Record<string, Plan>>;
  /** Percents of a metered limit whose crossing is a transition, for webhooks out (default 80 and 100). */
  readonly usageThresholds?: readonly number[];
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
