// The catalog as a pricing page needs it (GET /api/plans, GraphQL `plans`): each plan's name and
// description in the asked language, its prices with what they cost, its features with their limits,
// in the catalog's display order. Pure: the catalog in, plain data out.
import type { Catalog, FeatureSpec, Plan, PlanCredits } from "./catalog.js";
import { PROVIDERS, type Provider } from "./provider.js";

export type PricingPrice = {
  readonly provider: Provider;
  readonly id: string;
  /** Minor units; null where the catalog does not say what the price costs. */
  readonly amount: number | null;
  readonly currency: string | null;
  readonly interval: "month" | "year" | "once" | null;
};

export type PricingFeature =
  | { readonly feature: string; readonly kind: "flag" }
  | { readonly feature: string; readonly kind: "metered"; readonly limit: number; readonly per: "month" | "year" | "period"; readonly overage: "block" | "allow" }
  | { readonly feature: string; readonly kind: "credits"; readonly credits: number }
  | { readonly feature: string; readonly kind: "concurrent"; readonly concurrent: number; readonly leaseSeconds: number }
  | { readonly feature: string; readonly kind: "value"; readonly value: number };

export type PricingPlan = {
  readonly code: string;
  readonly name: string;
  readonly description: string | null;
  /** The language tag the texts were taken from, or null for the catalog's own. */
  readonly locale: string | null;
  readonly order: number | null;
  readonly highlighted: boolean;
  readonly lifetime: boolean;
  readonly prices: readonly PricingPrice[];
  readonly features: readonly PricingFeature[];
  readonly credits: PlanCredits | null;
};

/** A BCP 47 language tag as the catalog and `?locale=` take it: "de", "pt-BR", "zh-Hant-TW". */
export const isLanguageTag = (tag: string): boolean => /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag);

const pricingFeature = (feature: string, spec: FeatureSpec): PricingFeature => {
  switch (spec._tag) {
    case "Flag":
      return { feature, kind: "flag" };
    case "Metered":
      return { feature, kind: "metered", limit: spec.limit, per: spec.per, overage: spec.overage };
    case "Credits":
      return { feature, kind: "credits", credits: spec.credits };
    case "Concurrent":
      return { feature, kind: "concurrent", concurrent: spec.concurrent, leaseSeconds: spec.leaseSeconds };
    case "Value":
      return { feature, kind: "value", value: spec.value };
    default: {
      const never: never = spec;
      return never;
    }
  }
};

/**
 * The translation a language tag asks for: the tag itself (any case), else its language alone
 * ("de-AT" → "de"); null when the plan has neither.
 */
export const localeOf = (plan: Plan, asked: string | null): string | null => {
  if (asked === null) return null;
  const tags = Object.keys(plan.locales ?? {});
  const find = (tag: string) => tags.find((t) => t.toLowerCase() === tag.toLowerCase()) ?? null;
  return find(asked) ?? find(asked.split("-")[0]!);
};

/**
 * A price's cost: what its catalog entry says, else the plan's own `price` when this is the
 * provider's only price for the plan (with two, monthly and yearly, the plan's one price cannot be both).
 */
const pricingPrices = (plan: Plan): PricingPrice[] =>
  PROVIDERS.flatMap((provider) => {
    const ids = plan.prices[provider] ?? [];
    return ids.map((id): PricingPrice => {
      const detail = plan.priceDetails?.[provider]?.[id] ?? (ids.length === 1 ? plan.price : null) ?? null;
      return { provider, id, amount: detail?.amount ?? null, currency: detail?.currency ?? null, interval: detail?.interval ?? null };
    });
  });

export const pricingPlan = (plan: Plan, asked: string | null): PricingPlan => {
  const locale = localeOf(plan, asked);
  const text = locale === null ? {} : plan.locales![locale]!;
  return {
    code: plan.code,
    name: text.name ?? plan.name,
    description: text.description ?? plan.description ?? null,
    locale: locale,
    order: plan.order ?? null,
    highlighted: plan.highlighted ?? false,
    lifetime: plan.lifetime,
    prices: pricingPrices(plan),
    features: Object.keys(plan.features).sort().map((feature) => pricingFeature(feature, plan.features[feature]!)),
    credits: plan.credits,
  };
};

/** Every plan, by `order` (plans without one last), then by code. */
export const pricingPlans = (catalog: Catalog, locale: string | null): PricingPlan[] =>
  Object.values(catalog.plans)
    .map((plan) => pricingPlan(plan, locale))
    .sort((a, b) => (a.order ?? Infinity) - (b.order ?? Infinity) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
