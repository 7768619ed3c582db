// Defensive readers for untrusted provider JSON, the same for every provider. Each one returns a
// typed value or null and never throws, so a missing or odd field makes a normalizer yield fewer
// facts instead of failing the whole event (the raw event stays stored and can be reprocessed by a
// later version). Pure: normalizers import it. What a provider's shapes mean (its timestamps, its
// amounts, where its event keeps the object) stays in that provider's own read.ts.
import type { Scalar } from "../domain/event.js";

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

/** A string with a non-blank character. No provider sends meaningful blank ids, so "" or "  " counts as absent. */
export const text = (value: unknown): string | null => (typeof value === "string" && value.trim().length > 0 ? value : null);

/** A safe integer (amounts in minor units, timestamps in seconds or milliseconds). */
export const integer = (value: unknown): number | null => (typeof value === "number" && Number.isSafeInteger(value) ? value : null);

/**
 * A non-blank string, or a safe integer as its decimal string. Free JSON an app fills (metadata,
 * custom data) keeps JSON types, so an app may well pass its numeric user id as a number.
 */
export const textOrInteger = (value: unknown): string | null => text(value) ?? (integer(value) === null ? null : String(value));

/** A reference sent either as the id or as the embedded (expanded) object carrying it. */
export const ref = (value: unknown): string | null => text(value) ?? text(field(value, "id"));

/** The elements of a JSON array; anything else is empty. */
export const array = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** ISO 4217 code in lower case, as Stripe writes it, so orders from every provider compare alike. */
export const currency = (...candidates: readonly unknown[]): string => {
  for (const c of candidates) {
    const code = text(c);
    if (code !== null) return code.trim().toLowerCase();
  }
  return "";
};

/** The top-level string / number / boolean / null members of an object; nested values are skipped. */
export const scalars = (value: unknown): Record<string, Scalar> => {
  const out: Record<string, Scalar> = {};
  const source = record(value);
  if (source === null) return out;
  for (const key of Object.keys(source)) {
    const v = source[key];
    if (!isScalar(v)) continue;
    // A "__proto__" member of the JSON stays a plain member.
    if (key === "__proto__") Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
    else out[key] = v;
  }
  return out;
};

const isScalar = (value: unknown): value is Scalar =>
  value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));

export const present = <T>(values: readonly (T | null)[]): T[] => values.filter((v): v is T => v !== null);

/** Distinct values in first-seen order (order matters: the catalog maps the first known price). */
export const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];
