// Lemon Squeezy webhook bodies carry no event id, so Verity derives one from the body. Pure (the
// envelope and tests use it; replay never needs it again, the id is stored with the event).
//
// The rule:   `${meta.event_name}:${data.type}/${data.id}:${occurredAt as ISO}:${digest}`
// with digest = FNV-1a 64 (hex) of the canonical JSON of the whole body less two members:
//   - `meta.webhook_id`: the only difference between one event delivered to two webhooks of a store;
//   - `data.attributes.urls`: signed links (receipt, customer portal) that say nothing about billing
//     and could be signed afresh for a resend.
// Canonical JSON: object keys sorted by code unit, no whitespace, numbers as JSON.stringify writes
// them, so whitespace or key order of a redelivery does not matter.
//
// Why a digest and not just name + object + updated_at: `updated_at` has whole-second precision, and
// two different changes of one subscription in one second (two subscription_updated) must not be
// folded into one (the second would be dropped as a duplicate and its state lost). The readable
// prefix keeps ids apart across event names and objects, which matters where two events share a
// body: subscription_payment_success and subscription_payment_recovered are sent together about one
// invoice, and order_created / subscription_created about one purchase are different objects anyway.
// A redelivery (Lemon Squeezy retries up to three times, or a manual resend) is the same body, so
// it gets the same id and ingest stores it once.
import type { Instant } from "../../domain/time.js";
import { contentDigest } from "../derived-id.js";

/** Members left out of the digest: path → excluded. */
const EXCLUDED: ReadonlySet<string> = new Set(["meta.webhook_id", "data.attributes.urls"]);

/** The digest of a body's billing content (see the rule above). */
export const bodyDigest = (payload: unknown): string => contentDigest(payload, EXCLUDED);

export type EventIdParts = {
  readonly eventName: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly occurredAt: Instant;
};

export const deriveEventId = (parts: EventIdParts, payload: unknown): string =>
  `${parts.eventName}:${parts.resourceType}/${parts.resourceId}:${new Date(parts.occurredAt).toISOString()}:${bodyDigest(payload)}`;
