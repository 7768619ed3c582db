// Defensive readers for untrusted Creem JSON. Each one returns a typed value or null and never
// throws, so a missing or odd field makes the normalizer yield fewer facts instead of failing the
// whole event (the raw event stays stored and can be reprocessed by a later version).
// Creem mixes two time formats: the envelope's `created_at` and a transaction's `period_*` /
// `created_at` are epoch milliseconds, every other nested timestamp is an ISO-8601 string.
import type { Scalar } from "../../domain/event.js";
import type { Instant } from "../../domain/time.js";

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

/** A string with a non-blank character; "" or "  " counts as absent. */
export const text = (value: unknown): string | null => (typeof value === "string" && value.trim().length > 0 ? value : null);

/** An integer (amounts are minor units). */
export const integer = (value: unknown): number | null => (typeof value === "number" && Number.isSafeInteger(value) ? value : null);

// RFC 3339 with any number of fractional digits; Date.parse alone also accepts looser forms.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 timestamp or epoch milliseconds → epoch milliseconds. Pure: no clock is read. */
export const instant = (value: unknown): Instant | null => {
  const ms = integer(value);
  if (ms !== null) return ms;
  const iso = text(value);
  if (iso === null || !ISO_INSTANT.test(iso)) return null;
  const parsed = Date.parse(iso);
  return Number.isFinite(parsed) ? parsed : null;
};

/** A reference Creem sends either as the id or as the embedded object carrying it. */
export const ref = (value: unknown): string | null => text(value) ?? text(field(value, "id"));

/** The elements of a JSON array; anything else is empty. */
export const array = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** The top-level string / number / boolean / null members of an object; nested values are skipped. */
export const scalars = (value: unknown): Record<string, Scalar> => {
  const source = record(value) ?? {};
  return Object.fromEntries(Object.entries(source).filter((entry): entry is [string, Scalar] => isScalar(entry[1])));
};

const isScalar = (value: unknown): value is Scalar =>
  value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));

export const present = <T>(values: readonly (T | null)[]): T[] => values.filter((v): v is T => v !== null);

/** Distinct values in first-seen order (order matters: the catalog maps the first known product). */
export const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];

/** The `object` member of a Creem event: the checkout, subscription, refund or dispute it is about. */
export const eventObject = (payload: unknown): Json | null => record(field(payload, "object"));
