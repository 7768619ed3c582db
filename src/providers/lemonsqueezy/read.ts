// Readers for what is Lemon Squeezy's own in its JSON:API bodies: ids that are strings or numbers,
// ISO-8601 timestamps to the microsecond, the resource a webhook is about and the app's custom
// data. The shape-neutral readers are ../json.ts.
import { parseRfc3339Millis, representable, type Instant } from "../../domain/time.js";
import { currency, field, integer, record, text, type Json } from "../json.js";
import { isSnapshotType } from "../snapshot.js";

/**
 * An id as a string. JSON:API ids are strings ("1") but the foreign keys inside `attributes` are
 * numbers (`customer_id: 1`): both become "1", so one object has one key whichever side names it.
 */
export const idText = (value: unknown): string | null => {
  const n = integer(value);
  if (n !== null) return n >= 0 ? String(n) : null;
  return text(value)?.trim() ?? null;
};

/** An RFC 3339 timestamp (Lemon Squeezy writes microseconds: "2023-01-17T12:26:23.000000Z") → epoch ms, or null. */
export const isoInstant = (value: unknown): Instant | null => (typeof value === "string" ? representable(parseRfc3339Millis(value)) : null);

/** The JSON:API resource a webhook is about: `data`, with its `type`, `id` and `attributes`. */
export type Resource = { readonly type: string; readonly id: string; readonly attributes: Json };

/** A JSON:API resource object: `{ type, id, attributes }`. */
export const resourceIn = (value: unknown): Resource | null => {
  const type = text(field(value, "type"));
  const id = idText(field(value, "id"));
  const attributes = record(field(value, "attributes"));
  return type === null || id === null || attributes === null ? null : { type, id, attributes };
};

export const resourceOf = (payload: unknown): Resource | null => resourceIn(field(payload, "data"));

/**
 * The resource an event is about: a webhook's `data`, or (a snapshot `verity sync lemonsqueezy`
 * stored) the resource object itself, as the API listed it.
 */
export const eventResource = (eventType: string, payload: unknown): Resource | null => (isSnapshotType(eventType) ? resourceIn(payload) : resourceOf(payload));

/** `meta.custom_data`: what the app passed at checkout (`checkout[custom][…]` or the API's `custom_data`). */
export const customData = (payload: unknown): Json | null => record(field(payload, "meta", "custom_data"));

/** Currencies are ISO 4217 codes, upper-case at Lemon Squeezy; Verity keeps them lower-case as Stripe does. */
export const currencyOf = (attributes: Json): string => currency(attributes["currency"]);
