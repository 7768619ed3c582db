// The OrderHint of a Lemon Squeezy event: what its own data says about its place among events of
// the same second (`updated_at` has whole-second precision, and Lemon Squeezy sends pairs such as
// subscription_created + subscription_updated in one second). Bodies name no previous state, so
// same-object events are placed by phase (create, update, terminal), then by `renews_at` (a
// renewal moves it later). See domain/canonical-order.ts.
import type { OrderHint } from "../../domain/event.js";
import { eventResource, isoInstant } from "./read.js";
import { scalars, text } from "../json.js";

const CREATING = new Set(["order_created", "subscription_created", "subscription_payment_success", "subscription_payment_recovered", "subscription_payment_failed"]);

const phaseOf = (eventType: string, providerStatus: string | null): OrderHint["phase"] =>
  eventType === "subscription_expired" || providerStatus === "expired" ? "terminal" : CREATING.has(eventType) ? "create" : "update";

/** The next renewal in Unix seconds: of two same-second snapshots of one subscription, the later renewal is later. */
const versionOf = (type: string, renewsAt: unknown): number | null => {
  const at = type === "subscriptions" ? isoInstant(renewsAt) : null;
  return at === null ? null : Math.floor(at / 1000);
};

export const lemonSqueezyOrderHint = (eventType: string, payload: unknown): OrderHint => {
  const resource = eventResource(eventType, payload);
  if (resource === null) return { object: null, phase: phaseOf(eventType, null), left: null, state: {}, version: null };
  const status = resource.type === "subscriptions" ? text(resource.attributes["status"]) : null;
  return {
    object: `lemonsqueezy:${resource.type}:${resource.id}`,
    phase: phaseOf(eventType, status),
    left: null,
    state: scalars(resource.attributes),
    version: versionOf(resource.type, resource.attributes["renews_at"]),
  };
};
