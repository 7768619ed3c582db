// Deliveries refused at ingest, newest first: why a production webhook endpoint does not connect.
import { builder, requireScope } from "../builder.js";

const RejectionRef = builder.prismaObject("RejectedDelivery", {
  name: "RejectedDelivery",
  fields: (t) => ({
    provider: t.exposeString("provider"),
    code: t.exposeString("code", { description: "Stable reason code, as in the webhook's error answer." }),
    message: t.exposeString("message"),
    bodyBytes: t.exposeInt("bodyBytes"),
    receivedAt: t.expose("receivedAt", { type: "DateTime" }),
  }),
});

builder.queryField("rejectedDeliveries", (t) =>
  t.prismaField({
    type: [RejectionRef],
    description: "Webhook deliveries Verity refused (never their payloads), newest first.",
    args: { limit: t.arg.int({ defaultValue: 50 }) },
    resolve: (query, _root, args, ctx) => {
      requireScope(ctx, "events");
      return ctx.db.prisma.rejectedDelivery.findMany({ ...query, orderBy: { id: "desc" }, take: Math.min(500, Math.max(1, args.limit ?? 50)) });
    },
  }),
);
