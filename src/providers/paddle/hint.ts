// The OrderHint of a Paddle event: what its own data says about its place among events of the same
// millisecond (see domain/canonical-order.ts). Paddle states occurred_at to the microsecond or
// nanosecond, but Verity's instants are milliseconds, so the digits below the millisecond become
// the version: among events of one phase, Paddle's own clock orders them. Paddle sends no previous
// state, so `left` is null.
import type { OrderHint } from "../../domain/event.js";
import { eventData } from "./read.js";
import { field, record, scalars, text, type Json } from "../json.js";
import { parseRfc3339 } from "../../domain/time.js";
import { SUBSCRIPTION_SNAPSHOT_TYPE } from "../snapshot.js";

/** Statuses after which an entity does not change again in a way that matters. */
const TERMINAL_STATUSES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  // A canceled subscription cannot be reactivated.
  ["subscription", new Set(["canceled"])],
  // A completed transaction is final (only its customer details can still be revised); a canceled one never gets paid.
  ["transaction", new Set(["completed", "canceled"])],
]);

/** The entity an event is about: the event type less its action ("transaction.completed" → "transaction"). */
const entityOf = (eventType: string): string => eventType.slice(0, Math.max(eventType.indexOf("."), 0));

const phaseOf = (eventType: string, entity: string, data: Json | null): OrderHint["phase"] => {
  if (eventType.endsWith(".created")) return "create";
  const status = text(data?.["status"]);
  return status !== null && TERMINAL_STATUSES.get(entity)?.has(status) === true ? "terminal" : "update";
};

const subMillisecondNanos = (payload: unknown): number | null => {
  const occurredAt = text(field(payload, "occurred_at"));
  return occurredAt === null ? null : (parseRfc3339(occurredAt)?.subMillisecondNanos ?? null);
};

export const paddleOrderHint = (eventType: string, payload: unknown): OrderHint => {
  // A snapshot's body is the subscription itself, not a notification around it.
  const snapshot = eventType === SUBSCRIPTION_SNAPSHOT_TYPE;
  const data = snapshot ? record(payload) : eventData(payload);
  const entity = snapshot ? "subscription" : entityOf(eventType);
  const id = text(data?.["id"]);
  return {
    object: id === null || entity === "" ? null : `paddle:${entity}:${id}`,
    phase: phaseOf(eventType, entity, data),
    left: null,
    state: scalars(data),
    version: snapshot ? null : subMillisecondNanos(payload),
  };
};
