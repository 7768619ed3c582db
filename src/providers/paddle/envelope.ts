// Decodes the envelope of a Paddle Billing notification (event_id, event_type, occurred_at, data)
// so ingest can store and deduplicate it before any normalizer reads the body. Errors name the path
// of what was wrong. Only the body is read, never headers, so a stored event decodes the same later.
//
// Idempotency is on `event_id`: Paddle delivers at least once, and one event fans out to one
// notification per destination, each with its own `notification_id` but the same `event_id`.
// `notification_id` is therefore never part of the id (it is also absent from `GET /events` items).
import { Either, Schema } from "effect";
import { derivedEventId } from "../derived-id.js";
import { describeIssues, notAnObject } from "../envelope.js";
import type { Envelope } from "../types.js";
import { parseRfc3339 } from "../../domain/time.js";

const Rfc3339 = Schema.String.pipe(
  Schema.filter((value) => parseRfc3339(value) !== null, {
    message: (issue) => `expected an RFC 3339 timestamp such as "2024-04-12T10:18:49.334150Z", got ${JSON.stringify(issue.actual)}`,
  }),
);

/** The members ingest relies on; every other member of the notification is kept in the stored body. */
export const PaddleEventEnvelope = Schema.Struct({
  // Ids are not checked against a prefix: simulator deliveries use `ntfsimevt_…`, not `evt_…`.
  event_id: Schema.optional(Schema.NullOr(Schema.NonEmptyTrimmedString)),
  event_type: Schema.NonEmptyTrimmedString,
  occurred_at: Rfc3339,
  data: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
});
export type PaddleEventEnvelope = typeof PaddleEventEnvelope.Type;

const decodeEnvelope = Schema.decodeUnknownEither(PaddleEventEnvelope, { errors: "all", onExcessProperty: "ignore" });

/** Left out of a derived id: the (absent or null) id, and `notification_id`, which differs per destination for one event. */
const ID_MEMBERS: ReadonlySet<string> = new Set(["event_id", "notification_id"]);

/**
 * The id of a notification whose body carries no `event_id` (Paddle always sends one; this covers
 * bodies that lost it, e.g. hand-made or re-exported ones): see derived-id.ts.
 */
export const paddleDerivedEventId = (payload: unknown): string => derivedEventId(payload, ID_MEMBERS);

export const decodePaddleEnvelope = (payload: unknown): Either.Either<Envelope, string> => {
  const notObject = notAnObject(payload, "Paddle notification");
  if (notObject !== null) return Either.left(notObject);
  return Either.mapBoth(decodeEnvelope(payload), {
    onLeft: (error) => `invalid Paddle notification envelope: ${describeIssues(error, "(event)")}`,
    onRight: (event) => ({
      providerEventId: event.event_id ?? paddleDerivedEventId(payload),
      type: event.event_type,
      // Instants are milliseconds; the digits below are kept in the stored body and used by the hint.
      occurredAt: parseRfc3339(event.occurred_at)!.epochMs,
    }),
  });
};
