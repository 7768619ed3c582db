// A normalized event: one stored provider event with the facts it means and the hints that
// place it in canonical order.
import type { Fact } from "./facts.js";
import type { Provider } from "./provider.js";
import type { Source } from "./source.js";
import type { Instant } from "./time.js";

export type Scalar = string | number | boolean | null;

/**
 * What the data itself says about an event's place among events of the same instant:
 * which object it is about, its phase in that object's life, the field values it left (an update
 * that names its previous state) and the values it produced.
 */
export type OrderHint = {
  readonly object: string | null;
  readonly phase: "create" | "update" | "terminal" | "derived" | "other";
  readonly left: Readonly<Record<string, Scalar>> | null;
  readonly state: Readonly<Record<string, Scalar>>;
  /** A data-derived version (e.g. the current period start): larger is later. */
  readonly version: number | null;
};

export type NormalizedEvent = {
  /** A provider, or the app (whose usage records carry no facts for the resolver: see usage.ts). */
  readonly provider: Source;
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: Instant;
  readonly hint: OrderHint;
  readonly facts: readonly Fact[];
};

export const causeOf = (provider: Source, eventId: string): string => `${provider}:${eventId}`;

export const noHint: OrderHint = { object: null, phase: "other", left: null, state: {}, version: null };
