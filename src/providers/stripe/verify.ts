// Stripe webhook signature verification (`Stripe-Signature: t=…,v1=…`), done at the edge on the
// raw request bytes, plus the header builder tests and tools use to sign a body.
// Scheme: HMAC-SHA256 over `${t}.${rawBody}`, keyed by the whole `whsec_…` string, lowercase hex.
import { Either } from "effect";
import { anyTextMatches, headerItems, hmacSha256, verifyFailure as failure, type TimestampedDelivery } from "../signature.js";
import type { VerifyFailure } from "../types.js";

export const DEFAULT_TOLERANCE_SECONDS = 300;

export type VerifyStripeSignatureInput = TimestampedDelivery;

type ParsedHeader = { readonly timestamp: number; readonly signatures: readonly string[] };

/** Items split on `,`, each on its first `=`; unknown schemes (v0 = legacy test mode) are ignored. */
const parseHeader = (header: string): Either.Either<ParsedHeader, VerifyFailure> => {
  const items = headerItems(header, ",");
  const timestamps = items.filter((i) => i.key === "t").map((i) => i.value);
  const signatures = items.filter((i) => i.key === "v1" && i.value.length > 0).map((i) => i.value);
  if (timestamps.length !== 1) {
    return Either.left(failure("malformed_signature", `Stripe-Signature must carry exactly one t=<unix seconds>; found ${timestamps.length}`));
  }
  const t = timestamps[0]!;
  if (!/^\d{1,15}$/.test(t)) {
    return Either.left(failure("malformed_signature", `Stripe-Signature timestamp t=${JSON.stringify(t)} is not an integer number of seconds`));
  }
  if (signatures.length === 0) {
    return Either.left(failure("malformed_signature", "Stripe-Signature carries no v1 signature (v0 test-mode signatures are not accepted)"));
  }
  return Either.right({ timestamp: Number(t), signatures });
};

const hmacHex = (secret: string, timestamp: number, rawBody: Uint8Array | string): string =>
  hmacSha256(secret, `${timestamp}.`, rawBody).toString("hex");

const mismatch = (secretCount: number): VerifyFailure =>
  failure(
    "signature_mismatch",
    secretCount === 0
      ? "no Stripe webhook secret is configured (STRIPE_WEBHOOK_SECRET), so no signature can match"
      : `no v1 signature matches the body under any of the ${secretCount} configured secret(s); check STRIPE_WEBHOOK_SECRET ` +
          "is this endpoint's signing secret and that proxies forward the body byte for byte",
  );

/**
 * Verifies a delivery. The signature is checked before the age (as stripe-node does), so
 * `stale_timestamp` always means a genuine but old delivery: a replay, or a skewed clock.
 */
export const verifyStripeSignature = (input: VerifyStripeSignatureInput): Either.Either<true, VerifyFailure> =>
  Either.gen(function* () {
    const header = input.header?.trim() ?? "";
    if (header.length === 0) return yield* Either.left(failure("missing_signature", "the Stripe-Signature header is missing or empty"));
    const { timestamp, signatures } = yield* parseHeader(header);
    const expected = input.secrets.map((secret) => hmacHex(secret, timestamp, input.rawBody));
    if (!anyTextMatches(expected, signatures)) return yield* Either.left(mismatch(input.secrets.length));
    const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    // Only age is limited: a timestamp ahead of our clock is Stripe's clock being ahead, not a replay.
    const age = Math.floor(input.now / 1000) - timestamp;
    if (age > tolerance) return yield* Either.left(failure("stale_timestamp", `timestamp ${timestamp} is ${age} s old; tolerance is ${tolerance} s`));
    return true as const;
  });

/** A valid `Stripe-Signature` value for `rawBody` (for tests and tools; Stripe signs real deliveries). */
export const stripeSignatureHeader = (rawBody: Uint8Array | string, secret: string, timestampSeconds: number): string =>
  `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, rawBody)}`;
