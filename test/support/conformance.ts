// What the provider conformance and normalizer tests share: a catalog plan for one provider's
// price ids, one event folded on its own, and what they read off the result.
import { expect } from "vitest";
import type { Catalog, Plan } from "../../src/domain/catalog.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import type { Fact, FactTag } from "../../src/domain/facts.js";
import type { Provider } from "../../src/domain/provider.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { initialState, type State, type Transition, type User } from "../../src/domain/state.js";

/** A test plan builder for `provider`: `ids` are what its catalog maps (price, variant or product ids). */
export const planFor =
  (provider: Provider) =>
  (code: string, ids: readonly string[], lifetime = false): Plan => ({
    code,
    name: code,
    prices: { [provider]: ids },
    features: { [`${code}_feature`]: { _tag: "Flag" } },
    credits: null,
    lifetime,
    price: null,
  });

/** One delivery as ingest + replay see it: the body, its normalized event, and that event folded alone. */
export type Outcome = {
  readonly payload: unknown;
  readonly event: NormalizedEvent;
  readonly state: State;
  readonly transitions: readonly Transition[];
};

export const foldAlone = (catalog: Catalog, payload: unknown, event: NormalizedEvent): Outcome => {
  const { state, transitions } = replayEvents(catalog, [event]);
  return { payload, event, state, transitions };
};

export const tagsOf = (facts: readonly Fact[]): FactTag[] => facts.map((f) => f._tag);

/** The state's one user; fails the test when there are none or several. */
export const onlyUser = (state: State): User => {
  const users = [...state.users.values()];
  expect(users).toHaveLength(1);
  return users[0]!;
};

/** For events Verity stores but draws nothing from: no facts, and folding them changes nothing. */
export const expectUnchanged = ({ event, state, transitions }: Outcome): void => {
  expect(event.facts).toEqual([]);
  expect(state).toEqual(initialState());
  expect(transitions).toEqual([]);
};

/** The value at a path of keys or indexes in parsed JSON, undefined once a step is missing. */
export const dig = (value: unknown, ...keys: readonly (string | number)[]): unknown =>
  keys.reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Record<string | number, unknown>)[k] : undefined), value);
