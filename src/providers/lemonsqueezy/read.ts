// Readers for what is Lemon Squeezy's own in its JSON:API bodies: ids that are strings or numbers,
// ISO-8601 timestamps to the microsecond, the resource a webhook is about and the app's custom
// data. The shape-neutral readers are ../json.ts.
import { representable, type Instant } from "../../domain/time.js";
import { currency, field, integer, record, text, type Json } from "../json.js";

export { field, integer, present, scalars, text, type Json } from "../json.js";

/**
 * An id as a string. JSON:API ids are strings ("1") but the foreign keys inside `attributes` are
 * numbers (`customer_id: 1`): both become "1", so one object has one key whichever side names it.
 */
export const idText = (value: unknown): string | null => {
  const n = integer(value);
  if (n !== null) return n >= 0 ? String(n) : null;
  return text(value)?.trim() ?? null;
};

// ISO-8601 with a zone, as Lemon Squeezy writes it ("2023-01-17T12:26:23.000000Z"): up to
// microseconds, which are cut to milliseconds (Instants are epoch milliseconds).
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO-8601 timestamp with a zone → epoch ms; null for anything else (no locale-dependent Date.parse). */
export const isoInstant = (value: unknown): Instant | null => {
  const match = typeof value === "string" ? ISO.exec(value.trim()) : null;
  if (match === null) return null;
  const [, y, mo, d, h, mi, s, fraction = "", zone = "Z"] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, Number(fraction.padEnd(3, "0").slice(0, 3)));
  // Date.UTC rolls 31 February over into March: a date that does not exist is not a date.
  if (new Date(utc).getUTCDate() !== day) return null;
  const offsetMinutes = zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return representable(utc - offsetMinutes * 60_000);
};

/** The JSON:API resource a webhook is about: `data`, with its `type`, `id` and `attributes`. */
export type Resource = { readonly type: string; readonly id: string; readonly attributes: Json };

export const resourceOf = (payload: unknown): Resource | null => {
  const type = text(field(payload, "data", "type"));
  const id = idText(field(payload, "data", "id"));
  const attributes = record(field(payload, "data", "attributes"));
  return type === null || id === null || attributes === null ? null : { type, id, attributes };
};

/** `meta.custom_data`: what the app passed at checkout (`checkout[custom][…]` or the API's `custom_data`). */
export const customData = (payload: unknown): Json | null => record(field(payload, "meta", "custom_data"));

/** Currencies are ISO 4217 codes, upper-case at Lemon Squeezy; Verity keeps them lower-case as Stripe does. */
export const currencyOf = (attributes: Json): string => currency(attributes["currency"]);
