// Readers for what is Creem's own in its JSON: its two time formats and where an event keeps its
// object. The shape-neutral readers are ../json.ts.
// Creem mixes two time formats: the envelope's `created_at` and a transaction's `period_*` /
// `created_at` are epoch milliseconds, every other nested timestamp is an ISO-8601 string.
import { parseRfc3339Millis, representable, type Instant } from "../../domain/time.js";
import { field, integer, record, text, type Json } from "../json.js";
import { isSnapshotType } from "../snapshot.js";

/** An RFC 3339 timestamp (see src/domain/time.ts) or epoch milliseconds → epoch milliseconds. Pure: no clock is read. */
export const instant = (value: unknown): Instant | null => {
  const ms = integer(value);
  if (ms !== null) return representable(ms);
  const iso = text(value);
  return iso === null ? null : representable(parseRfc3339Millis(iso));
};

/** The `object` member of a Creem event: the checkout, subscription, refund or dispute it is about. */
export const eventObject = (payload: unknown): Json | null => record(field(payload, "object"));

/** The object an event is about: `object`, or (a snapshot `verity sync creem` stored) the body itself. */
export const objectOf = (eventType: string, payload: unknown): Json | null => (isSnapshotType(eventType) ? record(payload) : eventObject(payload));
