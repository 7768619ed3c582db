// Creem webhook signature verification (`creem-signature: <hex>`), done at the edge on the raw
// request bytes, plus the header builder tests and tools use to sign a body.
// Scheme (docs.creem.io/code/webhooks; creem_io SDK): HMAC-SHA256 over the raw body only, keyed by
// the webhook secret string (`whsec_…`, whole, as UTF-8), sent as a 64-digit hex digest.
// There is no timestamp in the scheme, so no replay window can be enforced: a captured delivery
// stays valid, and replaying it is harmless only because ingest deduplicates on the event id.
import { Either } from "effect";
import { anyMatches, HEX_SHA256, hmacSha256, verifyFailure as failure, type SignedDelivery } from "../signature.js";
import type { VerifyFailure } from "../types.js";

export const CREEM_SIGNATURE_HEADER = "creem-signature";
export const CREEM_SECRET_VARIABLE = "CREEM_WEBHOOK_SECRET";

export type VerifyCreemSignatureInput = SignedDelivery;

/**
 * The header's digests. Creem sends one; a proxy that repeats the header gives several values
 * joined with "," (see HeaderLookup), and each must be a digest.
 */
const parseHeader = (header: string): Either.Either<readonly Buffer[], VerifyFailure> => {
  const values = header.split(",").map((v) => v.trim());
  const bad = values.find((v) => !HEX_SHA256.test(v));
  if (bad !== undefined) {
    return Either.left(
      failure("malformed_signature", `creem-signature must be a 64-digit hex HMAC-SHA256 digest; got ${JSON.stringify(bad.slice(0, 80))}`),
    );
  }
  return Either.right(values.map((v) => Buffer.from(v, "hex")));
};

const mismatch = (secretCount: number): VerifyFailure =>
  failure(
    "signature_mismatch",
    secretCount === 0
      ? `no Creem webhook secret is configured (${CREEM_SECRET_VARIABLE}), so no creem-signature can match`
      : `creem-signature matches the body under none of the ${secretCount} configured secret(s); check ${CREEM_SECRET_VARIABLE} ` +
          "is this webhook's secret (Developers › Webhook, test and live differ) and that proxies forward the body byte for byte",
  );

/** Verifies a delivery against every configured secret (a rotation may leave several). */
export const verifyCreemSignature = (input: VerifyCreemSignatureInput): Either.Either<true, VerifyFailure> => {
  const header = input.header?.trim() ?? "";
  if (header.length === 0) return Either.left(failure("missing_signature", "the creem-signature header is missing or empty"));
  const expected = input.secrets.map((secret) => hmacSha256(secret, input.rawBody));
  return Either.flatMap(parseHeader(header), (signatures) => (anyMatches(expected, signatures) ? Either.right(true as const) : Either.left(mismatch(input.secrets.length))));
};

/** A valid `creem-signature` value for `rawBody` (for tests and tools; Creem signs real deliveries). */
export const creemSignatureHeader = (rawBody: Uint8Array | string, secret: string): string =>
  hmacSha256(secret, rawBody).toString("hex");
