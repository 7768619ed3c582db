// Event ids Verity derives from a body, for providers whose bodies carry none (Lemon Squeezy) or
// bodies that lost theirs (a hand-made Paddle or Creem event): one digest for all of them.
//
// The digest is FNV-1a 64 (16 hex digits) of the body's canonical JSON (object keys sorted by code
// unit, no whitespace, numbers as JSON.stringify writes them) less the members that differ between
// deliveries of one event or name its id. A redelivery, to another endpoint or re-serialised, has
// the same content and so the same id, and ingest stores it once; any other content is another id.
import { fnv1a64 } from "../domain/identity.js";
import { canonicalJson } from "./canonical-json.js";

/** Derived ids start with this, so they never collide with a provider's own (`evt_…`, `ntf_…`). */
export const DERIVED_ID_PREFIX = "derived_";

/** The digest of a body's content less `excluded` (dotted paths such as "meta.webhook_id"). */
export const contentDigest = (payload: unknown, excluded: ReadonlySet<string>): string => fnv1a64(canonicalJson(payload, excluded));

/** The id of a body that names none: `derived_` + its content digest. */
export const derivedEventId = (payload: unknown, excluded: ReadonlySet<string>): string => `${DERIVED_ID_PREFIX}${contentDigest(payload, excluded)}`;
