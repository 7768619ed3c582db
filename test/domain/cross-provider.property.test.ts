// Cross-provider properties over generated mixed histories (test/builders/mixed.ts): a Stripe
// history for app users user_1..user_3 interleaved with Paddle, Lemon Squeezy and Creem lifecycles
// for the same app user ids, with deliberate same-second ties across and within providers.
//   (a) arrival order, duplicates and second-endpoint redeliveries do not matter;
//   (b) one person is one user: each app user id is exactly one user, which owns what was bought
//       for it at every provider (and Stripe customers nobody named stay apart from it);
//   (c) the union rule: a user's granted features are the union of what its live subscriptions'
//       and lifetime orders' plans grant, at whichever provider, and the feed ends there too;
//   (d) the data decides: every provider's objects end as their own events say, whatever the
//       other providers' events in the same seconds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FeatureSpec } from "../../src/domain/catalog.js";
import { grantedSources, grantsFor, subscriptionValidity } from "../../src/domain/entitlements.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import { appUserKey, customerKey } from "../../src/domain/identity.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import type { Step } from "../../src/domain/resolver/view.js";
import { ordersOf, subscriptionsOf, type State } from "../../src/domain/state.js";
import { normalize } from "../../src/providers/registry.js";
import { testCatalog } from "../builders/histories.js";
import { arbMixedHistoryAndDelivery, type MixedEvent, type MixedHistory } from "../builders/mixed.js";

const options = { userIdKeys: testCatalog.userIdKeys };
// FC_NUM_RUNS raises the run count for a deeper search (FC_NUM_RUNS=5000 npx vitest run test/domain).
const runs = { numRuns: Number(process.env["FC_NUM_RUNS"] ?? 200) };
/** Room for a deeper search: a mixed run folds a few dozen events twice (under 100 ms even on a busy machine). */
const TIMEOUT = Math.max(60_000, runs.numRuns * 200);

/** As the store hands an event to its normalizer: id, type and time from the envelope, the parsed bytes. */
const normalizeEvent = (e: MixedEvent): NormalizedEvent =>
  normalize(e.provider, { providerEventId: e.providerEventId, type: e.type, occurredAt: e.occurredAt, payload: JSON.parse(e.rawBody.toString("utf8")) }, options);

const normalizeAll = (events: readonly MixedEvent[]): NormalizedEvent[] => events.map(normalizeEvent);

const fold = (events: readonly MixedEvent[]): Step => replayEvents(testCatalog, normalizeAll(events));

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

// ── (b) one person is one user ──────────────────────────────────────────────────────────────

const expectOnePersonOneUser = (history: MixedHistory, state: State): void => {
  for (const appUserId of history.expected.appUsers) {
    const carriers = [...state.users.values()].filter((u) => u.appUserId === appUserId || u.keys.includes(appUserKey(appUserId)));
    expect(
      carriers.map((u) => u.id),
      `exactly one user carries ${appUserId}`,
    ).toHaveLength(1);
    const user = carriers[0]!;
    expect(user.appUserId, `the user known by ${appUserId}`).toBe(appUserId);
    expect(state.owners.get(appUserKey(appUserId)), `the owner of app:${appUserId}`).toBe(user.id);
  }
  for (const [objectId, appUserId] of Object.entries(history.expected.owners)) {
    const row = state.subscriptions.get(objectId) ?? state.orders.get(objectId);
    expect(row, `${objectId} exists`).toBeDefined();
    const owner = state.users.get(row!.userId);
    expect(owner?.appUserId ?? null, `${objectId} belongs to ${appUserId}`).toBe(appUserId);
  }
  // Stripe customers the history names for nobody stay apart from the app users.
  for (const u of history.stripe.expected.users) {
    const owners = new Set(u.customers.map((c) => state.owners.get(customerKey("stripe", c))));
    expect(owners.size, `customers ${u.customers.join(", ")} are one user`).toBe(1);
    const owner = state.users.get([...owners][0]!);
    expect(owner?.appUserId ?? null, `app user id of ${u.customers.join(", ")}`).toBe(u.appUserId);
  }
  // Every user's rows are found through its own keys (as the API and grants find them), and no
  // user holds two app ids.
  for (const user of [...state.users.values()]) {
    const subs = [...state.subscriptions.values()].filter((s) => s.userId === user.id);
    const orders = [...state.orders.values()].filter((o) => o.userId === user.id);
    expect(sorted(subscriptionsOf(state, user.id).map((s) => s.id)), `subscriptions of ${user.id}`).toStrictEqual(sorted(subs.map((s) => s.id)));
    expect(sorted(ordersOf(state, user.id).map((o) => o.id)), `orders of ${user.id}`).toStrictEqual(sorted(orders.map((o) => o.id)));
    expect(user.keys.filter((k) => k.startsWith("app:")).length, `app keys of ${user.id}`).toBeLessThanOrEqual(1);
  }
};

// ── (c) the union rule ──────────────────────────────────────────────────────────────────────

/** A flag is unlimited; the union gives a feature to the granting plan with the highest limit. */
const limitOf = (spec: FeatureSpec): number =>
  spec._tag === "Flag" ? Infinity : spec._tag === "Metered" ? spec.limit : spec._tag === "Credits" ? spec.credits : spec._tag === "Concurrent" ? spec.concurrent : spec.value;

/** Feature → winning plan, computed from the rows alone (a scan, not the key index) and the catalog. */
const unionOfSources = (state: State, userId: string): Record<string, string> => {
  const plans = [
    ...[...state.subscriptions.values()]
      .filter((s) => s.userId === userId && s.plan !== null && subscriptionValidity(s, testCatalog) !== "none")
      .map((s) => s.plan!),
    ...[...state.orders.values()]
      .filter((o) => o.userId === userId && o.plan !== null && testCatalog.plans[o.plan]?.lifetime === true)
      .filter((o) => o.status === "paid" || o.status === "partially_refunded")
      .map((o) => o.plan!),
  ];
  const best: Record<string, string> = {};
  for (const plan of [...new Set(plans)].sort()) {
    for (const [feature, spec] of Object.entries(testCatalog.plans[plan]!.features)) {
      const held = best[feature];
      if (held === undefined || limitOf(spec) > limitOf(testCatalog.plans[held]!.features[feature]!)) best[feature] = plan;
    }
  }
  return best;
};

const expectUnion = (state: State, transitions: Step["transitions"]): void => {
  for (const userId of [...state.users.keys()]) {
    const want = unionOfSources(state, userId);
    const granted = grantedSources(grantsFor(userId, subscriptionsOf(state, userId), ordersOf(state, userId), testCatalog));
    expect(granted, `features of ${userId}`).toStrictEqual(want);
    // The transition log ends where the state is: each feature's latest source is the granted one.
    const logged: Record<string, string | null> = {};
    for (const t of transitions) if (t.entity === "entitlement" && t.userId === userId) logged[t.entityId.slice(userId.length + 1)] = t.to;
    const last = Object.fromEntries(Object.entries(logged).filter(([, to]) => to !== null));
    expect(last, `entitlement transitions of ${userId} end at its grants`).toStrictEqual(want);
  }
};

// ── (d) the data decides ────────────────────────────────────────────────────────────────────

const expectImplied = (history: MixedHistory, state: State): void => {
  for (const [id, want] of Object.entries(history.expected.subscriptions)) {
    const sub = state.subscriptions.get(id);
    expect(sub, id).toBeDefined();
    const got = { plan: sub!.plan, status: sub!.status, ended: sub!.ended, cancelAtPeriodEnd: want.cancelAtPeriodEnd === null ? null : sub!.cancelAtPeriodEnd };
    expect(got, id).toStrictEqual(want);
  }
  for (const [id, want] of Object.entries(history.expected.orders)) {
    const order = state.orders.get(id);
    expect(order, id).toBeDefined();
    expect({ plan: order!.plan, status: order!.status, amount: order!.amount, amountRefunded: order!.amountRefunded }, id).toStrictEqual(want);
  }
  // Stripe's own objects end as the Stripe history alone says.
  for (const [id, want] of Object.entries(history.stripe.expected.subscriptions)) {
    const sub = state.subscriptions.get(id);
    expect(sub, id).toBeDefined();
    const { priceIds, status, cancelAtPeriodEnd, currentPeriodEnd, ended } = sub!;
    expect({ priceIds, status, cancelAtPeriodEnd, currentPeriodEnd, ended }, id).toStrictEqual(want);
  }
  for (const [id, want] of Object.entries(history.stripe.expected.orders)) {
    const order = state.orders.get(id);
    expect(order, id).toBeDefined();
    expect({ status: order!.status, amount: order!.amount, amountRefunded: order!.amountRefunded }, id).toStrictEqual(want);
  }
};

// ── the properties ──────────────────────────────────────────────────────────────────────────

describe("cross-provider properties over interleaved histories", () => {
  it("(a) arrival order, duplicates and second-endpoint redeliveries do not matter", () => {
    fc.assert(
      fc.property(arbMixedHistoryAndDelivery, ({ history, delivered }) => {
        const batch = fold(history.events);
        const live = fold(delivered);
        expect(live.state).toStrictEqual(batch.state);
        expect(live.transitions).toStrictEqual(batch.transitions);
      }),
      runs,
    );
  }, TIMEOUT);

  it("(b) one person is one user: each app user id is one user, owning what was bought for it at every provider", () => {
    fc.assert(
      fc.property(arbMixedHistoryAndDelivery, ({ history, delivered }) => {
        expectOnePersonOneUser(history, fold(delivered).state);
      }),
      runs,
    );
  }, TIMEOUT);

  it("(c) entitlements are the union of what a user's live subscriptions and lifetime orders grant, at any provider", () => {
    fc.assert(
      fc.property(arbMixedHistoryAndDelivery, ({ delivered }) => {
        const { state, transitions } = fold(delivered);
        expectUnion(state, transitions);
      }),
      runs,
    );
  }, TIMEOUT);

  it("(d) the data decides: each provider's objects end as its own events say, whatever shares their seconds", () => {
    fc.assert(
      fc.property(arbMixedHistoryAndDelivery, ({ history, delivered }) => {
        expectImplied(history, fold(delivered).state);
      }),
      runs,
    );
  }, TIMEOUT);
});

describe("the mixed generator covers the hard cases", () => {
  const sample = fc.sample(arbMixedHistoryAndDelivery, { numRuns: 300, seed: 20240601 });
  const count = (p: (x: (typeof sample)[number]) => boolean): number => sample.filter(p).length;
  const appUserOf = (e: MixedEvent): string | null => {
    const keys = normalizeEvent(e).facts.flatMap((f) => f.keys);
    return keys.find((k) => k.startsWith("app:")) ?? null;
  };
  /** Instants at which events of two providers name one app user. */
  const crossTies = ({ history }: (typeof sample)[number]): boolean => {
    const seen = new Map<string, Set<string>>();
    for (const e of history.events) {
      const app = appUserOf(e);
      if (app === null) continue;
      const key = `${e.occurredAt}:${app}`;
      seen.set(key, (seen.get(key) ?? new Set()).add(e.provider));
    }
    return [...seen.values()].some((providers) => providers.size > 1);
  };
  const withinTies = ({ history }: (typeof sample)[number]): boolean => {
    const seen = new Set<string>();
    return history.events.some((e) => {
      const object = normalizeEvent(e).hint.object;
      if (e.provider === "stripe" || object === null) return false;
      const key = `${e.occurredAt}:${object}`;
      if (seen.has(key)) return true;
      seen.add(key);
      return false;
    });
  };

  it("same-second ties across providers for one user, and within one provider for one object", () => {
    expect(count(crossTies)).toBeGreaterThan(30);
    expect(count(withinTies)).toBeGreaterThan(30);
  });

  it("users at several providers, every provider, second-endpoint redeliveries, refunds and ends", () => {
    const providersOf = (h: MixedHistory, user: string) => new Set(h.events.filter((e) => appUserOf(e) === `app:${user}`).map((e) => e.provider));
    const multi = count(({ history }) => history.expected.appUsers.some((u) => providersOf(history, u).size >= 3));
    const variant = count(({ history, delivered }) => {
      const bodies = new Map(history.events.map((e) => [`${e.provider}:${e.providerEventId}`, e.rawBody]));
      return delivered.some((e) => !bodies.get(`${e.provider}:${e.providerEventId}`)!.equals(e.rawBody));
    });
    const orders = sample.flatMap(({ history }) => Object.values(history.expected.orders));
    const subs = sample.flatMap(({ history }) => Object.values(history.expected.subscriptions));
    expect(multi).toBeGreaterThan(10);
    expect(variant).toBeGreaterThan(10);
    for (const provider of ["paddle", "lemonsqueezy", "creem"]) expect(count(({ history }) => history.events.some((e) => e.provider === provider))).toBeGreaterThan(50);
    expect(orders.filter((o) => o.status === "partially_refunded").length).toBeGreaterThan(10);
    expect(orders.filter((o) => o.status === "refunded").length).toBeGreaterThan(10);
    expect(subs.filter((s) => s.ended).length).toBeGreaterThan(10);
    expect(subs.filter((s) => s.cancelAtPeriodEnd === true).length).toBeGreaterThan(10);
  });
});
