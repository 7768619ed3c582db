// Decodes the envelope of a Creem event (id, eventType, created_at) so ingest can store and
// deduplicate it before any normalizer reads the body. Errors name the path of what was wrong.
// Creem's envelope: { "id": "evt_…", "eventType": "…", "created_at": <epoch ms>, "object": {…} }.
import { Either, Schema } from "effect";
import { fnv1a64 } from "../../domain/identity.js";
import { canonicalJson } from "../canonical-json.js";
import { describeFirstIssuePerPath, notAnObject } from "../envelope.js";
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

export const DERIVED_ID_PREFIX = "derived_";

/** The body's own (absent or null) `id` is left out, so `"id": null` and no id derive the same. */
const WITHOUT_ID: ReadonlySet<string> = new Set(["id"]);

/**
 * The id of an event whose body names none (every Creem event has `id: "evt_…"`; this is the
 * fallback): `derived_` + the 64-bit FNV-1a digest (16 hex digits) of the parsed body, less its
 * `id` member, re-serialised with sorted keys and no whitespace. A redelivery of the same event
 * has the same body and so the same id, and is deduplicated; any difference in content gives
 * another id. It cannot collide with Creem's own ids, which start with `evt_`.
 */
export const derivedEventId = (payload: unknown): string => `${DERIVED_ID_PREFIX}${fnv1a64(canonicalJson(payload, WITHOUT_ID))}`;

export const decodeCreemEnvelope = (payload: unknown): Either.Either<Envelope, string> => {
  const notObject = notAnObject(payload, "Creem event");
  if (notObject !== null) return Either.left(notObject);
  return Either.mapBoth(decodeEnvelope(payload), {
    onLeft: (error) => `invalid Creem event envelope: ${describeFirstIssuePerPath(error, "(event)")}`,
    onRight: (event) => ({ providerEventId: event.id ?? derivedEventId(payload), type: event.eventType, occurredAt: event.created_at }),
  });
};
