// "Determinism is the product" (DESIGN.md), checked over generated Stripe histories: the same set of
// events gives the same state and transitions whatever the arrival order and duplication, canonical
// order is a total order of the events themselves, incremental folding equals batch folding, a user
// can be re-derived from its own events alone, and same-second ties are decided by the data.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalOrder } from "../../src/domain/canonical-order.js";
import { componentsOf } from "../../src/domain/components.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import { appUserKey, customerKey } from "../../src/domain/identity.js";
import { foldFacts, replayEvents, step } from "../../src/domain/resolver/step.js";
import type { Step } from "../../src/domain/resolver/view.js";
import { grantingRecordsOf, initialState, recordsNamed, stateFromRecords, type GrantingRecords, type State } from "../../src/domain/state.js";
import { normalizeStripeEvent } from "../../src/providers/stripe/normalize.js";
import { arbDelivery, arbHistory, arbHistoryAndDelivery, testCatalog, type History } from "../builders/histories.js";
import { asStoredInput, type StripeEvent } from "../builders/stripe.js";

const options = { userIdKeys: ["user_id", "userId"] };
// FC_NUM_RUNS raises the run count for a deeper search (FC_NUM_RUNS=5000 npx vitest run test/domain).
const runs = { numRuns: Number(process.env["FC_NUM_RUNS"] ?? 200) };

const normalizeAll = (events: readonly StripeEvent[]): NormalizedEvent[] =>
  events.map((e) => normalizeStripeEvent(asStoredInput(e), options));

const ids = (events: readonly NormalizedEvent[]): string[] => events.map((e) => e.eventId);

const pick = <T>(rows: Readonly<Record<string, T>>, keep: (id: string, row: T) => boolean): Record<string, T> =>
  Object.fromEntries(Object.entries(rows).filter(([id, row]) => keep(id, row)));

/** A saved state is what the store wrote and read back: plain JSON. */
// As the store saves and loads a component's state.
const saved = (state: State): State => stateFromRecords(JSON.parse(JSON.stringify(state)) as Parameters<typeof stateFromRecords>[0]);

describe("determinism over generated Stripe histories", () => {
  it("arrival order and duplicates do not matter: a delivery replays to the batch fold of the set", () => {
    fc.assert(
      fc.property(arbHistoryAndDelivery, ({ history, delivered }) => {
        const batch = replayEvents(testCatalog, normalizeAll(history.events));
        const live = replayEvents(testCatalog, normalizeAll(delivered));
        expect(live.state).toStrictEqual(batch.state);
        expect(live.transitions).toStrictEqual(batch.transitions);
      }),
      runs,
    );
  });

  it("canonical order is a total order of the events, independent of the input order", () => {
    fc.assert(
      fc.property(
        arbHistory.chain((history) => arbDelivery(history).map((delivered) => ({ history, delivered }))),
        ({ history, delivered }) => {
          const original = canonicalOrder(normalizeAll(history.events));
          const permuted = canonicalOrder(normalizeAll(delivered));
          expect(ids(permuted)).toStrictEqual(ids(original));
          // Total: every distinct event exactly once.
          expect(new Set(ids(original)).size).toBe(new Set(history.events.map((e) => e.id)).size);
          expect(original.length).toBe(new Set(history.events.map((e) => e.id)).size);
          // Occurred-at first: ties are only broken within one instant.
          for (let i = 1; i < original.length; i++) expect(original[i - 1]!.occurredAt).toBeLessThanOrEqual(original[i]!.occurredAt);
        },
      ),
      runs,
    );
  });

  it("incremental = batch: folding a prefix, saving, then folding the rest equals folding everything", () => {
    fc.assert(
      fc.property(
        arbHistory.chain((history) => fc.nat(history.events.length).map((k) => ({ history, k }))),
        ({ history, k }) => {
          const ordered = canonicalOrder(normalizeAll(history.events));
          const factsOf = (events: readonly NormalizedEvent[]) => events.flatMap((e) => e.facts);
          const all = foldFacts(testCatalog, initialState(), factsOf(ordered));
          const first = foldFacts(testCatalog, initialState(), factsOf(ordered.slice(0, k)));
          const rest = foldFacts(testCatalog, saved(first.state), factsOf(ordered.slice(k)));
          expect(rest.state).toStrictEqual(all.state);
          expect([...first.transitions, ...rest.transitions]).toStrictEqual(all.transitions);
          // The same through replayEvents, as the store does for events it has not folded yet.
          const resumed = replayEvents(testCatalog, ordered.slice(k), saved(first.state));
          expect(resumed.state).toStrictEqual(all.state);
        },
      ),
      runs,
    );
  });

  it("a user's kept granted features and granting index are what its records give: each step's transitions equal those of a step that derives them afresh", () => {
    const forget = (state: State): State => {
      let users = state.users;
      for (const user of state.users.values()) {
        const { sources: _, granting: __, ...rest } = user;
        users = users.set(user.id, rest);
      }
      return { ...state, users };
    };
    fc.assert(
      fc.property(arbHistory, (history) => {
        const facts = canonicalOrder(normalizeAll(history.events)).flatMap((e) => e.facts);
        const next = step(testCatalog);
        let state = initialState();
        for (const fact of facts) {
          const kept = next(state, fact);
          // Without the kept values, the before-values are derived from all the user's records (as in a state saved before they were kept).
          const afresh = next(forget(state), fact);
          expect(kept.transitions).toStrictEqual(afresh.transitions);
          expect(forget(kept.state).users.toRecord()).toStrictEqual(forget(afresh.state).users.toRecord());
          // Every user's granting index finds what visiting all its keys finds (in another order: grants are sorted).
          const ids = ({ subscriptions, orders }: GrantingRecords) => [...subscriptions, ...orders].map((r) => r.id).sort();
          for (const user of kept.state.users.values()) expect(ids(grantingRecordsOf(kept.state, user.id))).toStrictEqual(ids(recordsNamed(kept.state, user.id, user.keys)));
          state = kept.state;
        }
      }),
      runs,
    );
  });

  it("per-user partition: re-deriving one identity component alone gives its users what the global fold gives", () => {
    fc.assert(
      fc.property(arbHistory, (history) => {
        const events = normalizeAll(history.events);
        const global = replayEvents(testCatalog, events);
        for (const component of componentsOf(events)) {
          const local = replayEvents(testCatalog, component);
          const userIds = new Set([...[...local.state.users.keys()], ...local.transitions.map((t) => t.userId)]);
          const mine = (_: string, row: { readonly userId: string }) => userIds.has(row.userId);
          expect(local.state.users.toRecord()).toStrictEqual(pick(global.state.users.toRecord(), (id) => userIds.has(id)));
          expect(local.state.owners.toRecord()).toStrictEqual(pick(global.state.owners.toRecord(), (key) => local.state.owners.has(key)));
          expect(local.state.subscriptions.toRecord()).toStrictEqual(pick(global.state.subscriptions.toRecord(), mine));
          expect(local.state.orders.toRecord()).toStrictEqual(pick(global.state.orders.toRecord(), mine));
          expect(local.transitions).toStrictEqual(global.transitions.filter((t) => userIds.has(t.userId)));
        }
      }),
      runs,
    );
  });

  it("the data decides ties: whatever the delivery, the final state is the one the history implies", () => {
    fc.assert(
      fc.property(arbHistoryAndDelivery, ({ history, delivered }) => {
        expectImplied(history, replayEvents(testCatalog, normalizeAll(delivered)));
      }),
      runs,
    );
  });
});

const expectImplied = (history: History, { state, transitions }: Step): void => {
  for (const [id, want] of Object.entries(history.expected.paths)) {
    const path = (field: string) =>
      transitions.filter((t) => t.entity === "subscription" && t.entityId === id && t.field === field).map((t) => t.to);
    expect({ status: path("status"), cancelAtPeriodEnd: path("cancelAtPeriodEnd") }, `${id} changed in this order`).toStrictEqual(want);
  }
  for (const [id, want] of Object.entries(history.expected.subscriptions)) {
    const sub = state.subscriptions.get(id);
    expect(sub, id).toBeDefined();
    expect(
      { priceIds: sub!.priceIds, status: sub!.status, cancelAtPeriodEnd: sub!.cancelAtPeriodEnd, currentPeriodEnd: sub!.currentPeriodEnd, ended: sub!.ended },
      id,
    ).toStrictEqual(want);
  }
  for (const [id, want] of Object.entries(history.expected.orders)) {
    const order = state.orders.get(id);
    expect(order, id).toBeDefined();
    expect({ status: order!.status, amount: order!.amount, amountRefunded: order!.amountRefunded }, id).toStrictEqual(want);
  }
  const owner = (cus: string) => state.owners.get(customerKey("stripe", cus));
  const owners = history.expected.users.map((u) => {
    const found = new Set(u.customers.map(owner));
    expect(found.size, `customers ${u.customers.join(", ")} are one user`).toBe(1);
    const userId = [...found][0]!;
    expect(state.users.get(userId)?.appUserId ?? null, `app user id of ${u.customers.join(", ")}`).toBe(u.appUserId);
    return userId;
  });
  expect(new Set(owners).size, "distinct users stay distinct").toBe(owners.length);
  // Two app user ids are never one user, shared customer or not.
  for (const user of [...state.users.values()]) {
    const appKeys = user.keys.filter((k) => k.startsWith("app:"));
    expect(appKeys.length, `app keys of ${user.id}`).toBeLessThanOrEqual(1);
    expect(appKeys, `app key of ${user.id}`).toStrictEqual(user.appUserId === null ? [] : [appUserKey(user.appUserId)]);
  }
  for (const appUserId of history.expected.appUsers) {
    const userId = state.owners.get(appUserKey(appUserId));
    expect(userId, `a user is known by ${appUserId}`).toBeDefined();
    expect(state.users.get(userId!)?.appUserId, `the user known by ${appUserId}`).toBe(appUserId);
  }
};

describe("the generator covers the hard cases", () => {
  const sample = fc.sample(arbHistoryAndDelivery, { numRuns: 300, seed: 20240601 });
  const objectOf = (e: StripeEvent) => (e.data.object as { readonly id: string }).id;

  it("same-second previous_attributes chains about one subscription", () => {
    const chained = sample.filter(({ history }) =>
      history.events.some((a) =>
        history.events.some(
          (b) => a !== b && a.created === b.created && objectOf(a) === objectOf(b) && a.type === "customer.subscription.updated" && b.type === "customer.subscription.updated",
        ),
      ),
    );
    expect(chained.length).toBeGreaterThan(10);
  });

  it("deletions delivered before updates of the same subscription", () => {
    const late = sample.filter(({ delivered }) =>
      delivered.some(
        (d, i) => d.type === "customer.subscription.deleted" && delivered.slice(i + 1).some((u) => u.type === "customer.subscription.updated" && objectOf(u) === objectOf(d)),
      ),
    );
    expect(late.length).toBeGreaterThan(10);
  });

  it("identity links revealed after the subscription events, merges, both API shapes, duplicates, refunds", () => {
    const some = (p: (x: (typeof sample)[number]) => boolean) => sample.filter(p).length;
    const lateLink = some(({ history }) =>
      history.events.some(
        (c) =>
          c.type === "checkout.session.completed" &&
          history.events.some((s) => s.type.startsWith("customer.subscription.") && s.created < c.created),
      ),
    );
    const merged = some(({ history }) => history.expected.users.some((u) => u.customers.length > 1));
    const basil = some(({ history }) => history.events.some((e) => e.api_version.endsWith(".basil")));
    const legacy = some(({ history }) => history.events.some((e) => !e.api_version.endsWith(".basil")));
    const duplicated = some(({ delivered }) => new Set(delivered.map((e) => e.id)).size < delivered.length);
    const bothRefundEvents = some(({ history }) => {
      const types = new Set(history.events.map((e) => e.type));
      return types.has("charge.refunded") && types.has("refund.created");
    });
    const partial = some(({ history }) => Object.values(history.expected.orders).some((o) => o.status === "partially_refunded"));
    // Two named app users on one Stripe customer: the first user and one that buys on its customer.
    const shared = some(
      ({ history }) =>
        history.expected.appUsers.includes("user_1") &&
        history.scripts.some((s, i) => i > 0 && s.sharesFirstCustomer && history.expected.appUsers.includes(`user_${i + 1}`)),
    );
    for (const count of [lateLink, merged, basil, legacy, duplicated, bothRefundEvents, partial, shared]) expect(count).toBeGreaterThan(10);
  });
});
