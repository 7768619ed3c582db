// The event log's page parameters, one reading for REST and GraphQL (src/api/event-page.ts).
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { eventPageQuery } from "../../src/api/event-page.js";
import { encodeCursor } from "../../src/store/reads.js";

const right = <A>(e: Either.Either<A, string>): A => {
  if (Either.isLeft(e)) throw new Error(e.left);
  return e.right;
};
const left = <A>(e: Either.Either<A, string>): string => {
  if (Either.isRight(e)) throw new Error(`expected a refusal, got ${JSON.stringify(e.right)}`);
  return e.left;
};

describe("event page parameters", () => {
  it("read a cursor, a full date or instant, and the limit as text or a number", () => {
    expect(right(eventPageQuery(null, null))).toEqual({ from: null, limit: 100 });
    expect(right(eventPageQuery(encodeCursor(42), "10"))).toEqual({ from: { afterSeq: 42 }, limit: 10 });
    expect(right(eventPageQuery("2026-01-31", 500))).toEqual({ from: { receivedFrom: Date.UTC(2026, 0, 31) }, limit: 500 });
    expect(right(eventPageQuery("2026-01-31T12:00:00Z", undefined))).toEqual({ from: { receivedFrom: Date.UTC(2026, 0, 31, 12) }, limit: 100 });
  });

  it("refuse what is neither (a bare number is not a year), and limits outside 1..500", () => {
    for (const since of ["1", "2001", "yesterday", "2026-13-45", "c2VxOmFiYw"]) expect(left(eventPageQuery(since, null))).toMatch(/^since must be/);
    for (const limit of ["0", "501", "1.5", "ten", 0, 501, -1]) expect(left(eventPageQuery(null, limit))).toMatch(/^limit must be an integer from 1 to 500/);
  });
});
