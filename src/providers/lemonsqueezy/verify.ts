// Lemon Squeezy webhook signature verification (`X-Signature: <hex>`), done at the edge on the raw
// request bytes, plus the signing helper tests and tools use.
// Scheme (docs.lemonsqueezy.com/help/webhooks/signing-requests; lmsqueezy/laravel
// VerifyWebhookSignature): HMAC-SHA256 over the raw body, keyed by the webhook's signing secret as
// UTF-8, lowercase hex. The scheme has no timestamp, so no replay window can be enforced here:
// a replayed delivery verifies, and idempotency on the derived event id (event-id.ts) makes it a
// duplicate. There is therefore no `stale_timestamp` failure for this provider.
import { Either } from "effect";
import { anyMatches, HEX_SHA256, hmacSha256, verifyFailure as failure, type SignedDelivery } from "../signature.js";
import type { VerifyFailure } from "../types.js";

export const SIGNATURE_HEADER = "X-Signature";
export const SECRET_VARIABLE = "LEMONSQUEEZY_WEBHOOK_SECRET";

export type VerifyLemonSqueezySignatureInput = SignedDelivery;

const mismatch = (secretCount: number): VerifyFailure =>
  failure(
    "signature_mismatch",
    secretCount === 0
      ? `no Lemon Squeezy webhook secret is configured (${SECRET_VARIABLE}), so no ${SIGNATURE_HEADER} can match`
      : `${SIGNATURE_HEADER} does not match the body under any of the ${secretCount} configured secret(s); check ${SECRET_VARIABLE} ` +
          "is this webhook's signing secret and that proxies forward the body byte for byte",
  );

export const verifyLemonSqueezySignature = (input: VerifyLemonSqueezySignatureInput): Either.Either<true, VerifyFailure> => {
  const header = input.header?.trim() ?? "";
  if (header.length === 0) return Either.left(failure("missing_signature", `the ${SIGNATURE_HEADER} header is missing or empty`));
  // Two X-Signature headers arrive joined with ",": not one hex digest, so malformed.
  if (!HEX_SHA256.test(header)) {
    return Either.left(failure("malformed_signature", `${SIGNATURE_HEADER} must be a 64-character hex HMAC-SHA256 digest; got ${header.length} characters`));
  }
  const expected = input.secrets.map((secret) => hmacSha256(secret, input.rawBody));
  return anyMatches(expected, [Buffer.from(header, "hex")]) ? Either.right(true) : Either.left(mismatch(input.secrets.length));
};

/** A valid `X-Signature` value for `rawBody` (for tests and tools; Lemon Squeezy signs real deliveries). */
export const lemonSqueezySignature = (rawBody: Uint8Array | string, secret: string): string => hmacSha256(secret, rawBody).toString("hex");
