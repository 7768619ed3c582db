// Webhooks out: which transitions an endpoint receives, what it receives, and when a failed
// delivery is tried again. Pure: the transition log in, messages and instants out.
import type { Instant } from "./time.js";

/** A transition as the feed holds it, with the app's user id where Verity knows it. */
export type OutTransition = {
  readonly seq: number;
  readonly userId: string;
  readonly entity: string;
  readonly entityId: string;
  readonly field: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly cause: string;
  readonly at: Instant;
};

/** `entity=subscription,field=status`: each named member must match; an empty filter passes everything. */
export type EndpointFilter = Readonly<Record<"entity" | "field", string | undefined>>;

const FILTER_KEYS = ["entity", "field"] as const;

/** A filter from its text, or why it cannot be read. */
export const parseEndpointFilter = (text: string | null): { readonly filter: EndpointFilter } | { readonly error: string } => {
  const filter: Record<string, string | undefined> = { entity: undefined, field: undefined };
  if (text === null || text.trim() === "") return { filter: filter as EndpointFilter };
  for (const part of text.split(",")) {
    const [key, value, ...rest] = part.split("=").map((s) => s.trim());
    if (rest.length > 0 || value === undefined || value === "" || !(FILTER_KEYS as readonly string[]).includes(key ?? "")) {
      return { error: `filter "${part.trim()}" is not key=value with a key among ${FILTER_KEYS.join(", ")} (e.g. entity=subscription)` };
    }
    filter[key!] = value;
  }
  return { filter: filter as EndpointFilter };
};

export const matchesEndpoint = (filter: EndpointFilter, t: Pick<OutTransition, "entity" | "field">): boolean =>
  (filter.entity === undefined || filter.entity === t.entity) && (filter.field === undefined || filter.field === t.field);

/** The message id of a transition at an endpoint: the same on every attempt, so receivers can deduplicate. */
export const messageId = (endpointId: string, seq: number): string => `msg_${endpointId.replace(/^we_/, "")}_${seq}`;

/** `subscription.status`, `entitlement.enabled`: what changed, as the message's type. */
export const messageType = (t: Pick<OutTransition, "entity" | "field">): string => `${t.entity}.${t.field}`;

/** The body delivered for a transition (Standard Webhooks: type, timestamp, data). */
export const messageBody = (t: OutTransition): string =>
  JSON.stringify({
    type: messageType(t),
    timestamp: new Date(t.at).toISOString(),
    data: { seq: t.seq, userId: t.userId, entity: t.entity, entityId: t.entityId, field: t.field, from: t.from, to: t.to, cause: t.cause, at: new Date(t.at).toISOString() },
  });

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * How long after each failed attempt the next is made: quickly at first, then every ten hours, for
 * more than three days in all (77.6 hours); after the last, the delivery is given up.
 */
export const RETRY_DELAYS: readonly number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, ...Array.from({ length: 7 }, () => 10 * HOUR)];

/** When to try again after `attempts` failed attempts, or null once the schedule is spent. */
export const nextAttemptAt = (attempts: number, failedAt: Instant): Instant | null => {
  const delay = RETRY_DELAYS[attempts - 1];
  return delay === undefined ? null : failedAt + delay;
};
