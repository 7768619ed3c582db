// Readers for what is Paddle's own in its JSON: timestamps (RFC 3339 strings), amounts (strings of
// minor units, e.g. "65215") and transaction ids as payment references. The shape-neutral readers
// are ../json.ts.
import { parseRfc3339, representable, type Instant } from "../../domain/time.js";
import { array, field, record, text, type Json } from "../json.js";

// Go's zero time: Paddle writes it for a timestamp that was never set (e.g. a new adjustment's updated_at).
const UNSET_TIME = /^0001-01-01T00:00:00(?:\.0+)?Z$/;

/** Epoch milliseconds of an RFC 3339 string; null for anything else and for Go's zero time. */
export const instant = (value: unknown): Instant | null => {
  const s = text(value);
  return s === null || UNSET_TIME.test(s) ? null : representable(parseRfc3339(s)?.epochMs ?? null);
};

/** An amount in minor units: Paddle sends integers as decimal strings; a JSON integer is read too. */
export const minorUnits = (value: unknown): number | null => {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== "string" || !/^-?\d{1,16}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
};

/** A transaction id used as a payment reference (the resolver keys its ledgers by provider). */
export const paymentRef = (value: unknown): string | null => text(value);

/** The elements of a JSON array that are objects; anything else is empty. */
export const objects = (value: unknown): Json[] => array(value).map(record).filter((o): o is Json => o !== null);

/** The `data` member of a notification: the entity the event is about. */
export const eventData = (payload: unknown): Json | null => record(field(payload, "data"));
