// The plans as a pricing page needs them, mirroring GET /api/plans (domain/pricing.ts).
import { GraphQLError } from "graphql";
import type { PlanCredits } from "../../domain/catalog.js";
import { isLanguageTag, pricingPlans, type PricingFeature, type PricingPlan, type PricingPrice } from "../../domain/pricing.js";
import { builder } from "../builder.js";

const PriceRef = builder.objectRef<PricingPrice>("PlanPrice").implement({
  description: "A provider price of the plan and what it costs, where the catalog says.",
  fields: (t) => ({
    provider: t.exposeString("provider"),
    id: t.exposeString("id", { description: "The provider's price id (Stripe price, Paddle price, Lemon Squeezy variant, Creem product)." }),
    amount: t.exposeInt("amount", { nullable: true, description: "Minor units (cents)." }),
    currency: t.exposeString("currency", { nullable: true }),
    interval: t.exposeString("interval", { nullable: true, description: "month, year or once." }),
  }),
});

const field = <K extends string>(f: PricingFeature, key: K): unknown => (key in f ? (f as Record<string, unknown>)[key] : null);

const FeatureRef = builder.objectRef<PricingFeature>("PlanFeature").implement({
  description: "What the plan gives of a feature; the members that apply to its kind are set.",
  fields: (t) => ({
    feature: t.exposeString("feature"),
    kind: t.exposeString("kind", { description: "flag, metered, credits, concurrent or value." }),
    limit: t.int({ nullable: true, resolve: (f) => field(f, "limit") as number | null }),
    per: t.string({ nullable: true, resolve: (f) => field(f, "per") as string | null }),
    overage: t.string({ nullable: true, resolve: (f) => field(f, "overage") as string | null }),
    credits: t.int({ nullable: true, description: "Credits one use costs.", resolve: (f) => field(f, "credits") as number | null }),
    concurrent: t.int({ nullable: true, resolve: (f) => field(f, "concurrent") as number | null }),
    leaseSeconds: t.int({ nullable: true, resolve: (f) => field(f, "leaseSeconds") as number | null }),
    value: t.float({ nullable: true, resolve: (f) => field(f, "value") as number | null }),
  }),
});

const CreditsGrantRef = builder.objectRef<PlanCredits>("PlanCredits").implement({
  description: "Credits the plan grants: once, or with each paid period.",
  fields: (t) => ({
    amount: t.exposeInt("amount"),
    per: t.exposeString("per", { description: "once or period." }),
    rollover: t.exposeBoolean("rollover"),
    expiresAfterDays: t.exposeInt("expiresAfterDays", { nullable: true }),
  }),
});

const PlanRef = builder.objectRef<PricingPlan>("Plan").implement({
  fields: (t) => ({
    code: t.exposeString("code"),
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    locale: t.exposeString("locale", { nullable: true, description: "The language the texts are in, or null for the catalog's own." }),
    order: t.exposeInt("order", { nullable: true }),
    highlighted: t.exposeBoolean("highlighted"),
    lifetime: t.exposeBoolean("lifetime"),
    prices: t.field({ type: [PriceRef], resolve: (p) => p.prices }),
    features: t.field({ type: [FeatureRef], resolve: (p) => p.features }),
    credits: t.field({ type: CreditsGrantRef, nullable: true, resolve: (p) => p.credits }),
  }),
});

builder.queryField("plans", (t) =>
  t.field({
    type: [PlanRef],
    authScopes: { read: true, dashboard: true },
    description: "The plan catalog as a pricing page needs it, in display order; `locale` picks translated names and descriptions where the catalog has them.",
    args: { locale: t.arg.string() },
    resolve: (_root, args, ctx) => {
      const locale = args.locale ?? null;
      if (locale !== null && !isLanguageTag(locale)) {
        throw new GraphQLError(`locale must be a language tag such as "de" or "pt-BR", got ${JSON.stringify(locale)}`, { extensions: { code: "invalid_parameter", http: { status: 400 } } });
      }
      return pricingPlans(ctx.catalog, locale);
    },
  }),
);
