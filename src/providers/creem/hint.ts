// The OrderHint of a Creem event: what its own data says about its place among events of the same
// millisecond. Creem sends several events with one `created_at` (its docs' samples do), and names
// no previous attributes, so the phase and the object's own version decide. See domain/canonical-order.ts.
import type { OrderHint } from "../../domain/event.js";
import { instant, objectOf } from "./read.js";
import { SUBSCRIPTION_SNAPSHOT_TYPE } from "../snapshot.js";
import { scalars, text, type Json } from "../json.js";
import { isTerminalEvent } from "./subscription.js";

/** A new subscription (paid, or a trial) or a new checkout, refund or dispute comes first. */
const CREATING = new Set(["subscription.active", "subscription.trialing", "checkout.completed", "refund.created", "dispute.created"]);

const phaseOf = (eventType: string): OrderHint["phase"] =>
  isTerminalEvent(eventType) ? "terminal" : CREATING.has(eventType) ? "create" : eventType.startsWith("subscription.") ? "update" : "other";

/** The object's own `object` member, else the event type less its last segment. */
const hintObject = (object: Json | null, eventType: string): string | null => {
  const id = text(object?.["id"]);
  const type = text(object?.["object"]) ?? eventType.slice(0, Math.max(eventType.lastIndexOf("."), 0));
  return object === null || id === null || type === "" ? null : `creem:${type}:${id}`;
};

/**
 * A subscription's own version: its `updated_at` (Creem stamps every change), else its current
 * period start (a renewal's period starts later). Epoch milliseconds; larger is later.
 */
const versionOf = (object: Json | null, objectName: string | null): number | null =>
  object !== null && objectName?.startsWith("creem:subscription:")
    ? (instant(object["updated_at"]) ?? instant(object["current_period_start_date"]))
    : null;

export const creemOrderHint = (eventType: string, payload: unknown): OrderHint => {
  const object = objectOf(eventType, payload);
  const objectName = hintObject(object, eventType);
  const phase = eventType === SUBSCRIPTION_SNAPSHOT_TYPE ? (text(object?.["status"]) === "canceled" ? "terminal" : "update") : phaseOf(eventType);
  return { object: objectName, phase, left: null, state: scalars(object), version: versionOf(object, objectName) };
};
