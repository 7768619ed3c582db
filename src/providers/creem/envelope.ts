// Decodes the envelope of a Creem event (id, eventType, created_at) so ingest can store and
// deduplicate it before any normalizer reads the body. Errors name the path of what was wrong.
// Creem's envelope: { "id": "evt_…", "eventType": "…", "created_at": <epoch ms>, "object": {…} }.
import { Either, ParseResult, Schema } from "effect";
import { fnv1a64 } from "../../domain/identity.js";
import type { Envelope } from "../types.js";

/** The members ingest relies on; every other member of the event is kept in the stored body. */
export const CreemEventEnvelope = Schema.Struct({
  // Absent (or null) → derived from the payload, see derivedEventId.
  id: Schema.optionalWith(Schema.NonEmptyTrimmedString, { nullable: true }),
  eventType: Schema.NonEmptyTrimmedString,
  // Epoch milliseconds (Creem's docs and every sample), unlike Stripe's seconds.
  created_at: Schema.NonNegativeInt,
  object: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
});
export type CreemEventEnvelope = typeof CreemEventEnvelope.Type;

const decodeEnvelope = Schema.decodeUnknownEither(CreemEventEnvelope, { errors: "all", onExcessProperty: "ignore" });

/** One issue per path: an optional member's union would otherwise report each of its alternatives. */
const describeIssues = (error: ParseResult.ParseError): string => {
  const byPath = new Map<string, string>();
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const at = issue.path.length === 0 ? "(event)" : issue.path.map(String).join(".");
    if (!byPath.has(at)) byPath.set(at, issue.message);
  }
  return [...byPath].map(([at, message]) => `${at}: ${message}`).join("; ");
};

const describeValue = (payload: unknown): string => (payload === null ? "null" : Array.isArray(payload) ? "an array" : typeof payload);

/** JSON with object keys sorted at every depth: one text per JSON value, whatever its key order or spacing. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
};

export const DERIVED_ID_PREFIX = "derived_";

/** The body less its (absent or null) `id` member, so `"id": null` and no id derive the same. */
const withoutId = (payload: unknown): unknown => {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return payload;
  const { id: _id, ...rest } = payload as Record<string, unknown>;
  return rest;
};

/**
 * The id of an event whose body names none (every Creem event has `id: "evt_…"`; this is the
 * fallback): `derived_` + the 64-bit FNV-1a digest (16 hex digits) of the parsed body, less its
 * `id` member, re-serialised with sorted keys and no whitespace. A redelivery of the same event
 * has the same body and so the same id, and is deduplicated; any difference in content gives
 * another id. It cannot collide with Creem's own ids, which start with `evt_`.
 */
export const derivedEventId = (payload: unknown): string => `${DERIVED_ID_PREFIX}${fnv1a64(canonicalJson(withoutId(payload)))}`;

export const decodeCreemEnvelope = (payload: unknown): Either.Either<Envelope, string> => {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return Either.left(`Creem event must be a JSON object, got ${describeValue(payload)}`);
  }
  return Either.mapBoth(decodeEnvelope(payload), {
    onLeft: (error) => `invalid Creem event envelope: ${describeIssues(error)}`,
    onRight: (event) => ({ providerEventId: event.id ?? derivedEventId(payload), type: event.eventType, occurredAt: event.created_at }),
  });
};
