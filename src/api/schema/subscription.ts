// Subscription as stored in the projections.
import { builder } from "../builder.js";

// Named BillingSubscription: a GraphQL type named "Subscription" would be taken for the root of
// GraphQL subscriptions.
export const SubscriptionRef = builder.prismaObject("Subscription", {
  name: "BillingSubscription",
  fields: (t) => ({
    provider: t.exposeString("provider"),
    id: t.exposeString("providerId", { description: "The provider's subscription id." }),
    plan: t.exposeString("plan", { nullable: true }),
    priceIds: t.field({ type: ["String"], resolve: (s) => (s.priceIds === "" ? [] : s.priceIds.split(",")) }),
    status: t.exposeString("status", { description: "trialing | active | past_due | canceled | incomplete" }),
    providerStatus: t.exposeString("providerStatus"),
    currentPeriodStart: t.expose("currentPeriodStart", { type: "DateTime", nullable: true }),
    currentPeriodEnd: t.expose("currentPeriodEnd", { type: "DateTime", nullable: true }),
    cancelAtPeriodEnd: t.exposeBoolean("cancelAtPeriodEnd"),
    canceledAt: t.expose("canceledAt", { type: "DateTime", nullable: true }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true }),
    endedAt: t.expose("endedAt", { type: "DateTime", nullable: true }),
    trialStart: t.expose("trialStart", { type: "DateTime", nullable: true }),
    trialEnd: t.expose("trialEnd", { type: "DateTime", nullable: true }),
  }),
});

export const OrderRef = builder.prismaObject("Order", {
  fields: (t) => ({
    provider: t.exposeString("provider"),
    id: t.exposeString("providerId"),
    kind: t.exposeString("kind", { description: "one_time | subscription" }),
    plan: t.exposeString("plan", { nullable: true }),
    amount: t.exposeInt("amount", { description: "Minor units." }),
    amountRefunded: t.exposeInt("amountRefunded"),
    currency: t.exposeString("currency"),
    status: t.exposeString("status", { description: "pending | paid | partially_refunded | refunded" }),
    paidAt: t.expose("paidAt", { type: "DateTime" }),
  }),
});
