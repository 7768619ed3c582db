// Stripe conformance: every published Stripe fixture, read in place, signed here, verified, decoded,
// normalized and folded by the real resolver, with the resulting state asserted per event type.
// Fixtures come from $VERITY_FIXTURES (default ../shared/fixtures/providers next to the repo).
import { readdirSync } from "node:fs";
import path from "node:path";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import type { FactTag, SubscriptionObserved } from "../../src/domain/facts.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { decodeStripeEnvelope } from "../../src/providers/stripe/envelope.js";
import { normalizeStripeEvent } from "../../src/providers/stripe/normalize.js";
import { checkoutNeedingLineItems, LINE_ITEMS_EVENT_TYPE, lineItemsEventId } from "../../src/providers/stripe/checkout.js";
import { stripeSignatureHeader, verifyStripeSignature } from "../../src/providers/stripe/verify.js";
import type { StoredEventInput } from "../../src/providers/types.js";
import { dig, expectUnchanged, foldAlone, onlyUser, planFor, tagsOf, type Outcome } from "../support/conformance.js";
import { providerFixtures } from "../support/fixtures.js";
import { expectSignedBy } from "../support/signatures.js";

const fixtures = providerFixtures("stripe", "Stripe");

// ── test catalog: the fixtures' price ids mapped to plans ───────────────────────────────────

const plan = planFor("stripe");

const catalog: Catalog = {
  plans: {
    pro: plan("pro", ["price_1IDQm5JDPojXS6LNM31hxKzp"]),
    starter: plan("starter", ["some-plan"]),
    beginner: plan("beginner", ["FFBEGINNER_00000000000000"]),
    metered: plan("metered", ["price_1234"]),
    lifetime: plan("lifetime", ["price_lifetime_test"], true),
  },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id", "userId"],
};
const options = { userIdKeys: catalog.userIdKeys };

// ── pipeline: what ingest + replay do with one delivery ─────────────────────────────────────

const SECRET = "whsec_conformance_test_secret";
const WRONG_SECRET = "whsec_not_this_endpoint";

const seconds = (value: unknown): number => {
  if (typeof value !== "number") throw new Error(`expected a number, got ${JSON.stringify(value)}`);
  return value;
};

/** Decodes the envelope, normalizes and folds one event on its own. */
const normalizeAndFold = (payload: unknown): Outcome => {
  const envelope = decodeStripeEnvelope(payload);
  if (Either.isLeft(envelope)) throw new Error(envelope.left);
  const input: StoredEventInput = { ...envelope.right, payload };
  return foldAlone(catalog, payload, normalizeStripeEvent(input, options));
};

/** Signs the exact file bytes, checks both verdicts, then normalizes and folds. */
const runSignedFixture = (file: string): Outcome => {
  const raw = fixtures.bytes(file);
  const payload: unknown = JSON.parse(raw.toString("utf8"));
  const t = seconds(dig(payload, "created"));
  const header = stripeSignatureHeader(raw, SECRET, t);
  expectSignedBy((secrets) => verifyStripeSignature({ rawBody: raw, header, secrets, now: t * 1000 }), SECRET, WRONG_SECRET);
  return normalizeAndFold(payload);
};

// ── expectations per full-body fixture ──────────────────────────────────────────────────────

type Row = { readonly file: string; readonly facts: readonly FactTag[]; readonly check: (outcome: Outcome) => void };

const CUSTOMER = "customer:stripe:cus_IhGfebO16cMIGN";

const fullBodyRows: readonly Row[] = [
  {
    file: "customer.subscription.created.json",
    facts: ["SubscriptionObserved"],
    check: ({ payload, event, state }) => {
      const sub = state.subscriptions.get("stripe:sub_JdIzvfy6o5GZRd")!;
      expect(sub).toMatchObject({
        status: "active",
        providerStatus: "active",
        plan: "pro",
        priceIds: ["price_1IDQm5JDPojXS6LNM31hxKzp"],
        currentPeriodStart: seconds(dig(payload, "data", "object", "current_period_start")) * 1000,
        currentPeriodEnd: seconds(dig(payload, "data", "object", "current_period_end")) * 1000,
        cancelAtPeriodEnd: false,
        startedAt: 1623148918_000,
        canceledAt: null,
        ended: false,
      });
      expect(sub.currentPeriodEnd).toBe(1625740918_000);
      const user = onlyUser(state);
      expect(user).toMatchObject({ id: sub.userId, status: "active", keys: [CUSTOMER, "subscription:stripe:sub_JdIzvfy6o5GZRd"] });
      expect(state.owners.get(CUSTOMER)).toBe(user.id);
      expect(event.hint).toMatchObject({ object: "stripe:subscription:sub_JdIzvfy6o5GZRd", phase: "create", left: null, version: 1623148918 });
    },
  },
  {
    file: "customer.subscription.updated.json",
    facts: ["SubscriptionObserved"],
    check: ({ event, state }) => {
      expect(state.subscriptions.get("stripe:sub_JLEPMp81LApOJl")).toMatchObject({
        status: "active",
        plan: "pro",
        currentPeriodStart: 1618980344_000,
        currentPeriodEnd: 1621572344_000,
        ended: false,
      });
      // Only metadata changed: previous_attributes names no scalar field.
      expect(event.hint).toMatchObject({ phase: "update", left: {}, version: 1618980344 });
    },
  },
  {
    file: "customer.subscription.deleted.json",
    facts: ["SubscriptionEnded"],
    check: ({ event, state }) => {
      expect(state.subscriptions.get("stripe:sub_JdIzvfy6o5GZRd")).toMatchObject({
        status: "canceled",
        providerStatus: "canceled",
        plan: "pro",
        canceledAt: 1623149102_000,
        endedAt: 1623149102_000,
        ended: true,
      });
      expect(onlyUser(state).status).toBe("inactive");
      expect(event.hint.phase).toBe("terminal");
    },
  },
  {
    file: "customer.updated.json",
    facts: ["CustomerSeen"],
    check: ({ event, state }) => {
      expect(onlyUser(state)).toMatchObject({ keys: [CUSTOMER], email: "billz@supabase.io", appUserId: null, status: "inactive" });
      expect(state.subscriptions.toRecord()).toEqual({});
      expect(event.hint).toMatchObject({ object: "stripe:customer:cus_IhGfebO16cMIGN", phase: "update", left: { email: "billing@supabase.io" } });
      expect(event.hint.state["email"]).toBe("billz@supabase.io");
    },
  },
  { file: "customer.deleted.json", facts: [], check: expectUnchanged },
  {
    file: "invoice_payment.paid.json",
    facts: ["PaymentLinked"],
    check: ({ state }) => {
      // The invoice is not known yet: its payment waits for it, so a refund of pi_… will find it.
      expect(state.paymentLinks.toRecord()).toEqual({ "stripe:in_103Q0w2eZvKYlo2C5PYwf6Wf": ["pi_103Q0w2eZvKYlo2C364X582Z"] });
      expect(state.orders.toRecord()).toEqual({});
      expect(onlyUser(state).keys).toEqual(["invoice:stripe:in_103Q0w2eZvKYlo2C5PYwf6Wf", "payment:stripe:pi_103Q0w2eZvKYlo2C364X582Z"]);
    },
  },
  {
    file: "checkout.session.completed.json",
    facts: ["CheckoutCompleted"],
    check: ({ payload, event, state }) => {
      const sessionId = "cs_live_9RBjcHiy2i5p99Tf1MYM90c3SHK1grU0E6Ae6pKWR2KPA4ZiuKiB2X1Y3X";
      expect(state.orders.get(`stripe:${sessionId}`)).toMatchObject({
        kind: "one_time",
        amount: 999,
        currency: "eur",
        status: "paid",
        amountRefunded: 0,
        // The event does not say what was bought: the line items have to be fetched.
        plan: null,
        priceIds: [],
        paymentRefs: ["pi_1IqxJOJDPojXS6LN9uOebAea"],
      });
      expect(onlyUser(state)).toMatchObject({
        email: "billz@supabase.io",
        keys: [CUSTOMER, `checkout:stripe:${sessionId}`, "invoice:stripe:in_1KJqKBJDPojXS6LNJbvLUgEy", "payment:stripe:pi_1IqxJOJDPojXS6LN9uOebAea"],
      });
      expect(checkoutNeedingLineItems(payload)).toBe(sessionId);
      expect(event.hint.object).toBe(`stripe:checkout:${sessionId}`);
    },
  },
  {
    file: "charge.refunded.json",
    facts: ["RefundIssued"],
    check: ({ state }) => {
      const ledger = { byId: { re_3Kl36gJDPojXS6LN0eP4yPDz: 2500 }, statedTotal: 2500, counted: { re_3Kl36gJDPojXS6LN0eP4yPDz: 2500 } };
      expect(state.refunds.toRecord()).toEqual({ "stripe:ch_3Kl36gJDPojXS6LN0DCM4A8l": ledger, "stripe:pi_3Kl36gJDPojXS6LN02fQVtKR": ledger });
      expect(state.orders.toRecord()).toEqual({});
      expect(onlyUser(state).keys).toEqual([
        "customer:stripe:cus_J7Mkgr8mvbl1eK",
        "payment:stripe:ch_3Kl36gJDPojXS6LN0DCM4A8l",
        "payment:stripe:pi_3Kl36gJDPojXS6LN02fQVtKR",
      ]);
    },
  },
  {
    file: "invoice.paid.json",
    facts: ["PaymentSucceeded"],
    check: ({ event, state }) => {
      expect(event.facts[0]).toMatchObject({ reason: "subscription_cycle", paymentRefs: [] });
      expect(state.orders.get("stripe:in_1KJqKBJDPojXS6LNJbvLUgEy")).toMatchObject({
        kind: "subscription",
        subscriptionId: "stripe:sub_JsuPyCPhXWfZar",
        plan: "pro",
        priceIds: ["price_1IDQm5JDPojXS6LNM31hxKzp"],
        amount: 0,
        currency: "usd",
        status: "paid",
      });
      expect(onlyUser(state).keys).toEqual([
        "customer:stripe:cus_JsuO3bmrj0QlAw",
        "subscription:stripe:sub_JsuPyCPhXWfZar",
        "invoice:stripe:in_1KJqKBJDPojXS6LNJbvLUgEy",
      ]);
    },
  },
  ...["refund.created.json", "refund.updated.json"].map(
    (file): Row => ({
      file,
      facts: ["RefundIssued"],
      check: ({ event, state }) => {
        // A single refund states no cumulative total.
        const ledger = { byId: { re_1Nispe2eZvKYlo2Cd31jOCgZ: 1000 }, statedTotal: null, counted: {} };
        expect(state.refunds.toRecord()).toEqual({ "stripe:ch_1NirD82eZvKYlo2CIvbtLWuY": ledger, "stripe:pi_1GszsK2eZvKYlo2CfhZyoZLp": ledger });
        expect(onlyUser(state).keys).toEqual(["payment:stripe:ch_1NirD82eZvKYlo2CIvbtLWuY", "payment:stripe:pi_1GszsK2eZvKYlo2CfhZyoZLp"]);
        expect(event.hint.object).toBe("stripe:refund:re_1Nispe2eZvKYlo2Cd31jOCgZ");
      },
    }),
  ),
  // Stored, no facts: Verity learns access from subscriptions, invoices, checkouts and refunds.
  ...[
    "charge.failed.json",
    "charge.succeeded.json",
    "credit_note.created.json",
    "invoice.finalized.json",
    "invoice.updated.json",
    "invoice.voided.json",
    "payment_intent.payment_failed.api-2025-04-30.basil.json",
    "payment_intent.payment_failed.json",
    "payment_intent.succeeded.api-2022-11-15.json",
    "payment_intent.succeeded.json",
  ].map((file): Row => ({ file, facts: [], check: expectUnchanged })),
];

// ── data-only fixtures, wrapped into an event envelope here ─────────────────────────────────

const DATA_ONLY_CREATED = 1_700_000_000;

const wrapDataOnly = (name: string, type: string, data: unknown) => ({
  id: `evt_data_only_${name}`,
  object: "event",
  type,
  created: DATA_ONLY_CREATED,
  data,
});

const readDataOnly = (name: string): unknown => fixtures.json(`data_only/${name}.data.json`);

type DataOnlyRow = { readonly name: string; readonly type: string; readonly facts: readonly FactTag[]; readonly check: (outcome: Outcome) => void };

const TRIAL_SUB = "stripe:sub_00000000000000";

const dataOnlyRows: readonly DataOnlyRow[] = [
  {
    name: "charge.refunded.partial",
    type: "charge.refunded",
    facts: ["RefundIssued"],
    check: ({ state }) => {
      const ledger = { byId: { re_3LQOJoKXBGcbgpbZ10i9Mg75: 500 }, statedTotal: 500, counted: { re_3LQOJoKXBGcbgpbZ10i9Mg75: 500 } };
      expect(state.refunds.toRecord()).toEqual({ "stripe:ch_chargeid": ledger, "stripe:pm_1234": ledger });
      expect(onlyUser(state).keys).toEqual(["customer:stripe:cus_0dUMWLtzCTagWs", "payment:stripe:ch_chargeid", "payment:stripe:pm_1234"]);
    },
  },
  {
    name: "checkout.session.completed.mode_subscription",
    type: "checkout.session.completed",
    facts: ["CheckoutCompleted"],
    check: ({ payload, event, state }) => {
      expect(event.facts[0]).toMatchObject({ mode: "subscription", paid: true, priceIds: null, subscriptionId: "sub_1LNkeSKXBGcbgpbZ7jMqOPSi" });
      // A subscription checkout places no order: the subscription's own events grant access.
      expect(state.orders.toRecord()).toEqual({});
      expect(onlyUser(state)).toMatchObject({
        email: "chris@gorails.com",
        keys: [
          "customer:stripe:cus_M5wW9RPFk9xNZ5",
          "checkout:stripe:cs_test_a1UejXx8ebIdTzFolicVypUAZpOBVkoQKDbaarXoPlPVtj8p0zujPEEhjT",
          "subscription:stripe:sub_1LNkeSKXBGcbgpbZ7jMqOPSi",
        ],
      });
      expect(checkoutNeedingLineItems(payload)).toBeNull();
    },
  },
  {
    name: "customer.subscription.trial_will_end",
    type: "customer.subscription.trial_will_end",
    facts: ["SubscriptionObserved"],
    check: ({ event, state }) => {
      expect(state.subscriptions.get(TRIAL_SUB)).toMatchObject({
        status: "active",
        plan: "starter",
        priceIds: ["some-plan"],
        currentPeriodStart: 1486568724_000,
        currentPeriodEnd: 1488987924_000,
        trialStart: 1667761895_000,
        trialEnd: 1668971983_000,
        canceledAt: 1487872069_000,
        endedAt: 1668971983_000,
        startedAt: null,
        cancelAtPeriodEnd: false,
      });
      expect(event.hint).toMatchObject({ phase: "update", left: {}, version: 1486568724 });
    },
  },
  {
    // Already basil-shaped: the period lives on the subscription item.
    name: "customer.subscription.updated.plan_change",
    type: "customer.subscription.updated",
    facts: ["SubscriptionObserved"],
    check: ({ event, state }) => {
      expect(state.subscriptions.get(TRIAL_SUB)).toMatchObject({
        status: "canceled",
        providerStatus: "canceled",
        plan: "beginner",
        currentPeriodStart: 1486568724_000,
        currentPeriodEnd: 1488987924_000,
        ended: false,
      });
      expect(event.hint.version).toBe(1486568724);
    },
  },
  { name: "invoice.payment_action_required", type: "invoice.payment_action_required", facts: [], check: expectUnchanged },
  {
    name: "invoice.payment_failed",
    type: "invoice.payment_failed",
    facts: ["PaymentFailed"],
    check: ({ event, state, transitions }) => {
      // No top-level `subscription`: found through basil's invoice.parent.
      expect(event.facts[0]).toMatchObject({ paymentId: "in_1234", subscriptionId: "sub_1234", amount: 24900, currency: "usd" });
      expect(state.orders.toRecord()).toEqual({});
      expect(onlyUser(state).keys).toEqual(["customer:stripe:cus_1234", "subscription:stripe:sub_1234", "invoice:stripe:in_1234"]);
      expect(transitions).toContainEqual(expect.objectContaining({ entity: "payment", entityId: "stripe:in_1234", field: "status", to: "failed" }));
    },
  },
];

// ── in-test builders ────────────────────────────────────────────────────────────────────────

const clone = <T>(value: T): T => structuredClone(value);

/** A basil-shaped copy of a legacy subscription event: current_period_* moved onto every item. */
const toBasilShape = (legacyEvent: unknown): unknown => {
  const copy = clone(legacyEvent) as { data: { object: Record<string, unknown> } };
  const subscription = copy.data.object;
  const { current_period_start: start, current_period_end: end } = subscription;
  delete subscription["current_period_start"];
  delete subscription["current_period_end"];
  const items = subscription["items"] as { data: Record<string, unknown>[] };
  items.data = items.data.map((item) => ({ ...item, current_period_start: start, current_period_end: end }));
  return copy;
};

const withType = (event: unknown, type: string, id: string): unknown => ({ ...(event as object), type, id });

const snapshotOf = (event: NormalizedEvent): SubscriptionObserved["snapshot"] => {
  const fact = event.facts[0];
  if (fact?._tag !== "SubscriptionObserved") throw new Error("expected a SubscriptionObserved fact");
  return fact.snapshot;
};

// ── the suite ───────────────────────────────────────────────────────────────────────────────

describe.skipIf(!fixtures.exist)(`Stripe conformance over published fixtures (${fixtures.dir})`, () => {
  it("has an expectation for every full-body fixture", () => {
    expect(fullBodyRows.map((r) => r.file).sort()).toEqual(fixtures.eventFiles());
  });

  it.each(fullBodyRows)("$file: signed, verified, decoded, normalized and folded", (row) => {
    const outcome = runSignedFixture(row.file);
    expect(tagsOf(outcome.event.facts)).toEqual(row.facts);
    for (const fact of outcome.event.facts) {
      expect(fact).toMatchObject({ at: outcome.event.occurredAt, cause: `stripe:${outcome.event.eventId}`, provider: "stripe" });
    }
    row.check(outcome);
  });

  it("has an expectation for every data-only fixture", () => {
    const names = readdirSync(path.join(fixtures.dir, "data_only")).map((f) => f.replace(/\.data\.json$/, ""));
    expect(dataOnlyRows.map((r) => r.name).sort()).toEqual(names.sort());
  });

  it.each(dataOnlyRows)("data_only/$name: wrapped as $type, normalized and folded", (row) => {
    expect(row.name.startsWith(row.type)).toBe(true);
    const outcome = normalizeAndFold(wrapDataOnly(row.name, row.type, readDataOnly(row.name)));
    expect(outcome.event).toMatchObject({ eventId: `evt_data_only_${row.name}`, occurredAt: DATA_ONLY_CREATED * 1000 });
    expect(tagsOf(outcome.event.facts)).toEqual(row.facts);
    row.check(outcome);
  });

  it("checks the derived signature vectors at their receive time", () => {
    const file = fixtures.json("signature_vectors.derived.json") as {
      vectors: { name: string; header_value: string; secret: string; raw_body: string; expected_valid: boolean }[];
    };
    // The vectors' note: receivedAt = 1700000000 (their timestamps are in the past).
    const receivedAt = 1_700_000_000 * 1000;
    expect(file.vectors.length).toBeGreaterThan(0);
    for (const vector of file.vectors) {
      const result = verifyStripeSignature({ rawBody: Buffer.from(vector.raw_body, "utf8"), header: vector.header_value, secrets: [vector.secret], now: receivedAt });
      expect({ name: vector.name, valid: Either.isRight(result) }).toEqual({ name: vector.name, valid: vector.expected_valid });
      if (Either.isLeft(result)) expect(result.left.code).toBe("signature_mismatch");
    }
  });

  it("folds subscription created then deleted to canceled, whatever the arrival order", () => {
    const created = runSignedFixture("customer.subscription.created.json").event;
    const deleted = runSignedFixture("customer.subscription.deleted.json").event;
    for (const events of [[created, deleted], [deleted, created]]) {
      const { state } = replayEvents(catalog, events);
      expect(state.subscriptions.get("stripe:sub_JdIzvfy6o5GZRd")).toMatchObject({ status: "canceled", ended: true, endedAt: 1623149102_000 });
      expect(onlyUser(state).status).toBe("inactive");
    }
  });

  it("normalizes a basil-shaped subscription (period on items) to the same snapshot as the legacy shape", () => {
    const legacy = fixtures.json("customer.subscription.created.json");
    const basil = toBasilShape(legacy);
    expect(dig(basil, "data", "object", "current_period_end")).toBeUndefined();
    const legacyEvent = normalizeAndFold(legacy).event;
    const basilEvent = normalizeAndFold(basil).event;
    expect(snapshotOf(basilEvent)).toEqual(snapshotOf(legacyEvent));
    expect(snapshotOf(basilEvent).currentPeriodEnd).toBe(1625740918_000);
    expect(basilEvent.hint.version).toBe(legacyEvent.hint.version);
  });

  it("reads the legacy data-only subscription and its basil copy alike", () => {
    const legacy = wrapDataOnly("trial", "customer.subscription.trial_will_end", readDataOnly("customer.subscription.trial_will_end"));
    const basil = toBasilShape(legacy);
    expect(snapshotOf(normalizeAndFold(basil).event)).toEqual(snapshotOf(normalizeAndFold(legacy).event));
  });

  it("resolves a one-time checkout's plan from fetched line items, in either order", () => {
    const checkout = runSignedFixture("checkout.session.completed.json");
    const sessionId = checkoutNeedingLineItems(checkout.payload)!;
    const lineItemsBody = { object: "list", data: [{ id: "li_1", object: "item", price: { id: "price_lifetime_test", object: "price" } }], has_more: false };
    const lineItems = (occurredAt: number) =>
      normalizeStripeEvent({ providerEventId: lineItemsEventId(sessionId), type: LINE_ITEMS_EVENT_TYPE, occurredAt, payload: lineItemsBody }, options);
    const fetched = lineItems(checkout.event.occurredAt);
    expect(fetched.facts).toEqual([
      expect.objectContaining({ _tag: "CheckoutItemsFetched", checkoutId: sessionId, priceIds: ["price_lifetime_test"], keys: [`checkout:stripe:${sessionId}`] }),
    ]);
    expect(fetched.hint).toEqual({ object: `stripe:checkout:${sessionId}`, phase: "derived", left: null, state: {}, version: null });
    for (const events of [[checkout.event, fetched], [fetched, checkout.event], [lineItems(checkout.event.occurredAt - 5000), checkout.event]]) {
      const { state } = replayEvents(catalog, events);
      expect(state.orders.get(`stripe:${sessionId}`)).toMatchObject({ plan: "lifetime", priceIds: ["price_lifetime_test"], status: "paid" });
      expect(onlyUser(state).status).toBe("active");
    }
  });

  it("applies a partial refund to the order it belongs to", () => {
    const refund = normalizeAndFold(wrapDataOnly("partial", "charge.refunded", readDataOnly("charge.refunded.partial"))).event;
    const invoice = {
      id: "evt_test_invoice_for_partial_refund",
      object: "event",
      type: "invoice.paid",
      created: DATA_ONLY_CREATED - 60,
      data: { object: { id: "in_partial", object: "invoice", customer: "cus_0dUMWLtzCTagWs", charge: "ch_chargeid", amount_paid: 1500, currency: "usd", lines: { object: "list", data: [] } } },
    };
    const paid = normalizeAndFold(invoice).event;
    expect(paid.facts[0]).toMatchObject({ _tag: "PaymentSucceeded", reason: "one_time", paymentRefs: ["ch_chargeid"] });
    for (const events of [[paid, refund], [refund, paid]]) {
      const { state } = replayEvents(catalog, events);
      expect(state.orders.get("stripe:in_partial")).toMatchObject({ kind: "one_time", amount: 1500, amountRefunded: 500, status: "partially_refunded" });
    }
  });

  it("reads a basil invoice (parent + pricing) as a paid subscription order", () => {
    const failed = wrapDataOnly("basil_invoice", "invoice.payment_failed", readDataOnly("invoice.payment_failed"));
    const copy = clone(failed) as { data: { object: Record<string, unknown> } };
    copy.data.object["amount_paid"] = 24900;
    const { event, state } = normalizeAndFold(withType(copy, "invoice.paid", "evt_basil_invoice_paid"));
    expect(event.facts[0]).toMatchObject({ _tag: "PaymentSucceeded", subscriptionId: "sub_1234", priceIds: ["price_1234"], reason: "subscription_cycle" });
    expect(state.orders.get("stripe:in_1234")).toMatchObject({ kind: "subscription", plan: "metered", amount: 24900, subscriptionId: "stripe:sub_1234" });
  });

  it("normalizes the same stored event to the same result without touching it", () => {
    const payload = Object.freeze(fixtures.json("customer.subscription.created.json"));
    const before = clone(payload);
    const first = normalizeAndFold(payload);
    expect(normalizeAndFold(payload)).toEqual(first);
    expect(payload).toEqual(before);
  });
});

// ── fixture-free checks of the envelope and of the normalizer's rules ───────────────────────

const normalize = (type: string, object: unknown, extra: { previous?: unknown; id?: string } = {}): NormalizedEvent =>
  normalizeStripeEvent(
    {
      providerEventId: extra.id ?? "evt_unit",
      type,
      occurredAt: 1_700_000_000_000,
      payload: { id: extra.id ?? "evt_unit", object: "event", type, created: 1_700_000_000, data: { object, ...(extra.previous === undefined ? {} : { previous_attributes: extra.previous }) } },
    },
    options,
  );

const subscriptionObject = (overrides: Record<string, unknown> = {}) => ({
  id: "sub_unit",
  object: "subscription",
  customer: "cus_unit",
  status: "active",
  cancel_at_period_end: false,
  cancel_at: null,
  current_period_start: 1_700_000_000,
  current_period_end: 1_702_592_000,
  metadata: {},
  items: { object: "list", data: [{ id: "si_unit", object: "subscription_item", price: { id: "price_1IDQm5JDPojXS6LNM31hxKzp", object: "price" } }] },
  ...overrides,
});

const checkoutObject = (overrides: Record<string, unknown> = {}) => ({
  id: "cs_unit",
  object: "checkout.session",
  mode: "payment",
  customer: "cus_unit",
  client_reference_id: null,
  metadata: {},
  payment_intent: "pi_unit",
  amount_total: 4900,
  currency: "usd",
  payment_status: "paid",
  ...overrides,
});

describe("decodeStripeEnvelope", () => {
  it("decodes id, type and created (seconds → ms) and allows other members", () => {
    expect(decodeStripeEnvelope({ id: "evt_1", object: "event", type: "x.y", created: 1_700_000_000, livemode: false, data: {} })).toEqual(
      Either.right({ providerEventId: "evt_1", type: "x.y", occurredAt: 1_700_000_000_000 }),
    );
  });

  it.each([
    ["id", { object: "event", type: "x.y", created: 1 }],
    ["type", { id: "evt_1", object: "event", type: 7, created: 1 }],
    ["created", { id: "evt_1", object: "event", type: "x.y", created: 1.5 }],
    ["created", { id: "evt_1", object: "event", type: "x.y", created: "1700000000" }],
    ["object", { id: "evt_1", object: "customer", type: "x.y", created: 1 }],
  ])("names the path of a wrong %s", (pathName, payload) => {
    const result = decodeStripeEnvelope(payload);
    expect(Either.isLeft(result) && result.left).toMatch(new RegExp(`^invalid Stripe event envelope: .*\\b${pathName}: `));
  });

  it("rejects thin events and non-objects with a clear message", () => {
    const thin = decodeStripeEnvelope({ id: "evt_1", object: "v2.core.event", type: "v1.billing.meter.error_report_triggered", created: "2024-01-01T00:00:00Z" });
    expect(Either.isLeft(thin) && thin.left).toMatch(/thin event .*v2\.core\.event/);
    expect(decodeStripeEnvelope(null)).toEqual(Either.left("Stripe event must be a JSON object, got null"));
    expect(decodeStripeEnvelope([])).toEqual(Either.left("Stripe event must be a JSON object, got an array"));
  });
});

describe("normalizeStripeEvent rules", () => {
  it.each([
    ["trialing", "trialing"],
    ["active", "active"],
    ["past_due", "past_due"],
    ["unpaid", "past_due"],
    ["canceled", "canceled"],
    ["incomplete", "incomplete"],
    ["incomplete_expired", "canceled"],
    ["paused", "canceled"],
    ["constructor", "incomplete"],
    ["something_new", "incomplete"],
  ])("maps subscription status %s to %s and keeps the raw one", (raw, canonical) => {
    const snapshot = snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ status: raw })));
    expect(snapshot).toMatchObject({ status: canonical, providerStatus: raw });
  });

  it("treats a scheduled cancel_at as cancel at period end, unless already canceled", () => {
    const at = 1_702_592_000;
    expect(snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ cancel_at_period_end: true }))).cancelAtPeriodEnd).toBe(true);
    expect(snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ cancel_at: at }))).cancelAtPeriodEnd).toBe(true);
    expect(snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ cancel_at: at, status: "canceled" }))).cancelAtPeriodEnd).toBe(false);
  });

  it("keeps cancel_at as cancelAt, also when it falls before the period end", () => {
    const before = 1_701_000_000; // inside the current period (which ends 1_702_592_000)
    expect(snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ cancel_at: before }))).cancelAt).toBe(before * 1000);
    expect(snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ cancel_at: null, cancel_at_period_end: true }))).cancelAt).toBeNull();
    expect(snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ cancel_at: "soon" }))).cancelAt).toBeNull();
    const { cancel_at: _omitted, ...withoutCancelAt } = subscriptionObject();
    expect(snapshotOf(normalize("customer.subscription.updated", withoutCancelAt)).cancelAt).toBeNull();
  });

  it("spans several items' periods and falls back from price to plan ids", () => {
    const items = {
      object: "list",
      data: [
        { id: "si_a", current_period_start: 200, current_period_end: 900, plan: { id: "plan_a" } },
        { id: "si_b", current_period_start: 100, current_period_end: 1000, price: { id: "price_b" } },
      ],
    };
    const snapshot = snapshotOf(normalize("customer.subscription.updated", subscriptionObject({ current_period_start: undefined, current_period_end: undefined, items })));
    expect(snapshot).toMatchObject({ currentPeriodStart: 100_000, currentPeriodEnd: 1_000_000, priceIds: ["plan_a", "price_b"] });
  });

  it("puts the app user key first, from the configured metadata keys in order", () => {
    const event = normalize("customer.subscription.created", subscriptionObject({ metadata: { userId: "u_second", user_id: "u_first" } }));
    expect(event.facts[0]).toMatchObject({ appUserId: "u_first", keys: ["app:u_first", "customer:stripe:cus_unit", "subscription:stripe:sub_unit"] });
    const blank = normalize("customer.subscription.created", subscriptionObject({ metadata: { user_id: "  ", userId: "u_second" } }));
    expect(blank.facts[0]).toMatchObject({ appUserId: "u_second" });
  });

  it("prefers client_reference_id over metadata on a checkout", () => {
    const event = normalize("checkout.session.completed", checkoutObject({ client_reference_id: "u_ref", metadata: { user_id: "u_meta" } }));
    expect(event.facts[0]).toMatchObject({ appUserId: "u_ref", keys: ["app:u_ref", "customer:stripe:cus_unit", "checkout:stripe:cs_unit", "payment:stripe:pi_unit"] });
  });

  it.each([
    ["metadata price_id", { metadata: { price_id: "price_x" } }, ["price_x"]],
    ["metadata price_ids", { metadata: { price_ids: "price_x, price_y,,price_x" } }, ["price_x", "price_y"]],
    ["expanded line items", { line_items: { object: "list", data: [{ price: { id: "price_z" } }], has_more: false } }, ["price_z"]],
    ["a truncated line item list", { line_items: { object: "list", data: [{ price: { id: "price_z" } }], has_more: true } }, null],
    ["nothing", {}, null],
  ])("reads checkout price ids from %s", (_name, overrides, expected) => {
    const payload = { type: "checkout.session.completed", data: { object: checkoutObject(overrides) } };
    expect(normalize("checkout.session.completed", checkoutObject(overrides)).facts[0]).toMatchObject({ priceIds: expected });
    expect(checkoutNeedingLineItems(payload)).toBe(expected === null ? "cs_unit" : null);
  });

  it("yields nothing for a setup-mode checkout and marks an unpaid one unpaid", () => {
    expect(normalize("checkout.session.completed", checkoutObject({ mode: "setup" })).facts).toEqual([]);
    expect(normalize("checkout.session.completed", checkoutObject({ payment_status: "unpaid" })).facts[0]).toMatchObject({ paid: false });
    expect(normalize("checkout.session.completed", checkoutObject({ payment_status: "no_payment_required" })).facts[0]).toMatchObject({ paid: true });
  });

  it("counts a refund while it is succeeded or pending, and a failed or canceled one as nothing", () => {
    const refund = (status: string) => ({ id: "re_unit", object: "refund", amount: 300, charge: "ch_unit", payment_intent: "pi_unit", currency: "usd", status });
    expect(normalize("refund.updated", refund("pending")).facts[0]).toMatchObject({ refunds: { re_unit: 300 }, totalRefunded: null, keys: ["payment:stripe:ch_unit", "payment:stripe:pi_unit"] });
    expect(normalize("refund.updated", refund("failed")).facts[0]!).toHaveProperty("refunds", { re_unit: 0 });
    expect(normalize("refund.updated", refund("canceled")).facts[0]!).toHaveProperty("refunds", { re_unit: 0 });
    expect(normalize("refund.updated", refund("requires_action")).facts[0]!).toHaveProperty("refunds", {});
    expect(normalize("charge.refund.updated", refund("succeeded")).facts[0]).toMatchObject({ refunds: { re_unit: 300 } });
  });

  it("maps invoice billing reasons", () => {
    const invoice = (billing_reason: string, subscription: string | null) => ({ id: "in_unit", object: "invoice", customer: "cus_unit", subscription, billing_reason, amount_paid: 100, currency: "usd" });
    expect(normalize("invoice.paid", invoice("subscription_create", "sub_unit")).facts[0]).toMatchObject({ reason: "subscription_create" });
    expect(normalize("invoice.payment_succeeded", invoice("manual", "sub_unit")).facts[0]).toMatchObject({ reason: "other" });
    expect(normalize("invoice.paid", invoice("subscription_cycle", null)).facts[0]).toMatchObject({ reason: "one_time" });
  });

  it("orders same-second events by their hints: create, then the update that left its state, then delete", () => {
    const created = normalize("customer.subscription.created", subscriptionObject({ status: "incomplete" }), { id: "evt_c" });
    const activated = normalize("customer.subscription.updated", subscriptionObject({ status: "active" }), { id: "evt_b", previous: { status: "incomplete" } });
    const pastDue = normalize("customer.subscription.updated", subscriptionObject({ status: "past_due" }), { id: "evt_a", previous: { status: "active" } });
    expect(pastDue.hint).toMatchObject({ object: "stripe:subscription:sub_unit", phase: "update", left: { status: "active" }, version: 1_700_000_000 });
    const { state } = replayEvents(catalog, [pastDue, activated, created]);
    expect(state.subscriptions.get("stripe:sub_unit")?.status).toBe("past_due");
  });

  it("gives unknown types a hint and no facts", () => {
    const event = normalize("payment_intent.created", { id: "pi_unit", object: "payment_intent", status: "requires_payment_method" });
    expect(event).toMatchObject({ provider: "stripe", eventId: "evt_unit", facts: [], hint: { object: "stripe:payment_intent:pi_unit", phase: "create" } });
  });

  it("ignores a line-items event whose id does not name a session", () => {
    const event = normalizeStripeEvent({ providerEventId: "evt_not_line_items", type: LINE_ITEMS_EVENT_TYPE, occurredAt: 0, payload: { object: "list", data: [] } }, options);
    expect(event.facts).toEqual([]);
  });

  const handledTypes = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    LINE_ITEMS_EVENT_TYPE,
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "refund.created",
    "something.unknown",
  ];
  const oddPayloads: unknown[] = [
    null,
    42,
    "text",
    [],
    {},
    { data: null },
    { data: { object: [] } },
    { data: { object: { id: 5, status: {}, items: "no", lines: { data: [null, 3, { price: 7 }] }, refunds: { data: [{ id: "__proto__", amount: 1, status: "succeeded" }] } } } },
    { data: { object: { id: "x", metadata: "no", customer: { id: ["no"] }, current_period_start: "1", mode: "payment" }, previous_attributes: [1] } },
  ];

  it.each(handledTypes)("never throws on odd %s payloads", (type) => {
    for (const payload of oddPayloads) {
      const event = normalizeStripeEvent({ providerEventId: "line_items:cs_x", type, occurredAt: 0, payload }, options);
      for (const fact of event.facts) expect(fact.keys.length).toBeGreaterThan(0);
      expect(() => replayEvents(catalog, [event])).not.toThrow();
    }
  });
});
