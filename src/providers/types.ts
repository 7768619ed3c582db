// What every provider module offers: signature verification and envelope decoding at the edge,
// and a pure normalizer from a stored event to canonical facts.
import type { Either } from "effect";
import type { NormalizedEvent } from "../domain/event.js";
import type { Provider } from "../domain/provider.js";
import type { Instant } from "../domain/time.js";

/** A stored provider event as the normalizer sees it (raw bytes already parsed). */
export type StoredEventInput = {
  readonly providerEventId: string;
  readonly type: string;
  readonly occurredAt: Instant;
  readonly payload: unknown;
};

export type NormalizeOptions = {
  /** Metadata keys that may carry the app's own user id, in order of preference. */
  readonly userIdKeys: readonly string[];
};

export type Normalizer = (event: StoredEventInput, options: NormalizeOptions) => NormalizedEvent;

/** Why a delivery was refused. `code` is stable (it is in the API's error body). */
export type VerifyFailure = {
  readonly _tag: "VerifyFailure";
  readonly code: "missing_signature" | "malformed_signature" | "stale_timestamp" | "signature_mismatch";
  readonly message: string;
};

/** The envelope fields ingest needs before it stores an event. */
export type Envelope = {
  readonly providerEventId: string;
  readonly type: string;
  readonly occurredAt: Instant;
};

/** A request header by lower-case name (several values joined with ","). */
export type HeaderLookup = (name: string) => string | undefined;

export type VerifyInput = {
  readonly rawBody: Uint8Array;
  readonly header: HeaderLookup;
  /** Every configured secret: during a rotation any of them may have signed. */
  readonly secrets: readonly string[];
  readonly now: Instant;
};

/** A provider's webhook edge: how its deliveries are signed and what identifies an event. */
export type WebhookScheme = {
  readonly provider: Provider;
  /** The environment variable that holds its signing secret(s), comma-separated for rotation. */
  readonly secretVariable: string;
  readonly verify: (input: VerifyInput) => Either.Either<true, VerifyFailure>;
  /**
   * Id, type and time of a verified, parsed body; a message naming the path of what was wrong
   * otherwise. It reads the body only (never headers), so a stored event decodes the same later.
   */
  readonly envelope: (payload: unknown) => Either.Either<Envelope, string>;
};

/** Something fetched from a provider's API, stored byte for byte as an event of its own. */
export type Fetched = { readonly bytes: Buffer; readonly payload: unknown };

/**
 * A read of the provider's own API that an event needs, as the provider declares it: what to GET
 * and which event the answer is stored as. The edge (src/server/provider-api.ts) performs it.
 */
export type ApiRead = {
  /** The event the answer is stored as (its id makes a second fetch a duplicate). */
  readonly eventId: string;
  readonly type: string;
  /** What the read is about, for logs (a checkout session id). */
  readonly subject: string;
  /** Path and query under the API's base URL. */
  readonly path: string;
};

/**
 * Some events do not carry all they mean (a Stripe one-time checkout does not say what was
 * bought): the provider declares the read that completes them; Verity performs it once and stores
 * the answer as an event, so replay stays pure.
 */
export type ApiNeeds = {
  /** Stored event types whose bodies may need a read (looked at again at start). */
  readonly eventTypes: readonly string[];
  /** The read `payload` needs, or null when nothing is missing. */
  readonly needs: (payload: unknown) => ApiRead | null;
  /** The request headers that authenticate with the provider's secret API key. */
  readonly authorization: (secretKey: string) => Readonly<Record<string, string>>;
  /** What is lost when the provider's API is not configured, for the log. */
  readonly unavailable: string;
};
