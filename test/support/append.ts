// Appends a builder-made Stripe event to the store as ingest would: raw bytes plus parsed copy.
import type { Database } from "../../src/store/database.js";
import { appendEvent, type AppendResult } from "../../src/store/events.js";
import { toRawBody, type StripeEvent } from "../builders/stripe.js";

export const appendStripeEvent = (db: Database, event: StripeEvent, receivedAt = 0): Promise<AppendResult> => {
  const rawBody = toRawBody(event);
  return appendEvent(db, {
    provider: "stripe",
    providerEventId: event.id,
    type: event.type,
    occurredAt: event.created * 1000,
    receivedAt,
    origin: "webhook",
    rawBody,
    payload: JSON.parse(new TextDecoder().decode(rawBody)),
  });
};
