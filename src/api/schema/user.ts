// User: found by any of its ids, with what it may use and what it pays for.
import { findUserId, primarySubscription, toGrant, userEntitlements } from "../../store/reads.js";
import { builder, requireScope } from "../builder.js";
import { EntitlementRef } from "./entitlement.js";
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
      resolve: async (u, _args, ctx) =>
        (await ctx.db.prisma.userIdentity.findMany({ where: { userId: u.id, kind: "customer" }, orderBy: { key: "asc" } })).map(
          (i) => `${i.provider}:${i.value}`,
        ),
    }),
    entitlements: t.field({
      type: [EntitlementRef],
      resolve: (u, _args, ctx) => userEntitlements(ctx.db, ctx.catalog, u.id, ctx.now),
    }),
    subscription: t.prismaField({
      type: SubscriptionRef,
      nullable: true,
      description: "The live subscription that grants the most (ties: the latest started).",
      resolve: async (query, u, _args, ctx) => {
        const subs = await ctx.db.prisma.subscription.findMany({ ...query, where: { userId: u.id } });
        const grants = (await ctx.db.prisma.entitlement.findMany({ where: { userId: u.id } }))
          .map(toGrant)
          .filter((g) => g.validUntil === null || ctx.now < g.validUntil);
        return primarySubscription(subs, grants);
      },
    }),
    subscriptions: t.relation("subscriptions", { query: { orderBy: [{ startedAt: { sort: "desc", nulls: "last" } }, { id: "asc" }] } }),
    orders: t.relation("orders", { query: { orderBy: [{ paidAt: "desc" }, { id: "asc" }] } }),
    transitions: t.relation("transitions", { query: { orderBy: { ordinal: "asc" } } }),
  }),
});

builder.queryField("user", (t) =>
  t.prismaField({
    type: UserRef,
    nullable: true,
    description: "A user by the app's user id or any provider customer id.",
    args: { id: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      requireScope(ctx, "read");
      const userId = await findUserId(ctx.db, args.id);
      return userId === null ? null : ctx.db.prisma.user.findUnique({ ...query, where: { id: userId } });
    },
  }),
);
