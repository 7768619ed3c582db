// Defensive readers for untrusted Stripe JSON. Each one returns a typed value or null and never
// throws, so a missing or odd field makes the normalizer yield fewer facts instead of failing the
// whole event (the raw event stays stored and can be reprocessed by a later version).
import type { Scalar } from "../../domain/event.js";
import { fromUnixSeconds, type Instant } from "../../domain/time.js";

export type Json = Readonly<Record<string, unknown>>;

/** A plain JSON object, or null for arrays, primitives and null. */
export const record = (value: unknown): Json | null =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : null;

/** The value at `path` inside nested objects, or undefined as soon as a step is not an object. */
export const field = (value: unknown, ...path: readonly string[]): unknown => {
  let current = value;
  for (const key of path) {
    const object = record(current);
    // Own members only: a key like "constructor" must not reach Object.prototype.
    if (object === null || !Object.hasOwn(object, key)) return undefined;
    current = object[key];
  }
  return current;
};

/** A string with a non-blank character. Stripe never sends meaningful blank ids, so "" or "  " counts as absent. */
export const text = (value: unknown): string | null => (typeof value === "string" && value.trim().length > 0 ? value : null);

/** An integer (amounts are minor units and timestamps are whole seconds in Stripe). */
export const integer = (value: unknown): number | null => (typeof value === "number" && Number.isSafeInteger(value) ? value : null);

/** Unix seconds → epoch milliseconds. */
export const instant = (value: unknown): Instant | null => {
  const seconds = integer(value);
  return seconds === null ? null : fromUnixSeconds(seconds);
};

/** An expandable reference: Stripe sends either the id or, when expanded, the object carrying it. */
export const ref = (value: unknown): string | null => text(value) ?? text(field(value, "id"));

/** The elements of a Stripe list object (`{ object: "list", data: [...] }`); anything else is empty. */
export const listData = (value: unknown): readonly unknown[] => {
  const data = field(value, "data");
  return Array.isArray(data) ? data : [];
};

/** The top-level string / number / boolean / null members of an object; nested values are skipped. */
export const scalars = (value: unknown): Record<string, Scalar> => {
  const source = record(value) ?? {};
  return Object.fromEntries(Object.entries(source).filter((entry): entry is [string, Scalar] => isScalar(entry[1])));
};

const isScalar = (value: unknown): value is Scalar =>
  value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));

export const present = <T>(values: readonly (T | null)[]): T[] => values.filter((v): v is T => v !== null);

/** Distinct values in first-seen order (order matters: the catalog maps the first known price). */
export const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];

/** `data.object` of a Stripe event. */
export const eventObject = (payload: unknown): Json | null => record(field(payload, "data", "object"));

/** `data.previous_attributes` of a Stripe `*.updated` event, or null when the event has none. */
export const previousAttributes = (payload: unknown): Json | null => record(field(payload, "data", "previous_attributes"));
