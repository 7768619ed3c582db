// What every provider module offers: signature verification at the edge and a pure normalizer
// from a stored event to canonical facts.
import type { NormalizedEvent } from "../domain/event.js";
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
