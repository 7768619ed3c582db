// Creem conformance: every published Creem fixture, read in place, signed here, verified, decoded,
// normalized and folded by the real resolver, with the resulting state asserted per event type.
// Fixtures come from $VERITY_FIXTURES (default ../shared/fixtures/providers next to the repo).
// The samples are Creem's own docs examples, odd values included (see SOURCES.md, "Creem").
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import type { FactTag } from "../../src/domain/facts.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { creemDerivedEventId, decodeCreemEnvelope } from "../../src/providers/creem/envelope.js";
import { normalizeCreemEvent } from "../../src/providers/creem/normalize.js";
import { creemSignatureHeader, verifyCreemSignature } from "../../src/providers/creem/verify.js";
import { storedEvent } from "../builders/creem.js";
import { dig, foldAlone, onlyUser, planFor, tagsOf, type Outcome } from "../support/conformance.js";
import { providerFixtures } from "../support/fixtures.js";
import { expectSignedBy, failureOf } from "../support/signatures.js";

const fixtures = providerFixtures("creem", "Creem");

// ── test catalog: the fixtures' product ids mapped to plans ─────────────────────────────────

const plan = planFor("creem");

const PRODUCT = {
  monthly: "prod_d1AY2Sadk9YAvLI0pj97f",
  product01: "prod_AnVJ11ujp7x953ARpJvAF",
  yearly: "prod_3ELsC3Lt97orn81SOdgQI3",
  paused: "prod_sYwbyE1tPbsqbLu6S0bsR",
  trial: "prod_3kpf0ZdpcfsSCQ3kDiwg9m",
  // subscription.update: the subscription's product and its (older) item's product differ.
  upgraded: "prod_1dP15yoyogQe2seEt1Evf3",
  original: "prod_5jnudVkLGZWF4AqMFBs5t5",
  disputed: "prod_3EFtQRQ9SNIizK3xwfxZHu",
} as const;

const catalog: Catalog = {
  plans: Object.fromEntries(Object.entries(PRODUCT).map(([code, product]) => [code, plan(code, [product])])),
  grace: { pastDueDays: 3 },
  // The samples' metadata carries `internal_customer_id`: an operator would list it here.
  userIdKeys: ["user_id", "userId", "internal_customer_id"],
};
const options = { userIdKeys: catalog.userIdKeys };
const APP_ID = "internal_customer_id";

// ── pipeline: what ingest + replay do with one delivery ─────────────────────────────────────

const SECRET = "whsec_conformance_test_secret";
const WRONG_SECRET = "whsec_not_this_endpoint";

/** Decodes the envelope and normalizes one stored event. */
const normalizePayload = (payload: unknown): NormalizedEvent => normalizeCreemEvent(storedEvent(payload), options);

const normalizeAndFold = (payload: unknown): Outcome => foldAlone(catalog, payload, normalizePayload(payload));

/** Signs the exact file bytes (Creem signs the raw body, nothing else), checks both verdicts, then normalizes and folds. */
const runSignedFixture = (file: string): Outcome => {
  const raw = fixtures.bytes(file);
  const header = creemSignatureHeader(raw, SECRET);
  expectSignedBy((secrets) => verifyCreemSignature({ rawBody: raw, header, secrets }), SECRET, WRONG_SECRET);
  expect(verifyCreemSignature({ rawBody: raw, header, secrets: [WRONG_SECRET, SECRET] })).toEqual(Either.right(true));
  const compact = Buffer.from(JSON.stringify(JSON.parse(raw.toString("utf8"))));
  expect(failureOf(verifyCreemSignature({ rawBody: compact, header, secrets: [SECRET] })).code).toBe("signature_mismatch");
  return normalizeAndFold(JSON.parse(raw.toString("utf8")));
};

const ms = (iso: string): number => Date.parse(iso);

// ── expectations per fixture ────────────────────────────────────────────────────────────────

type Row = { readonly file: string; readonly facts: readonly FactTag[]; readonly check: (outcome: Outcome) => void };

const SUB = "sub_6pC2lNB6joCRQIZ1aMrTpi";
const CUSTOMER = "customer:creem:cust_1OcIK1GEuVvXZwD19tjq2z";

const rows: readonly Row[] = [
  {
    file: "checkout.completed.json",
    facts: ["CheckoutCompleted"],
    check: ({ event, state }) => {
      // order.type "recurring": the subscription's own events (subscription.paid) carry the payment.
      expect(event.facts[0]).toMatchObject({
        mode: "subscription",
        checkoutId: "ch_4l0N34kxo16AhRKUHFUuXr",
        subscriptionId: SUB,
        appUserId: APP_ID,
        email: "customer@emaildomain",
        priceIds: [PRODUCT.monthly],
        amount: 1000,
        currency: "EUR",
        paid: true,
        paymentRefs: ["ord_4aDwWXjMLpes4Kj4XqNnUA"],
      });
      expect(state.orders.toRecord()).toEqual({});
      expect(onlyUser(state)).toMatchObject({
        appUserId: APP_ID,
        email: "customer@emaildomain",
        status: "inactive",
        keys: [`app:${APP_ID}`, CUSTOMER, "checkout:creem:ch_4l0N34kxo16AhRKUHFUuXr", `subscription:creem:${SUB}`, "payment:creem:ord_4aDwWXjMLpes4Kj4XqNnUA"],
      });
      expect(event.hint).toMatchObject({ object: "creem:checkout:ch_4l0N34kxo16AhRKUHFUuXr", phase: "create", version: null });
    },
  },
  {
    file: "subscription.active.json",
    facts: ["SubscriptionObserved"],
    check: ({ event, state }) => {
      // Oddity: a non-null canceled_at on an active subscription. The status decides; the date is dropped.
      expect(state.subscriptions.get("creem:sub_21lfZb67szyvMiXnm6SVi0")).toMatchObject({
        status: "active",
        providerStatus: "active",
        plan: "product01",
        canceledAt: null,
        cancelAtPeriodEnd: false,
        startedAt: ms("2024-09-16T19:40:41.984Z"),
        currentPeriodStart: null,
        currentPeriodEnd: null,
        ended: false,
      });
      expect(onlyUser(state)).toMatchObject({ status: "active", appUserId: null, keys: ["customer:creem:cust_3biFPNt4Cz5YRDSdIqs7kc", "subscription:creem:sub_21lfZb67szyvMiXnm6SVi0"] });
      expect(event.hint).toMatchObject({ object: "creem:subscription:sub_21lfZb67szyvMiXnm6SVi0", phase: "create", version: ms("2024-09-16T19:40:42.121Z") });
    },
  },
  {
    file: "subscription.paid.json",
    facts: ["SubscriptionObserved", "PaymentSucceeded"],
    check: ({ event, state }) => {
      expect(state.subscriptions.get(`creem:${SUB}`)).toMatchObject({
        status: "active",
        plan: "monthly",
        currentPeriodStart: ms("2024-10-12T11:58:38.000Z"),
        currentPeriodEnd: ms("2024-11-12T11:58:38.000Z"),
      });
      expect(event.facts[1]).toMatchObject({ reason: "subscription_create", paymentRefs: ["tran_5yMaWzAl3jxuGJMCOrYWwk"] });
      // The subscription object states no charged amount: the product's list price is the order amount.
      expect(state.orders.get("creem:tran_5yMaWzAl3jxuGJMCOrYWwk")).toMatchObject({
        kind: "subscription",
        subscriptionId: `creem:${SUB}`,
        plan: "monthly",
        amount: 1000,
        currency: "EUR",
        status: "paid",
        amountRefunded: 0,
      });
      expect(onlyUser(state)).toMatchObject({ appUserId: APP_ID, status: "active" });
      expect(onlyUser(state).keys).toContain("invoice:creem:tran_5yMaWzAl3jxuGJMCOrYWwk");
    },
  },
  {
    file: "subscription.trialing.json",
    facts: ["SubscriptionObserved"],
    check: ({ state }) => {
      expect(state.subscriptions.get("creem:sub_dxiauR8zZOwULx5QM70wJ")).toMatchObject({
        status: "trialing",
        plan: "trial",
        trialStart: ms("2025-02-19T11:18:25.000Z"),
        trialEnd: ms("2025-02-26T11:18:25.000Z"),
        currentPeriodEnd: ms("2025-02-26T11:18:25.000Z"),
      });
      expect(onlyUser(state).status).toBe("active");
    },
  },
  {
    file: "subscription.update.json",
    facts: ["SubscriptionObserved"],
    check: ({ state }) => {
      // The subscription's product comes first, so it names the plan; the item's older product follows.
      expect(state.subscriptions.get("creem:sub_2qAuJgWmXhXHAuef9k4Kur")).toMatchObject({
        status: "active",
        plan: "upgraded",
        priceIds: [PRODUCT.upgraded, PRODUCT.original],
        currentPeriodEnd: ms("2025-02-26T11:20:36.000Z"),
      });
    },
  },
  {
    file: "subscription.scheduled_cancel.json",
    facts: ["SubscriptionObserved"],
    check: ({ state }) => {
      expect(state.subscriptions.get(`creem:${SUB}`)).toMatchObject({
        status: "active",
        providerStatus: "scheduled_cancel",
        cancelAtPeriodEnd: true,
        cancelAt: null,
        currentPeriodEnd: ms("2024-11-12T11:58:38.000Z"),
        plan: "monthly",
        ended: false,
      });
      expect(onlyUser(state).status).toBe("active");
    },
  },
  {
    file: "subscription.past_due.json",
    facts: ["SubscriptionObserved", "PaymentFailed"],
    check: ({ event, state, transitions }) => {
      const sub = state.subscriptions.get(`creem:${SUB}`)!;
      expect(sub).toMatchObject({ status: "past_due", providerStatus: "past_due", pastDueSince: event.occurredAt, plan: "monthly" });
      expect(event.facts[1]).toMatchObject({ paymentId: `${SUB}@2024-11-12T11:58:38.000Z`, amount: 1000, currency: "EUR" });
      expect(transitions).toContainEqual(expect.objectContaining({ entity: "payment", entityId: `creem:${SUB}@2024-11-12T11:58:38.000Z`, to: "failed" }));
      // Grace (3 days) still grants the plan.
      expect(onlyUser(state).status).toBe("active");
    },
  },
  {
    file: "subscription.paused.json",
    facts: ["SubscriptionObserved"],
    check: ({ state }) => {
      expect(state.subscriptions.get("creem:sub_3ZT1iYMeDBpiUpRTqq4veE")).toMatchObject({ status: "canceled", providerStatus: "paused", plan: "paused", ended: false });
      expect(onlyUser(state).status).toBe("inactive");
    },
  },
  {
    file: "subscription.canceled.json",
    facts: ["SubscriptionEnded"],
    check: ({ event, state }) => {
      expect(state.subscriptions.get(`creem:${SUB}`)).toMatchObject({
        status: "canceled",
        providerStatus: "canceled",
        canceledAt: ms("2024-10-12T11:58:57.813Z"),
        endedAt: ms("2024-10-12T11:58:57.813Z"),
        ended: true,
      });
      expect(onlyUser(state).status).toBe("inactive");
      expect(event.hint.phase).toBe("terminal");
    },
  },
  {
    file: "subscription.expired.json",
    facts: ["SubscriptionObserved"],
    check: ({ event, state }) => {
      // Oddity: the sample says status "active". The event type decides: access ended at the period end.
      expect(dig(event, "facts", 0, "snapshot", "providerStatus")).toBe("expired");
      expect(state.subscriptions.get("creem:sub_7FgHvrOMC28tG5DEemoCli")).toMatchObject({
        status: "canceled",
        providerStatus: "expired",
        plan: "yearly",
        endedAt: ms("2024-12-16T12:39:47.000Z"),
        // Not terminal: Creem says payment retries can still revive an expired subscription.
        ended: false,
      });
      expect(onlyUser(state).status).toBe("inactive");
    },
  },
  {
    file: "refund.created.json",
    facts: ["RefundIssued"],
    check: ({ event, state }) => {
      expect(event.facts[0]).toMatchObject({
        paymentRefs: ["tran_5yMaWzAl3jxuGJMCOrYWwk", "ord_4aDwWXjMLpes4Kj4XqNnUA"],
        refunds: { ref_3DB9NQFvk18TJwSqd0N6bd: 1210 },
        totalRefunded: 1210,
        currency: "EUR",
      });
      const ledger = { byId: { ref_3DB9NQFvk18TJwSqd0N6bd: 1210 }, statedTotal: 1210, counted: { ref_3DB9NQFvk18TJwSqd0N6bd: 1210 } };
      expect(state.refunds.toRecord()).toEqual({ "creem:tran_5yMaWzAl3jxuGJMCOrYWwk": ledger, "creem:ord_4aDwWXjMLpes4Kj4XqNnUA": ledger });
      expect(state.orders.toRecord()).toEqual({});
      expect(onlyUser(state).keys).toEqual([
        `app:${APP_ID}`,
        CUSTOMER,
        "checkout:creem:ch_4l0N34kxo16AhRKUHFUuXr",
        `subscription:creem:${SUB}`,
        "payment:creem:tran_5yMaWzAl3jxuGJMCOrYWwk",
        "payment:creem:ord_4aDwWXjMLpes4Kj4XqNnUA",
      ]);
    },
  },
  {
    file: "dispute.created.json",
    facts: ["RefundIssued"],
    check: ({ event, state }) => {
      // A chargeback takes the disputed amount back: it counts as refunded.
      expect(event.facts[0]).toMatchObject({
        paymentRefs: ["tran_4Dk8CxWFdceRUQgMFhCCXX", "ord_57bf8042UmG8fFypxZrfnj"],
        refunds: { disp_6vSsOdTANP5PhOzuDlUuXE: 1331 },
        totalRefunded: 1331,
        currency: "EUR",
      });
      expect(onlyUser(state).keys).toContain("customer:creem:cust_OJPZd2GMxgo1MGPNXXBSN");
      expect(event.hint).toMatchObject({ object: "creem:dispute:disp_6vSsOdTANP5PhOzuDlUuXE", phase: "create" });
    },
  },
];

const withChanges = (payload: unknown, change: (copy: { id: string; eventType: string; created_at: number; object: Record<string, unknown> }) => void): unknown => {
  const copy = structuredClone(payload) as { id: string; eventType: string; created_at: number; object: Record<string, unknown> };
  change(copy);
  return copy;
};

// ── the suite ───────────────────────────────────────────────────────────────────────────────

describe.skipIf(!fixtures.exist)(`Creem conformance over published fixtures (${fixtures.dir})`, () => {
  it("has an expectation for every fixture", () => {
    expect(rows.map((r) => r.file).sort()).toEqual(fixtures.eventFiles());
  });

  it.each(rows)("$file: signed, verified, decoded, normalized and folded", (row) => {
    const outcome = runSignedFixture(row.file);
    expect(outcome.event).toMatchObject({ provider: "creem", eventId: dig(outcome.payload, "id"), type: dig(outcome.payload, "eventType"), occurredAt: dig(outcome.payload, "created_at") });
    expect(tagsOf(outcome.event.facts)).toEqual(row.facts);
    for (const fact of outcome.event.facts) {
      expect(fact).toMatchObject({ at: outcome.event.occurredAt, cause: `creem:${outcome.event.eventId}`, provider: "creem" });
      expect(fact.keys.length).toBeGreaterThan(0);
    }
    row.check(outcome);
  });

  it("checks the derived signature vectors", () => {
    const file = fixtures.json("signature_vectors.derived.json") as {
      vectors: { name: string; header_name: string; header_value: string; secret: string; raw_body: string; expected_valid: boolean }[];
    };
    expect(file.vectors.length).toBeGreaterThan(0);
    for (const vector of file.vectors) {
      expect(vector.header_name).toBe("creem-signature");
      const result = verifyCreemSignature({ rawBody: Buffer.from(vector.raw_body, "utf8"), header: vector.header_value, secrets: [vector.secret] });
      expect({ name: vector.name, valid: Either.isRight(result) }).toEqual({ name: vector.name, valid: vector.expected_valid });
      if (Either.isLeft(result)) expect(result.left.code).toBe("signature_mismatch");
      // Our signer computes the published value for the valid body.
      if (vector.expected_valid) expect(creemSignatureHeader(vector.raw_body, vector.secret)).toBe(vector.header_value);
    }
  });

  it("folds the samples of one subscription into its whole life, whatever the arrival order", () => {
    // checkout → paid → scheduled_cancel / past_due / canceled (the three share one created_at) → refund.
    const files = ["checkout.completed.json", "subscription.paid.json", "subscription.scheduled_cancel.json", "subscription.past_due.json", "subscription.canceled.json", "refund.created.json"];
    const events = files.map((f) => normalizePayload(fixtures.json(f)));
    expect(new Set(events.slice(2, 5).map((e) => e.occurredAt)).size).toBe(1);
    for (const order of [events, [...events].reverse(), [events[4]!, events[2]!, events[5]!, events[0]!, events[3]!, events[1]!]]) {
      const { state } = replayEvents(catalog, order);
      // The terminal event is last among the tied ones, so the end holds.
      expect(state.subscriptions.get(`creem:${SUB}`)).toMatchObject({ status: "canceled", providerStatus: "canceled", ended: true, plan: "monthly" });
      // The refund names the transaction subscription.paid recorded: 1210 back of a 1000 list price is a full refund.
      expect(state.orders.get("creem:tran_5yMaWzAl3jxuGJMCOrYWwk")).toMatchObject({ amount: 1000, amountRefunded: 1000, status: "refunded" });
      expect(onlyUser(state)).toMatchObject({ appUserId: APP_ID, email: "customer@emaildomain", status: "inactive" });
    }
  });

  it("records a one-time checkout as an order that a refund of its order id finds, and a dispute takes a lifetime grant back", () => {
    const lifetimeCatalog: Catalog = { ...catalog, plans: { ...catalog.plans, monthly: plan("monthly", [PRODUCT.monthly], true) } };
    // The checkout sample as a one-time purchase: no subscription, order.type "onetime".
    const oneTime = withChanges(fixtures.json("checkout.completed.json"), (c) => {
      (c.object["order"] as Record<string, unknown>)["type"] = "onetime";
      delete c.object["subscription"];
    });
    const checkoutEvent = normalizePayload(oneTime);
    expect(checkoutEvent.facts[0]).toMatchObject({ _tag: "CheckoutCompleted", mode: "payment", subscriptionId: null, paymentRefs: ["ord_4aDwWXjMLpes4Kj4XqNnUA"] });
    const bought = replayEvents(lifetimeCatalog, [checkoutEvent]).state;
    expect(bought.orders.get("creem:ch_4l0N34kxo16AhRKUHFUuXr")).toMatchObject({ kind: "one_time", plan: "monthly", amount: 1000, status: "paid" });
    expect(onlyUser(bought).status).toBe("active");

    // A one-time refund: its transaction names no subscription; the order id joins it to the checkout.
    const partial = withChanges(fixtures.json("refund.created.json"), (r) => {
      r.object["refund_amount"] = 400;
      const transaction = r.object["transaction"] as Record<string, unknown>;
      transaction["refunded_amount"] = 400;
      transaction["subscription"] = null;
      delete r.object["subscription"];
    });
    for (const events of [[checkoutEvent, normalizePayload(partial)], [normalizePayload(partial), checkoutEvent]]) {
      const { state } = replayEvents(lifetimeCatalog, events);
      expect(state.orders.get("creem:ch_4l0N34kxo16AhRKUHFUuXr")).toMatchObject({ amountRefunded: 400, status: "partially_refunded" });
      expect(onlyUser(state).status).toBe("active");
    }
    const full = replayEvents(lifetimeCatalog, [checkoutEvent, normalizePayload(fixtures.json("refund.created.json"))]).state;
    expect(full.orders.get("creem:ch_4l0N34kxo16AhRKUHFUuXr")).toMatchObject({ amountRefunded: 1000, status: "refunded" });
    expect(onlyUser(full).status).toBe("inactive");

    // The dispute sample, aimed at this order: a chargeback ends the lifetime grant.
    const dispute = withChanges(fixtures.json("dispute.created.json"), (d) => {
      (d.object["transaction"] as Record<string, unknown>)["order"] = "ord_4aDwWXjMLpes4Kj4XqNnUA";
      (d.object["order"] as Record<string, unknown>)["id"] = "ord_4aDwWXjMLpes4Kj4XqNnUA";
      (d.object["customer"] as Record<string, unknown>)["id"] = "cust_1OcIK1GEuVvXZwD19tjq2z";
      (d.object["transaction"] as Record<string, unknown>)["customer"] = "cust_1OcIK1GEuVvXZwD19tjq2z";
    });
    const disputed = replayEvents(lifetimeCatalog, [checkoutEvent, normalizePayload(dispute)]).state;
    expect(disputed.orders.get("creem:ch_4l0N34kxo16AhRKUHFUuXr")).toMatchObject({ status: "refunded", amountRefunded: 1000 });
    expect(onlyUser(disputed).status).toBe("inactive");
  });

  it("lets a later payment revive an expired subscription (expired is not terminal at Creem)", () => {
    const expired = normalizePayload(fixtures.json("subscription.expired.json"));
    const renewed = normalizePayload(
      withChanges(fixtures.json("subscription.expired.json"), (e) => {
        e.id = "evt_renewed_after_expiry";
        e.eventType = "subscription.paid";
        e.created_at += 3_600_000;
      }),
    );
    const { state } = replayEvents(catalog, [renewed, expired]);
    expect(state.subscriptions.get("creem:sub_7FgHvrOMC28tG5DEemoCli")).toMatchObject({ status: "active", providerStatus: "active", ended: false });
    expect(state.orders.get("creem:tran_6ZeTvMqMkGdAIIjw5aAcnh")).toMatchObject({ amount: 1200, status: "paid", plan: "yearly" });
  });

  it("derives a stable id for a body without one: the same for a redelivery, another for another event", () => {
    const payload = fixtures.json("subscription.paid.json") as Record<string, unknown>;
    const { id: _id, ...withoutId } = payload;
    const first = decodeCreemEnvelope(withoutId);
    const again = decodeCreemEnvelope(JSON.parse(JSON.stringify(withoutId, null, 4)));
    const reordered = decodeCreemEnvelope(Object.fromEntries(Object.entries(withoutId).reverse()));
    expect(Either.isRight(first) && first.right.providerEventId).toMatch(/^derived_[0-9a-f]{16}$/);
    expect(again).toEqual(first);
    expect(reordered).toEqual(first);
    expect(decodeCreemEnvelope({ ...withoutId, id: null })).toEqual(first);
    const other = decodeCreemEnvelope(fixtures.json("subscription.past_due.json") as object);
    const otherWithoutId = decodeCreemEnvelope({ ...(fixtures.json("subscription.past_due.json") as object), id: undefined });
    expect(Either.isRight(other) && other.right.providerEventId).toBe("evt_7HkTd800rHX7GCampi4Nt9");
    expect(Either.isRight(otherWithoutId) && otherWithoutId.right.providerEventId).not.toBe(Either.isRight(first) && first.right.providerEventId);
    const changedAmount = withChanges(withoutId, (c) => {
      (c.object["product"] as Record<string, unknown>)["price"] = 1001;
    });
    expect(decodeCreemEnvelope(changedAmount)).not.toEqual(first);
    expect(creemDerivedEventId(withoutId)).toBe(Either.isRight(first) && first.right.providerEventId);
  });

  it("normalizes the same stored event to the same result without touching it", () => {
    const payload = Object.freeze(fixtures.json("refund.created.json"));
    const before = structuredClone(payload);
    const first = normalizeAndFold(payload);
    expect(normalizeAndFold(payload)).toEqual(first);
    expect(payload).toEqual(before);
  });
});
