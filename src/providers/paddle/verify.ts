// Paddle Billing webhook signature verification (`Paddle-Signature: ts=…;h1=…[;h1=…]`), done at the
// edge on the raw request bytes, plus the header builder tests and tools use to sign a body.
// Scheme (developer.paddle.com/webhooks/signature-verification, and the official SDKs):
// HMAC-SHA256 over `${ts}:${rawBody}` (a colon, where Stripe uses a dot), keyed by the notification
// destination's secret (`pdl_ntfset_…`) as UTF-8, lowercase hex. Several h1 values appear while a
// secret is rotated. As the PHP and Python SDKs do, every h1 is tried against every configured
// secret in constant time and an unknown header key is refused (the Node SDK keeps only the last
// h1 and compares with `===`; that is not followed here).
import { Either } from "effect";
import { anyTextMatches, headerItems, hmacSha256, verifyFailure as failure, type TimestampedDelivery } from "../signature.js";
import type { VerifyFailure } from "../types.js";

/** All three official SDKs reject a delivery when now > ts + 5 s. */
export const DEFAULT_TOLERANCE_SECONDS = 5;

export const PADDLE_SIGNATURE_HEADER = "Paddle-Signature";
const SECRET_VARIABLE = "PADDLE_WEBHOOK_SECRET";

export type VerifyPaddleSignatureInput = TimestampedDelivery;

type ParsedHeader = { readonly timestamp: number; readonly signatures: readonly string[] };

const KNOWN_KEYS = new Set(["ts", "h1"]);

const malformed = (why: string): Either.Either<never, VerifyFailure> =>
  Either.left(failure("malformed_signature", `${PADDLE_SIGNATURE_HEADER} ${why} (expected ts=<unix seconds>;h1=<hex>[;h1=<hex>…])`));

/** Parts split on `;`, each on its first `=`. */
const parseHeader = (header: string): Either.Either<ParsedHeader, VerifyFailure> => {
  const parts = headerItems(header, ";");
  const unknown = parts.find((p) => !KNOWN_KEYS.has(p.key));
  if (unknown !== undefined) return malformed(`has an unknown part ${JSON.stringify(unknown.key)}`);
  const timestamps = parts.filter((p) => p.key === "ts").map((p) => p.value);
  if (timestamps.length !== 1) return malformed(`must carry exactly one ts=<unix seconds>; found ${timestamps.length}`);
  const ts = timestamps[0]!;
  if (!/^\d{1,15}$/.test(ts)) return malformed(`timestamp ts=${JSON.stringify(ts)} is not an integer number of seconds`);
  const signatures = parts.filter((p) => p.key === "h1" && p.value.length > 0).map((p) => p.value);
  if (signatures.length === 0) return malformed("carries no h1 signature");
  return Either.right({ timestamp: Number(ts), signatures });
};

const hmacHex = (secret: string, timestamp: number, rawBody: Uint8Array | string): string =>
  hmacSha256(secret, `${timestamp}:`, rawBody).toString("hex");

const mismatch = (secretCount: number): VerifyFailure =>
  failure(
    "signature_mismatch",
    secretCount === 0
      ? `no Paddle webhook secret is configured (${SECRET_VARIABLE}), so no ${PADDLE_SIGNATURE_HEADER} can match`
      : `no h1 signature in ${PADDLE_SIGNATURE_HEADER} matches the body under any of the ${secretCount} configured secret(s); check ` +
          `${SECRET_VARIABLE} is this notification destination's secret key and that proxies forward the body byte for byte`,
  );

/**
 * Verifies a delivery. The signature is checked before the age (as for Stripe), so
 * `stale_timestamp` always means a genuine but old delivery: a replay, or a skewed clock.
 */
export const verifyPaddleSignature = (input: VerifyPaddleSignatureInput): Either.Either<true, VerifyFailure> =>
  Either.gen(function* () {
    const header = input.header?.trim() ?? "";
    if (header.length === 0) return yield* Either.left(failure("missing_signature", `the ${PADDLE_SIGNATURE_HEADER} header is missing or empty`));
    const { timestamp, signatures } = yield* parseHeader(header);
    const expected = input.secrets.map((secret) => hmacHex(secret, timestamp, input.rawBody));
    if (!anyTextMatches(expected, signatures)) return yield* Either.left(mismatch(input.secrets.length));
    const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    // The SDKs' rule, to the millisecond: reject when now > ts + tolerance. A timestamp ahead of
    // our clock is Paddle's clock being ahead, not a replay, so it passes.
    if (input.now > (timestamp + tolerance) * 1000) {
      const age = (input.now - timestamp * 1000) / 1000;
      return yield* Either.left(failure("stale_timestamp", `${PADDLE_SIGNATURE_HEADER} timestamp ${timestamp} is ${age} s old; tolerance is ${tolerance} s`));
    }
    return true as const;
  });

/** A valid `Paddle-Signature` value for `rawBody` (for tests and tools; Paddle signs real deliveries). */
export const paddleSignatureHeader = (rawBody: Uint8Array | string, secret: string, timestampSeconds: number): string =>
  `ts=${timestampSeconds};h1=${hmacHex(secret, timestampSeconds, rawBody)}`;
