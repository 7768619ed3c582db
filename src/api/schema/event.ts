// Event: the stored provider events, paged in arrival order like GET /api/events; and the
// transition log of one user.
import { Either } from "effect";
import { GraphQLError } from "graphql";
import { eventPageQuery } from "../event-page.js";
import type { StoredEvent } from "../../store/events.js";
import { encodeCursor, listEvents, type EventPage } from "../../store/reads.js";
import { builder } from "../builder.js";

export const EventRef = builder.objectRef<StoredEvent>("Event").implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (e) => encodeCursor(e.seq) }),
    provider: t.exposeString("provider"),
    id: t.exposeString("providerEventId"),
    type: t.exposeString("type"),
    origin: t.exposeString("origin", { description: "webhook | fetched" }),
    occurredAt: t.field({ type: "DateTime", resolve: (e) => new Date(e.occurredAt) }),
    receivedAt: t.field({ type: "DateTime", resolve: (e) => new Date(e.receivedAt) }),
    payload: t.field({
      type: "JSON",
      nullable: true,
      description: "The parsed copy of the body; null when the event is kept raw only (see rawOnlyReason).",
      resolve: (e) => e.payload,
    }),
    rawOnlyReason: t.string({
      nullable: true,
      description: "Why this event is kept as raw bytes only, without a parsed copy (e.g. nested too deep); null for almost every event.",
      resolve: (e) => e.rawOnlyReason ?? null,
    }),
    rawBody: t.string({ description: "The body exactly as received, base64.", resolve: (e) => Buffer.from(e.rawBody).toString("base64") }),
  }),
});

const EventPageRef = builder.objectRef<EventPage>("EventPage").implement({
  fields: (t) => ({
    events: t.field({ type: [EventRef], resolve: (p) => [...p.events] }),
    next: t.string({ nullable: true, resolve: (p) => p.next }),
  }),
});

builder.queryField("events", (t) =>
  t.field({
    authScopes: { events: true, dashboard: true },
    type: EventPageRef,
    description: "Stored events in arrival order, after a cursor or received since an ISO time; `rawOnly` lists only events kept without a parsed copy.",
    args: { since: t.arg.string(), limit: t.arg.int({ defaultValue: 100 }), rawOnly: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, args, ctx) => {
      const { from, limit } = Either.getOrThrowWith(
        eventPageQuery(args.since, args.limit),
        (message) => new GraphQLError(message, { extensions: { code: "invalid_parameter", http: { status: 400 } } }),
      );
      return listEvents(ctx.db, from, limit, { rawOnly: args.rawOnly ?? false });
    },
  }),
);

builder.queryField("projectedThrough", (t) =>
  t.int({
    authScopes: { public: true },
    description:
      "Every stored event with a seq up to this one is in the projections this request reads. A webhook's answer carries its event's seq: wait until this reaches it.",
    resolve: (_root, _args, ctx) => ctx.projectedThrough,
  }),
);
