// Decodes the envelope of a Lemon Squeezy webhook body: event name, the JSON:API resource it is
// about and its time, all from the body (the X-Event-Name header is never needed, so a stored
// event decodes the same later). Errors name the path of what was wrong.
import { Either, Schema } from "effect";
import { describeIssues, notAnObject } from "../envelope.js";
import type { Envelope } from "../types.js";
import { deriveEventId } from "./event-id.js";
import { isoInstant } from "./read.js";

const IsoTimestamp = Schema.String.pipe(
  Schema.filter((s) => isoInstant(s) !== null, { message: () => "expected an ISO-8601 timestamp with a zone, e.g. 2023-01-17T12:26:23.000000Z" }),
);

/** JSON:API ids are strings; a number is accepted and read as its decimal string. */
const ResourceId = Schema.Union(Schema.NonEmptyString, Schema.NonNegativeInt);

/** The members ingest relies on; everything else stays in the stored body for the normalizer. */
export const LemonSqueezyEventEnvelope = Schema.Struct({
  meta: Schema.Struct({ event_name: Schema.NonEmptyString }),
  data: Schema.Struct({
    type: Schema.NonEmptyString,
    id: ResourceId,
    attributes: Schema.Struct({
      updated_at: Schema.optional(Schema.NullOr(IsoTimestamp)),
      created_at: Schema.optional(Schema.NullOr(IsoTimestamp)),
    }),
  }),
});
export type LemonSqueezyEventEnvelope = typeof LemonSqueezyEventEnvelope.Type;

const decodeEnvelope = Schema.decodeUnknownEither(LemonSqueezyEventEnvelope, { errors: "all", onExcessProperty: "ignore" });

/**
 * occurredAt is the resource's `updated_at` (the change the event reports), else its `created_at`.
 * Lemon Squeezy sends no event timestamp; every resource it sends has both.
 */
export const decodeLemonSqueezyEnvelope = (payload: unknown): Either.Either<Envelope, string> =>
  Either.gen(function* () {
    const notObject = notAnObject(payload, "Lemon Squeezy webhook body");
    if (notObject !== null) return yield* Either.left(notObject);
    const { meta, data } = yield* Either.mapLeft(decodeEnvelope(payload), (issues) => `invalid Lemon Squeezy webhook body: ${describeIssues(issues, "(body)")}`);
    const occurredAt = isoInstant(data.attributes.updated_at) ?? isoInstant(data.attributes.created_at);
    if (occurredAt === null) {
      return yield* Either.left("invalid Lemon Squeezy webhook body: data.attributes.updated_at: missing (and no data.attributes.created_at either)");
    }
    const parts = { eventName: meta.event_name, resourceType: data.type, resourceId: String(data.id), occurredAt };
    return { providerEventId: deriveEventId(parts, payload), type: meta.event_name, occurredAt };
  });
