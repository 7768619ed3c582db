// Webhooks out, as an operator inspects them: the endpoints, and each delivery with its attempts
// (scope admin, or dashboard: the dashboard shows them; secrets are never exposed).
import { GraphQLError } from "graphql";
import { listDeliveries, listEndpoints, type AttemptRow, type DeliveryRow, type EndpointRow } from "../../store/webhook-endpoints.js";
import { builder } from "../builder.js";

const EndpointRef = builder.objectRef<EndpointRow>("WebhookEndpoint").implement({
  fields: (t) => ({
    id: t.exposeString("id"),
    url: t.exposeString("url"),
    filter: t.exposeString("filter", { nullable: true, description: "entity=… and/or field=…; null: every transition." }),
    fedThrough: t.exposeInt("cursor", { description: "The last transition feed seq turned into deliveries for it." }),
    createdAt: t.field({ type: "DateTime", resolve: (e) => e.createdAt }),
  }),
});

const AttemptRef = builder.objectRef<AttemptRow>("WebhookAttempt").implement({
  fields: (t) => ({
    at: t.field({ type: "DateTime", resolve: (a) => a.at }),
    status: t.exposeInt("status", { description: "The HTTP status the endpoint answered; 0 when it did not answer." }),
    error: t.exposeString("error", { nullable: true }),
    durationMs: t.exposeInt("durationMs"),
  }),
});

type Delivery = DeliveryRow & { readonly attemptRows: AttemptRow[] };

const DeliveryRef = builder.objectRef<Delivery>("WebhookDelivery").implement({
  fields: (t) => ({
    id: t.exposeString("id", { description: "The webhook-id header: the same on every attempt." }),
    endpointId: t.exposeString("endpointId"),
    seq: t.exposeInt("seq", { description: "The transition feed seq it delivers." }),
    userId: t.exposeString("userId"),
    type: t.exposeString("type"),
    status: t.exposeString("status", { description: "pending, delivered, or failed (given up after more than three days of retries)." }),
    attempts: t.field({ type: [AttemptRef], resolve: (d) => d.attemptRows }),
    nextAttemptAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => (d.status === "pending" ? d.nextAttemptAt : null) }),
    deliveredAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => d.deliveredAt }),
    payload: t.exposeString("payload", { description: "The body sent, exactly." }),
  }),
});

builder.queryField("webhookEndpoints", (t) =>
  t.field({ type: [EndpointRef], authScopes: { admin: true, dashboard: true }, description: "Where webhooks out go (verity endpoints create).", resolve: (_root, _args, ctx) => listEndpoints(ctx.db) }),
);

builder.queryField("webhookDeliveries", (t) =>
  t.field({
    type: [DeliveryRef],
    authScopes: { admin: true, dashboard: true },
    description: "Deliveries of webhooks out, newest first, with every attempt.",
    args: { endpointId: t.arg.string(), status: t.arg.string(), userId: t.arg.string(), first: t.arg.int({ defaultValue: 50 }) },
    resolve: (_root, args, ctx) => {
      if (args.status != null && !["pending", "delivered", "failed"].includes(args.status)) {
        throw new GraphQLError(`status must be pending, delivered or failed, got ${JSON.stringify(args.status)}`, { extensions: { code: "invalid_parameter", http: { status: 400 } } });
      }
      return listDeliveries(ctx.db, { endpointId: args.endpointId ?? null, status: args.status ?? null, userId: args.userId ?? null }, Math.min(500, Math.max(1, args.first ?? 50)));
    },
  }),
);
