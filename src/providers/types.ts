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
 * Some events do not carry all they mean (a Stripe one-time checkout does not say what was
 * bought): Verity fetches the rest once and stores the answer as an event, so replay stays pure.
 */
export type Enrichment = {
  /** Stored event types whose bodies may need a fetch (looked at again at start). */
  readonly eventTypes: readonly string[];
  /** The event the answer for `payload` is stored as, or null when nothing is missing. */
  readonly needs: (payload: unknown) => { readonly eventId: string; readonly type: string; readonly subject: string } | null;
  /** Null when the provider's API is not configured (the answer then stays unknown). */
  readonly fetch: ((subject: string) => Promise<Either.Either<Fetched, string>>) | null;
  /** Why `fetch` is null, for the log. */
  readonly unavailable: string;
};
