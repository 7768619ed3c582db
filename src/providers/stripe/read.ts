// Readers for what is Stripe's own in its JSON: Unix-second timestamps, expandable references,
// list objects and where an event keeps its object. The shape-neutral readers are ../json.ts.
import { fromUnixSeconds, representable, type Instant } from "../../domain/time.js";
import { array, field, integer, record, type Json } from "../json.js";

/** Unix seconds → epoch milliseconds (Stripe timestamps are whole seconds). */
export const instant = (value: unknown): Instant | null => {
  const seconds = integer(value);
  return seconds === null ? null : representable(fromUnixSeconds(seconds));
};

/** The elements of a Stripe list object (`{ object: "list", data: [...] }`); anything else is empty. */
export const listData = (value: unknown): readonly unknown[] => array(field(value, "data"));

/** `data.object` of a Stripe event. */
export const eventObject = (payload: unknown): Json | null => record(field(payload, "data", "object"));

/** `data.previous_attributes` of a Stripe `*.updated` event, or null when the event has none. */
export const previousAttributes = (payload: unknown): Json | null => record(field(payload, "data", "previous_attributes"));
