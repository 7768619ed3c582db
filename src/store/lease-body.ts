// The stored bodies of lease events (source "app"): "lease.acquired" and "lease.released", Verity's
// own versioned JSON, stating what was decided so replay folds them without the catalog or a clock.
import { Either, ParseResult, Schema } from "effect";
import type { LeaseAcquired, LeaseReleased } from "../domain/leases.js";
import { Time } from "./usage-body.js";

export const LEASE_ACQUIRED_TYPE = "lease.acquired";
export const LEASE_RELEASED_TYPE = "lease.released";

/** The event ids: an acquisition per subject and idempotency key, a release per lease (a lease is released once). */
export const leaseEventId = (subject: string, idempotencyKey: string): string => `lease:${subject}:${idempotencyKey}`;
export const releaseEventId = (leaseId: string): string => `release:${leaseId}`;

const Acquired = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal("lease.acquired"),
  leaseId: Schema.String,
  subject: Schema.String,
  userId: Schema.String,
  feature: Schema.String,
  at: Time,
  expiresAt: Time,
  limit: Schema.Int,
  activeAfter: Schema.Int,
  source: Schema.String,
  idempotencyKey: Schema.String,
  keyId: Schema.String,
  requestId: Schema.String,
});

const Released = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal("lease.released"),
  leaseId: Schema.String,
  subject: Schema.String,
  userId: Schema.String,
  at: Time,
  keyId: Schema.String,
  requestId: Schema.String,
});

const encodeAcquiredBody = Schema.encodeSync(Acquired);
const encodeReleasedBody = Schema.encodeSync(Released);

export const encodeAcquired = (a: LeaseAcquired): Buffer => Buffer.from(JSON.stringify(encodeAcquiredBody({ v: 1, kind: "lease.acquired", ...a })));
export const encodeReleased = (r: LeaseReleased): Buffer => Buffer.from(JSON.stringify(encodeReleasedBody({ v: 1, kind: "lease.released", ...r })));

const decoder =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (text: string): Either.Either<A, string> =>
    Either.mapLeft(Schema.decodeUnknownEither(schema, { errors: "all" })(JSON.parse(text)), (e) => ParseResult.TreeFormatter.formatErrorSync(e));

const text = (raw: Uint8Array | string): string => (typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8"));

const orThrow = <A>(what: string, decoded: Either.Either<A, string>): A => {
  if (Either.isLeft(decoded)) throw new Error(`a stored ${what} does not decode: ${decoded.left}`);
  return decoded.right;
};

const decodeAcquired = decoder(Acquired);
const decodeReleased = decoder(Released);

export const acquiredOf = (raw: Uint8Array | string): LeaseAcquired => {
  const { v: _v, kind: _kind, ...a } = orThrow("lease acquisition", decodeAcquired(text(raw)));
  return a;
};

export const releasedOf = (raw: Uint8Array | string): LeaseReleased => {
  const { v: _v, kind: _kind, ...r } = orThrow("lease release", decodeReleased(text(raw)));
  return r;
};
