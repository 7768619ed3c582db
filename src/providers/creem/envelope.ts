// Decodes the envelope of a Creem event (id, eventType, created_at) so ingest can store and
// deduplicate it before any normalizer reads the body. Errors name the path of what was wrong.
// Creem's envelope: { "id": "evt_…", "eventType": "…", "created_at": <epoch ms>, "object": {…} }.
import { Either, Schema } from "effect";
import { derivedEventId } from "../derived-id.js";
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

/** The body's own (absent or null) `id` is left out, so `"id": null` and no id derive the same. */
const ID_MEMBERS: ReadonlySet<string> = new Set(["id"]);

/** The id of a Creem event whose body names none (every Creem event has `id: "evt_…"`): see derived-id.ts. */
export const creemDerivedEventId = (payload: unknown): string => derivedEventId(payload, ID_MEMBERS);

export const decodeCreemEnvelope = (payload: unknown): Either.Either<Envelope, string> => {
  const notObject = notAnObject(payload, "Creem event");
  if (notObject !== null) return Either.left(notObject);
  return Either.mapBoth(decodeEnvelope(payload), {
    onLeft: (error) => `invalid Creem event envelope: ${describeFirstIssuePerPath(error, "(event)")}`,
    onRight: (event) => ({ providerEventId: event.id ?? creemDerivedEventId(payload), type: event.eventType, occurredAt: event.created_at }),
  });
};
