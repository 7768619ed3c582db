// Entitlement: what a user may use at the request's instant, and the query that asks for one.
import type { EntitlementView } from "../../domain/entitlements.js";
import { decidingGrant, entitlementOf, notEnabled } from "../../domain/entitlements.js";
import { meterReading, slotReading } from "../../store/read-model.js";
import { builder } from "../builder.js";

export const EntitlementRef = builder.objectRef<EntitlementView>("Entitlement").implement({
  description: "Whether a feature is usable now, and by which plan.",
  fields: (t) => ({
    feature: t.exposeString("feature"),
    enabled: t.exposeBoolean("enabled"),
    source: t.exposeString("source", { nullable: true, description: "The plan that grants it." }),
    limit: t.exposeFloat("limit", { nullable: true, description: "Units per period (a meter may count fractions: see the catalog's decimals)." }),
    used: t.exposeFloat("used", { nullable: true, description: "Units used in the current period." }),
    remaining: t.exposeFloat("remaining", { nullable: true }),
    overage: t.exposeFloat("overage", { nullable: true, description: "Units used past the limit of an overage-allowed meter; null without a limit." }),
    resetsAt: t.field({ type: "DateTime", nullable: true, resolve: (e) => (e.resetsAt === null ? null : new Date(e.resetsAt)) }),
    value: t.exposeFloat("value", { nullable: true, description: "The plan's number for a value feature (e.g. max_duration_seconds)." }),
  }),
});

builder.queryField("entitlement", (t) =>
  t.field({
    authScopes: { read: true, dashboard: true },
    type: EntitlementRef,
    nullable: true,
    description: "One feature of one user (by app user id or provider customer id); null when the user is unknown.",
    args: { userId: t.arg.string({ required: true }), feature: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const userId = await ctx.reads.findUser(args.userId);
      const view = userId === null ? null : await ctx.reads.user(userId);
      if (view === null) return null;
      const grant = decidingGrant(view.grants, args.feature, ctx.now);
      return grant === null ? notEnabled(args.feature) : entitlementOf(grant, meterReading(view, ctx.now), slotReading(view, ctx.now));
    },
  }),
);
