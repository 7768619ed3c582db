// The event log's page parameters, read one way for REST (`GET /api/events?since=&limit=`) and
// GraphQL (`events(since:, limit:)`): `since` is a cursor from a previous page or an ISO 8601
// date or date-time (src/domain/time.ts: a full date, UTC without an offset; "1" or "2001" is
// refused, not read as a year), and `limit` an integer from 1 to 500.
import { Either } from "effect";
import { parseOperatorInstant } from "../domain/time.js";
import { decodeCursor } from "../store/reads.js";

export const MAX_EVENTS_LIMIT = 500;
export const DEFAULT_EVENTS_LIMIT = 100;

export type EventsFrom = { readonly afterSeq: number } | { readonly receivedFrom: number } | null;

export type EventPageQuery = { readonly from: EventsFrom; readonly limit: number };

/** `since` and `limit` as sent (text from a query string, or a GraphQL Int), or why they are refused. */
export const eventPageQuery = (since: string | null | undefined, limit: string | number | null | undefined): Either.Either<EventPageQuery, string> => {
  const count = limit === null || limit === undefined || limit === "" ? DEFAULT_EVENTS_LIMIT : Number(limit);
  if (!Number.isInteger(count) || count < 1 || count > MAX_EVENTS_LIMIT) {
    return Either.left(`limit must be an integer from 1 to ${MAX_EVENTS_LIMIT}, got ${JSON.stringify(limit)}`);
  }
  if (since === null || since === undefined || since === "") return Either.right({ from: null, limit: count });
  const seq = decodeCursor(since);
  if (seq !== null) return Either.right({ from: { afterSeq: seq }, limit: count });
  const time = parseOperatorInstant(since);
  if (time !== null) return Either.right({ from: { receivedFrom: time }, limit: count });
  return Either.left(`since must be an ISO 8601 time or a cursor from a previous page, got ${JSON.stringify(since)}`);
};
