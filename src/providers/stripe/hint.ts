// The OrderHint of a Stripe event: what its own data says about its place among events of the same
// second (Stripe timestamps are whole seconds, so ties are common). See domain/canonical-order.ts.
import type { OrderHint } from "../../domain/event.js";
import { checkoutIdOfLineItemsEvent, LINE_ITEMS_EVENT_TYPE } from "./checkout.js";
import { eventObject, previousAttributes } from "./read.js";
import { record, scalars, text, type Json } from "../json.js";
import { CUSTOMER_SNAPSHOT_TYPE, SUBSCRIPTION_SNAPSHOT_TYPE } from "./snapshot.js";
import { subscriptionPeriodSeconds } from "./subscription.js";

// Stripe object names that differ from the object name Verity uses in hints.
const HINT_OBJECT_TYPE = new Map<string, string>([
  ["checkout.session", "checkout"],
  ["customer.subscription", "subscription"],
  ["charge.refund", "refund"],
]);

/** The object's own `object` member, else the event type less its last segment. */
const objectTypeOf = (object: Json, eventType: string): string => {
  const stripeName = text(object["object"]) ?? eventType.slice(0, Math.max(eventType.lastIndexOf("."), 0));
  return HINT_OBJECT_TYPE.get(stripeName) ?? stripeName;
};

const hintObject = (object: Json | null, eventType: string): string | null => {
  const id = text(object?.["id"]);
  const type = object === null ? "" : objectTypeOf(object, eventType);
  return object === null || id === null || type === "" ? null : `stripe:${type}:${id}`;
};

const phaseOf = (eventType: string): OrderHint["phase"] =>
  eventType.endsWith(".created") ? "create" : eventType.endsWith(".deleted") ? "terminal" : "update";

/** A subscription's current period start in seconds: a renewal's period starts later. */
const versionOf = (object: Json | null, objectName: string | null): number | null =>
  object !== null && objectName?.startsWith("stripe:subscription:") ? subscriptionPeriodSeconds(object).start : null;

const lineItemsHint = (providerEventId: string): OrderHint => {
  const checkoutId = checkoutIdOfLineItemsEvent(providerEventId);
  return { object: checkoutId === null ? null : `stripe:checkout:${checkoutId}`, phase: "derived", left: null, state: {}, version: null };
};

export const stripeOrderHint = (eventType: string, providerEventId: string, payload: unknown): OrderHint => {
  if (eventType === LINE_ITEMS_EVENT_TYPE) return lineItemsHint(providerEventId);
  // A snapshot's body is the object itself, not an event around it.
  const snapshot = eventType === SUBSCRIPTION_SNAPSHOT_TYPE || eventType === CUSTOMER_SNAPSHOT_TYPE;
  const object = snapshot ? record(payload) : eventObject(payload);
  const previous = previousAttributes(payload);
  const objectName = hintObject(object, eventType);
  return {
    object: objectName,
    phase: snapshot ? "update" : phaseOf(eventType),
    left: previous === null ? null : scalars(previous),
    state: scalars(object),
    version: versionOf(object, objectName),
  };
};
