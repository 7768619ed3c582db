// Readers for what is Creem's own in its JSON: its two time formats and where an event keeps its
// object. The shape-neutral readers are ../json.ts.
// Creem mixes two time formats: the envelope's `created_at` and a transaction's `period_*` /
// `created_at` are epoch milliseconds, every other nested timestamp is an ISO-8601 string.
import { representable, type Instant } from "../../domain/time.js";
import { field, integer, record, text, type Json } from "../json.js";

export { array, distinct, field, integer, present, record, ref, scalars, text, textOrInteger, type Json } from "../json.js";

// RFC 3339 with any number of fractional digits; Date.parse alone also accepts looser forms.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 timestamp or epoch milliseconds → epoch milliseconds. Pure: no clock is read. */
export const instant = (value: unknown): Instant | null => {
  const ms = integer(value);
  if (ms !== null) return representable(ms);
  const iso = text(value);
  if (iso === null || !ISO_INSTANT.test(iso)) return null;
  const parsed = Date.parse(iso);
  return representable(Number.isFinite(parsed) ? parsed : null);
};

/** The `object` member of a Creem event: the checkout, subscription, refund or dispute it is about. */
export const eventObject = (payload: unknown): Json | null => record(field(payload, "object"));
