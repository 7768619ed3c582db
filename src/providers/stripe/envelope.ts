// Decodes the envelope of a Stripe event (id, type, created) so ingest can store and deduplicate it
// before any normalizer reads the body. Errors name the path of what was wrong.
import { Either, Schema } from "effect";
import { fromUnixSeconds } from "../../domain/time.js";
import { describeIssues, notAnObject } from "../envelope.js";
import type { Envelope } from "../types.js";

/** The members ingest relies on; every other member of the event is kept in the stored body. */
export const StripeEventEnvelope = Schema.Struct({
  id: Schema.NonEmptyString,
  type: Schema.NonEmptyString,
  created: Schema.NonNegativeInt,
  object: Schema.Literal("event"),
});
export type StripeEventEnvelope = typeof StripeEventEnvelope.Type;

const decodeEnvelope = Schema.decodeUnknownEither(StripeEventEnvelope, { errors: "all", onExcessProperty: "ignore" });

const isThinEvent = (payload: unknown): boolean =>
  typeof payload === "object" && payload !== null && (payload as { readonly object?: unknown }).object === "v2.core.event";

export const decodeStripeEnvelope = (payload: unknown): Either.Either<Envelope, string> => {
  const notObject = notAnObject(payload, "Stripe event");
  if (notObject !== null) return Either.left(notObject);
  // Thin events carry no object snapshot: there would be nothing to normalize.
  if (isThinEvent(payload)) {
    return Either.left(
      'thin event (object "v2.core.event") received: Verity needs snapshot events; configure this endpoint for snapshot ("object": "event") payloads',
    );
  }
  return Either.mapBoth(decodeEnvelope(payload), {
    onLeft: (error) => `invalid Stripe event envelope: ${describeIssues(error, "(event)")}`,
    onRight: (event) => ({ providerEventId: event.id, type: event.type, occurredAt: fromUnixSeconds(event.created) }),
  });
};
