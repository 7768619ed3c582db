// User: found by any of its ids, with what it may use and what it pays for.
import { entitlementsAt } from "../../domain/entitlements.js";
import { liveGrants, primarySubscription } from "../../store/reads.js";
import { meterReading, slotReading } from "../../store/read-model.js";
import { builder } from "../builder.js";
import { EntitlementRef } from "./entitlement.js";
import { CreditsRef } from "./credits.js";
import { creditsOf } from "../../store/credits.js";
import { activationsOfSubject } from "../../store/activations.js";
import { sqlOf } from "../../store/sql.js";
import { activationView } from "../../domain/activations.js";
import { ActivationRef } from "./activation.js";
import "./transition.js";
import { SubscriptionRef } from "./subscription.js";

export const UserRef = builder.prismaObject("User", {
  fields: (t) => ({
    id: t.string({ description: "The app's user id when known, else Verity's id.", resolve: (u) => u.appUserId ?? u.id }),
    verityId: t.exposeString("id"),
    appUserId: t.exposeString("appUserId", { nullable: true }),
    email: t.exposeString("email", { nullable: true }),
    status: t.exposeString("status"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    customerIds: t.field({
      type: ["String"],
      description: "Provider customer ids, as provider:id.",
      resolve: async (u, _args, ctx) => [...((await ctx.reads.user(u.id))?.customerIds ?? [])],
    }),
    entitlements: t.field({
      type: [EntitlementRef],
      resolve: async (u, _args, ctx) => {
        const view = await ctx.reads.user(u.id);
        return view === null ? entitlementsAt([], ctx.catalog, ctx.now) : entitlementsAt(view.grants, ctx.catalog, ctx.now, meterReading(view, ctx.now), slotReading(view, ctx.now));
      },
    }),
    credits: t.field({
      type: CreditsRef,
      description: "Credit balances and the ledger that sums to them.",
      resolve: async (u, _args, ctx) => {
        const view = await ctx.reads.user(u.id);
        return creditsOf(ctx.db, ctx.catalog, u.id, view?.subject ?? u.appUserId ?? u.id, ctx.now);
      },
    }),
    activations: t.field({
      type: [ActivationRef],
      description: "Clients activated with a code for this user, newest first.",
      resolve: async (u, _args, ctx) => {
        const view = await ctx.reads.user(u.id);
        return (await activationsOfSubject(sqlOf(ctx.db), view?.subject ?? u.appUserId ?? u.id)).map((a) => activationView(a, ctx.now));
      },
    }),
    subscription: t.field({
      type: SubscriptionRef,
      nullable: true,
      description: "The live subscription that grants the most (ties: the latest started).",
      resolve: async (u, _args, ctx) => {
        const view = await ctx.reads.user(u.id);
        return view === null ? null : primarySubscription(view.subscriptions, liveGrants(view.grants, ctx.now));
      },
    }),
    subscriptions: t.relation("subscriptions", { query: { orderBy: [{ startedAt: { sort: "desc", nulls: "last" } }, { id: "asc" }] } }),
    orders: t.relation("orders", { query: { orderBy: [{ paidAt: "desc" }, { id: "asc" }] } }),
    transitions: t.relation("transitions", { query: { orderBy: { ordinal: "asc" } } }),
  }),
});

builder.queryField("user", (t) =>
  t.prismaField({
    authScopes: { read: true, dashboard: true },
    type: UserRef,
    nullable: true,
    description: "A user by the app's user id or any provider customer id.",
    args: { id: t.arg.string({ required: true }) },
    // From memory: the user row; relations a query selects (orders, transitions…) are loaded by
    // the Prisma plugin on demand.
    resolve: async (_query, _root, args, ctx) => {
      const userId = await ctx.reads.findUser(args.id);
      return userId === null ? null : ((await ctx.reads.user(userId))?.user ?? null);
    },
  }),
);
