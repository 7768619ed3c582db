// Deliveries refused at ingest, newest first: why a production webhook endpoint does not connect.
// One row per provider, reason and minute, with how many were refused.
import type { RejectionRow } from "../../store/rejections.js";
import { builder } from "../builder.js";

export const RejectionRef = builder.objectRef<RejectionRow>("RejectedDelivery").implement({
  fields: (t) => ({
    provider: t.exposeString("provider"),
    code: t.exposeString("code", { description: "Stable reason code, as in the webhook's error answer." }),
    message: t.exposeString("message", { description: "The latest refusal's message." }),
    bodyBytes: t.exposeInt("bodyBytes", { description: "The latest refusal's body size." }),
    count: t.exposeInt("count", { description: "Refusals of this provider and reason within this minute." }),
    firstReceivedAt: t.expose("firstReceivedAt", { type: "DateTime" }),
    receivedAt: t.expose("receivedAt", { type: "DateTime", description: "The latest refusal." }),
  }),
});

builder.queryField("rejectedDeliveries", (t) =>
  t.field({
    authScopes: { events: true, dashboard: true },
    type: [RejectionRef],
    description: "Webhook deliveries Verity refused (never their payloads), newest first: one entry per provider, reason and minute.",
    args: { limit: t.arg.int({ defaultValue: 50 }) },
    resolve: (_root, args, ctx) => {
      return ctx.rejections.list(Math.min(500, Math.max(1, args.limit ?? 50)));
    },
  }),
);
