// The resolver: a pure fold (state, fact) → (state, transitions). No clock, no IO, no randomness.
// One step claims the fact's keys for a user (./identity.ts), then runs each view in turn; a
// replay is a reduce over steps. The state's tables are persistent, so a step costs what the
// users it touches hold, not what the state holds, and the state it was given stays valid. A fold
// of many facts writes into transient tables of its own (see table.ts): the states between its
// facts are never seen outside it, so they need not be kept.
import type { Catalog } from "../catalog.js";
import { canonicalOrder } from "../canonical-order.js";
import type { NormalizedEvent } from "../event.js";
import type { Fact } from "../facts.js";
import { initialState, persistentState, transientState, type State, type Transition } from "../state.js";
import * as derived from "./derived.js";
import * as identity from "./identity.js";
import * as orders from "./orders.js";
import * as subscriptions from "./subscriptions.js";
import type { Evolve, Step } from "./view.js";

/** The views, in the order they see a fact: the derivation reads what the others wrote. */
const VIEWS: readonly Evolve[] = [identity.evolve, subscriptions.evolve, orders.evolve, derived.evolve];

/** One step of the fold. A fact that names no identity cannot belong to a user and changes nothing. */
export const step =
  (catalog: Catalog) =>
  (state: State, fact: Fact): Step => {
    if (fact.keys.length === 0) return { state, transitions: [] };
    const claimed = identity.claimFact(state, fact, { catalog, at: fact.at, cause: fact.cause }, (s, userId) => derived.before(s, userId, catalog));
    let next = claimed.state;
    const transitions: Transition[] = [...claimed.transitions];
    for (const evolve of VIEWS) {
      const out = evolve(next, fact, claimed.claim);
      next = out.state;
      for (const t of out.transitions) transitions.push(t);
    }
    return { state: next, transitions };
  };

/** Folds facts in the order given: a reduce over `step`, on transient tables made persistent at the end. */
export const foldFacts = (catalog: Catalog, state: State, facts: readonly Fact[]): Step => {
  const next = step(catalog);
  const transitions: Transition[] = [];
  let current = transientState(state);
  for (const fact of facts) {
    const out = next(current, fact);
    current = out.state;
    for (const t of out.transitions) transitions.push(t);
  }
  return { state: persistentState(current), transitions };
};

/** Folds a set of events: deduplicated, put in canonical order, then folded from `state`. */
export const replayEvents = (catalog: Catalog, events: readonly NormalizedEvent[], state: State = initialState()): Step =>
  foldFacts(catalog, state, canonicalOrder(events).flatMap((e) => e.facts));
