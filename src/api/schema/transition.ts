// Transition: one change of one field, with the event that caused it, and the query for a user's log.
import { builder } from "../builder.js";

export const TransitionRef = builder.prismaObject("Transition", {
  fields: (t) => ({
    entity: t.exposeString("entity"),
    entityId: t.exposeString("entityId"),
    field: t.exposeString("field"),
    from: t.exposeString("from", { nullable: true }),
    to: t.exposeString("to", { nullable: true }),
    at: t.expose("at", { type: "DateTime" }),
    cause: t.exposeString("cause", { description: "provider:eventId of the event that caused it." }),
  }),
});

builder.queryField("transitions", (t) =>
  t.prismaField({
    authScopes: { read: true, dashboard: true },
    type: [TransitionRef],
    description: "A user's transition log in fold order.",
    args: { userId: t.arg.string({ required: true }), first: t.arg.int({ defaultValue: 100 }), offset: t.arg.int({ defaultValue: 0 }) },
    resolve: async (query, _root, args, ctx) => {
      const userId = await ctx.reads.findUser(args.userId);
      if (userId === null) return [];
      return ctx.db.prisma.transition.findMany({
        ...query,
        where: { userId },
        orderBy: { ordinal: "asc" },
        skip: Math.max(0, args.offset ?? 0),
        take: Math.min(500, Math.max(1, args.first ?? 100)),
      });
    },
  }),
);
