// Decodes the envelope of a Paddle Billing notification (event_id, event_type, occurred_at, data)
// so ingest can store and deduplicate it before any normalizer reads the body. Errors name the path
// of what was wrong. Only the body is read, never headers, so a stored event decodes the same later.
//
// Idempotency is on `event_id`: Paddle delivers at least once, and one event fans out to one
// notification per destination, each with its own `notification_id` but the same `event_id`.
// `notification_id` is therefore never part of the id (it is also absent from `GET /events` items).
import { createHash } from "node:crypto";
import { Either, Schema } from "effect";
import { canonicalJson } from "../canonical-json.js";
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

export const DERIVED_EVENT_ID_PREFIX = "derived_";

/**
 * The id of an event whose body carries no `event_id` (Paddle always sends one; this covers bodies
 * that lost it, e.g. hand-made or re-exported ones): `derived_` + the first 32 hex digits of
 * SHA-256 over the canonical JSON (keys sorted, no whitespace) of `[event_type, occurred_at, data]`.
 * Stable across redeliveries and re-serialisation; `notification_id` is left out because it differs
 * per destination for one event.
 */
export const derivedEventId = (eventType: string, occurredAt: string, data: unknown): string =>
  DERIVED_EVENT_ID_PREFIX + createHash("sha256").update(canonicalJson([eventType, occurredAt, data]), "utf8").digest("hex").slice(0, 32);

export const decodePaddleEnvelope = (payload: unknown): Either.Either<Envelope, string> => {
  const notObject = notAnObject(payload, "Paddle notification");
  if (notObject !== null) return Either.left(notObject);
  return Either.mapBoth(decodeEnvelope(payload), {
    onLeft: (error) => `invalid Paddle notification envelope: ${describeIssues(error, "(event)")}`,
    onRight: (event) => ({
      providerEventId: event.event_id ?? derivedEventId(event.event_type, event.occurred_at, event.data),
      type: event.event_type,
      // Instants are milliseconds; the digits below are kept in the stored body and used by the hint.
      occurredAt: parseRfc3339(event.occurred_at)!.epochMs,
    }),
  });
};
