// Transition: one change of one field, with the event that caused it.
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
