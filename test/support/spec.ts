// Specs of the resolver in Verity's own words: given these facts, when this one, then this state
// and these transitions. No provider JSON: the facts are what normalizers emit.
import { expect } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import { entitlementsAt, grantsFor, type EntitlementView } from "../../src/domain/entitlements.js";
import type { Fact } from "../../src/domain/facts.js";
import { appUserKey, customerKey } from "../../src/domain/identity.js";
import type { Provider } from "../../src/domain/provider.js";
import { foldFacts } from "../../src/domain/resolver/step.js";
import { initialState, ordersOf, subscriptionsOf, type State, type Transition } from "../../src/domain/state.js";
import type { Instant } from "../../src/domain/time.js";
import { testCatalog } from "../builders/histories.js";

/** A transition as a spec states it: [entity, entityId, field, from, to]; the user is checked apart. */
export type Change = readonly [Transition["entity"], string, string, string | null, string | null];

export const changeOf = (t: Transition): Change => [t.entity, t.entityId, t.field, t.from, t.to];

export type Outcome = {
  readonly before: State;
  readonly state: State;
  readonly transitions: readonly Transition[];
  /** The user an app user id (or, with a provider, a customer id) belongs to; fails when there is none. */
  readonly user: (id: string, provider?: Provider) => string;
  /** Features granted at `t` to the user with this app user id. */
  readonly entitlements: (appUserId: string, t: Instant) => EntitlementView[];
  /** Asserts the when-facts' transitions, in order, without their user and instant. */
  readonly then: (changes: readonly Change[]) => Outcome;
};

const outcome = (catalog: Catalog, before: State, state: State, transitions: readonly Transition[]): Outcome => {
  const user = (id: string, provider?: Provider): string => {
    const key = provider === undefined ? appUserKey(id) : customerKey(provider, id);
    const owner = state.owners.get(key);
    expect(owner, `a user owns ${key}`).toBeDefined();
    return owner!;
  };
  const self: Outcome = {
    before,
    state,
    transitions,
    user,
    entitlements: (appUserId, t) => {
      const id = user(appUserId);
      return entitlementsAt(grantsFor(id, subscriptionsOf(state, id), ordersOf(state, id), catalog), catalog, t);
    },
    then: (changes) => {
      expect(transitions.map(changeOf)).toStrictEqual(changes);
      return self;
    },
  };
  return self;
};

/** given(facts…).when(fact…): folds the given facts, then the when-facts onto their state. */
export const given = (...facts: readonly Fact[]) => ({
  catalog: (catalog: Catalog) => ({ when: (...more: readonly Fact[]) => when(catalog, facts, more) }),
  when: (...more: readonly Fact[]) => when(testCatalog, facts, more),
});

const when = (catalog: Catalog, facts: readonly Fact[], more: readonly Fact[]): Outcome => {
  const before = foldFacts(catalog, initialState(), facts).state;
  const after = foldFacts(catalog, before, more);
  return outcome(catalog, before, after.state, after.transitions);
};

/** The features enabled in a list of entitlement views. */
export const enabled = (views: readonly EntitlementView[]): string[] =>
  views
    .filter((v) => v.enabled)
    .map((v) => v.feature)
    .sort();
