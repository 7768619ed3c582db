// Lemon Squeezy conformance: every published Lemon Squeezy fixture, read in place, signed here,
// verified, decoded, normalized and folded by the real resolver, with the resulting state asserted
// per file. Fixtures come from $VERITY_FIXTURES (default ../shared/fixtures/providers next to the repo).
// SOURCES.md caveats honoured: `meta` holds only `event_name` (no custom data, so no app user id);
// subscription_updated is subscription_created with another event name; the refunded invoice's
// `refunded_amount_usd: 9.999` and `refunded_amount_formatted: "$0.00"` are hand-edit artefacts
// that must not be read (the amount is `refunded_amount`, in cents).
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import type { NormalizedEvent } from "../../src/domain/event.js";
import type { FactTag } from "../../src/domain/facts.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { normalizeLemonSqueezyEvent } from "../../src/providers/lemonsqueezy/normalize.js";
import { lemonSqueezySignature, verifyLemonSqueezySignature } from "../../src/providers/lemonsqueezy/verify.js";
import { stored } from "../builders/lemonsqueezy.js";
import { foldAlone, onlyUser, planFor, tagsOf, type Outcome } from "../support/conformance.js";
import { providerFixtures } from "../support/fixtures.js";
import { expectSignedBy } from "../support/signatures.js";

const fixtures = providerFixtures("lemonsqueezy", "Lemon Squeezy");

// ── test catalog: the fixtures' variant ids mapped to plans ─────────────────────────────────

const plan = planFor("lemonsqueezy");

// order_created buys variant 1 ("Product One", one-time); the subscription is on variant 2.
const catalog: Catalog = {
  plans: { lifetime: plan("lifetime", ["1"], true), pro: plan("pro", ["2"]) },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id", "userId"],
};
const options = { userIdKeys: catalog.userIdKeys };

// ── pipeline: what ingest + replay do with one delivery ─────────────────────────────────────

const SECRET = "SUBSCRIPTION_SECRET_conformance";
const WRONG_SECRET = "not_this_webhook_secret";

/** Signs the exact file bytes, checks both verdicts, then decodes and normalizes. */
const signedEvent = (file: string): NormalizedEvent => {
  const raw = fixtures.bytes(file);
  const header = lemonSqueezySignature(raw, SECRET);
  expectSignedBy((secrets) => verifyLemonSqueezySignature({ rawBody: raw, header, secrets }), SECRET, WRONG_SECRET);
  return normalizeLemonSqueezyEvent(stored(JSON.parse(raw.toString("utf8"))), options);
};

const runSignedFixture = (file: string): Outcome => foldAlone(catalog, fixtures.json(file), signedEvent(file));

const at = (iso: string): number => Date.parse(iso);

// ── expectations per fixture ────────────────────────────────────────────────────────────────

type Row = { readonly file: string; readonly type: string; readonly facts: readonly FactTag[]; readonly check: (outcome: Outcome) => void };

const trialSubscription = {
  status: "trialing",
  providerStatus: "on_trial",
  plan: "pro",
  priceIds: ["2"],
  currentPeriodStart: null,
  currentPeriodEnd: at("2023-01-24T12:43:48Z"),
  trialStart: at("2023-01-17T12:43:50Z"),
  trialEnd: at("2023-01-24T12:43:48Z"),
  startedAt: at("2023-01-17T12:43:50Z"),
  cancelAtPeriodEnd: false,
  cancelAt: null,
  canceledAt: null,
  endedAt: null,
  ended: false,
  updatedAt: at("2023-01-17T12:43:51Z"),
};

const subscriptionRow = (file: string, type: string, phase: "create" | "update"): Row => ({
  file,
  type,
  facts: ["CustomerSeen", "SubscriptionObserved"],
  check: ({ event, state }) => {
    expect(event.occurredAt).toBe(at("2023-01-17T12:43:51Z"));
    const sub = state.subscriptions.get("lemonsqueezy:1")!;
    expect(sub).toMatchObject(trialSubscription);
    // The first order (order_id 2) is named too, so it joins whichever event comes first.
    expect(onlyUser(state)).toMatchObject({
      id: sub.userId,
      appUserId: null,
      email: "dan@lemonsqueezy.com",
      status: "active",
      keys: ["customer:lemonsqueezy:2", "subscription:lemonsqueezy:1", "checkout:lemonsqueezy:orders/2"],
    });
    expect(event.hint).toMatchObject({ object: "lemonsqueezy:subscriptions:1", phase, left: null, version: at("2023-01-24T12:43:48Z") / 1000 });
  },
});

const rows: readonly Row[] = [
  {
    file: "order_created.json",
    type: "order_created",
    facts: ["CheckoutCompleted"],
    check: ({ event, state }) => {
      expect(event.occurredAt).toBe(at("2023-01-17T12:26:23Z"));
      expect(event.facts[0]).toMatchObject({ checkoutId: "orders/1", mode: "payment", customerId: "1", appUserId: null, subscriptionId: null, paid: true });
      expect(state.orders.get("lemonsqueezy:orders/1")).toEqual({
        id: "lemonsqueezy:orders/1",
        provider: "lemonsqueezy",
        providerId: "orders/1",
        userId: onlyUser(state).id,
        kind: "one_time",
        plan: "lifetime",
        priceIds: ["1"],
        subscriptionId: null,
        // `total` in cents, currency lower-cased as Stripe's.
        amount: 5899,
        amountRefunded: 0,
        currency: "usd",
        status: "paid",
        paidAt: at("2023-01-17T12:26:23Z"),
        paymentRefs: ["orders/1"],
      });
      expect(onlyUser(state)).toMatchObject({
        email: "dan@lemonsqueezy.com",
        status: "active",
        keys: ["customer:lemonsqueezy:1", "checkout:lemonsqueezy:orders/1", "payment:lemonsqueezy:orders/1"],
      });
      expect(event.hint).toMatchObject({ object: "lemonsqueezy:orders:1", phase: "create", version: null });
    },
  },
  subscriptionRow("subscription_created.json", "subscription_created", "create"),
  subscriptionRow("subscription_updated.json", "subscription_updated", "update"),
  {
    file: "subscription_payment_success.json",
    type: "subscription_payment_success",
    facts: ["PaymentSucceeded"],
    check: ({ event, state }) => {
      expect(event.facts[0]).toMatchObject({ reason: "subscription_create", paymentRefs: ["subscription-invoices/1"] });
      expect(state.orders.get("lemonsqueezy:subscription-invoices/1")).toMatchObject({
        kind: "subscription",
        subscriptionId: "lemonsqueezy:1",
        // An invoice does not name its variant.
        plan: null,
        priceIds: [],
        amount: 999,
        amountRefunded: 0,
        currency: "usd",
        status: "paid",
        paidAt: at("2023-01-18T12:16:24Z"),
      });
      expect(onlyUser(state).keys).toEqual([
        "customer:lemonsqueezy:1",
        "subscription:lemonsqueezy:1",
        "invoice:lemonsqueezy:subscription-invoices/1",
        "payment:lemonsqueezy:subscription-invoices/1",
      ]);
      expect(event.hint).toMatchObject({ object: "lemonsqueezy:subscription-invoices:1", phase: "create" });
    },
  },
  {
    file: "subscription_payment_refunded.json",
    type: "subscription_payment_refunded",
    facts: ["RefundIssued"],
    check: ({ payload, event, state }) => {
      // 999 cents from `refunded_amount`; the artefacts beside it are not read.
      expect((payload as { data: { attributes: Record<string, unknown> } }).data.attributes["refunded_amount_usd"]).toBe(9.999);
      expect(event.facts[0]).toMatchObject({ paymentRefs: ["subscription-invoices/1"], refunds: {}, totalRefunded: 999, currency: "usd" });
      expect(state.refunds.toRecord()).toEqual({ "lemonsqueezy:subscription-invoices/1": { byId: {}, statedTotal: 999, counted: {} } });
      // The payment it refunds is not known from this event alone.
      expect(state.orders.toRecord()).toEqual({});
      expect(event.hint).toMatchObject({ object: "lemonsqueezy:subscription-invoices:1", phase: "update" });
    },
  },
];

describe.skipIf(!fixtures.exist)("Lemon Squeezy fixtures", () => {
  it("has an expectation for every fixture file, and a file for every expectation", () => {
    expect(fixtures.eventFiles()).toEqual(rows.map((r) => r.file).sort());
  });

  it.each(rows)("$file: verified, decoded, normalized and folded", (row) => {
    const outcome = runSignedFixture(row.file);
    expect(outcome.event.type).toBe(row.type);
    expect(tagsOf(outcome.event.facts)).toEqual(row.facts);
    for (const fact of outcome.event.facts) expect(fact.cause).toBe(`lemonsqueezy:${outcome.event.eventId}`);
    row.check(outcome);
  });

  it("folds the refund onto the paid invoice whichever arrives first", () => {
    const paid = signedEvent("subscription_payment_success.json");
    const refunded = signedEvent("subscription_payment_refunded.json");
    for (const events of [[paid, refunded], [refunded, paid]]) {
      const { state } = replayEvents(catalog, events);
      expect(state.orders.get("lemonsqueezy:subscription-invoices/1")).toMatchObject({ amount: 999, amountRefunded: 999, status: "refunded" });
    }
  });

  it("folds the whole set into one user, the same in every arrival order", () => {
    const events = fixtures.eventFiles().map(signedEvent);
    const reference = replayEvents(catalog, events).state;
    for (const order of [[...events].reverse(), [events[2]!, events[0]!, events[4]!, events[1]!, events[3]!]]) {
      expect(replayEvents(catalog, order).state).toEqual(reference);
    }
    // The samples reuse ids: invoice 1 of subscription 1 belongs to customer 1, subscription 1 to customer 2.
    const user = onlyUser(reference);
    expect(user.status).toBe("active");
    expect(reference.subscriptions.get("lemonsqueezy:1")).toMatchObject({ status: "trialing", plan: "pro" });
    expect(reference.orders.get("lemonsqueezy:orders/1")).toMatchObject({ status: "paid", plan: "lifetime", amount: 5899 });
    expect(reference.orders.get("lemonsqueezy:subscription-invoices/1")).toMatchObject({ status: "refunded", amountRefunded: 999 });
  });
});

describe.skipIf(!fixtures.exist)("derived event ids (Lemon Squeezy bodies carry none)", () => {
  const read = (file: string): Record<string, unknown> => fixtures.json(file) as Record<string, unknown>;
  const idOf = (payload: unknown): string => stored(payload).providerEventId;

  it("derives a readable, stable id: the same body gives the same id, however it is serialised", () => {
    const body = read("subscription_created.json");
    const id = idOf(body);
    expect(id).toMatch(/^subscription_created:subscriptions\/1:2023-01-17T12:43:51\.000Z:[0-9a-f]{16}$/);
    expect(idOf(read("subscription_created.json"))).toBe(id);
    const reordered = JSON.parse(JSON.stringify({ data: body["data"], meta: body["meta"] }));
    expect(idOf(reordered)).toBe(id);
  });

  it("gives different events different ids, even with one body or one object in one second", () => {
    const ids = fixtures.eventFiles().map((f) => idOf(read(f)));
    expect(new Set(ids).size).toBe(ids.length);
    // subscription_updated is subscription_created's body under another name.
    const created = read("subscription_created.json");
    expect(idOf({ ...created, meta: { event_name: "subscription_updated" } })).toBe(idOf(read("subscription_updated.json")));
    expect(idOf(read("subscription_updated.json"))).not.toBe(idOf(created));
    // Two changes of one subscription within its updated_at second are two events.
    const data = created["data"] as { attributes: Record<string, unknown> };
    const cancelled = { ...created, data: { ...data, attributes: { ...data.attributes, status: "cancelled", cancelled: true } } };
    expect(idOf(cancelled)).not.toBe(idOf(created));
  });

  it("ignores what differs between deliveries of one event: meta.webhook_id and the signed urls", () => {
    const created = read("subscription_created.json");
    const data = created["data"] as { attributes: Record<string, unknown> };
    const toWebhook = (webhookId: string) => ({ ...created, meta: { event_name: "subscription_created", webhook_id: webhookId } });
    expect(idOf(toWebhook("wh-a"))).toBe(idOf(created));
    expect(idOf(toWebhook("wh-b"))).toBe(idOf(toWebhook("wh-a")));
    const resigned = { ...created, data: { ...data, attributes: { ...data.attributes, urls: { customer_portal: "https://example.test/other?signature=x" } } } };
    expect(idOf(resigned)).toBe(idOf(created));
    // Custom data and test mode are part of the event.
    expect(idOf({ ...created, meta: { event_name: "subscription_created", custom_data: { user_id: "u1" } } })).not.toBe(idOf(created));
  });
});

describe.skipIf(!fixtures.exist)("derived signature vectors", () => {
  type Vector = { name: string; header_name: string; header_value: string; secret: string; raw_body: string; expected_valid: boolean };
  // Read only when present: a skipped describe still runs its body to collect the tests.
  const file = (fixtures.exist ? fixtures.json("signature_vectors.derived.json") : { published: false, vectors: [] }) as { published: boolean; vectors: Vector[] };

  it("are labelled as derived", () => {
    expect(file.published).toBe(false);
    expect(file.vectors.length).toBeGreaterThan(0);
  });

  it.each(file.vectors)("$name: X-Signature verifies as expected ($expected_valid)", (vector) => {
    expect(vector.header_name).toBe("X-Signature");
    const rawBody = Buffer.from(vector.raw_body, "utf8");
    const result = verifyLemonSqueezySignature({ rawBody, header: vector.header_value, secrets: [vector.secret] });
    expect(Either.isRight(result)).toBe(vector.expected_valid);
    if (vector.expected_valid) expect(lemonSqueezySignature(rawBody, vector.secret)).toBe(vector.header_value);
    else expect(Either.isLeft(result) && result.left.code).toBe("signature_mismatch");
  });
});
