// Paddle Billing conformance: every published Paddle fixture, read in place, signed here (or, for
// the real signed bodies, checked against Paddle's own signatures), verified, decoded, normalized
// and folded by the real resolver, with the resulting state asserted per file.
// Fixtures come from $VERITY_FIXTURES (default ../shared/fixtures/providers next to the repo).
// Caveats from SOURCES.md that the rows below respect:
// - the full bodies are the node SDK's mocks (Aug 2023 sandbox); data_only/ is a newer set (Apr 2024)
//   whose files are only the `data` member: each is wrapped here in an envelope built by the test
//   builder (event id `evt_data_only_<type>`, occurred_at = the entity's own updated_at);
// - events_api_sequence/ items are `GET /events` elements: no notification_id (valid), newest first;
// - signed/*.json carry one trailing newline that Paddle did not sign;
// - data_only/adjustment.updated is still pending_approval: no money moved in that file.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import { canonicalOrder } from "../../src/domain/canonical-order.js";
import type { FactTag } from "../../src/domain/facts.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { normalizePaddleEvent } from "../../src/providers/paddle/normalize.js";
import { paddleSignatureHeader, verifyPaddleSignature } from "../../src/providers/paddle/verify.js";
import { adjustment, paddleEvent, storedEvent, transaction, wrapData } from "../builders/paddle.js";
import { expectUnchanged, foldAlone, onlyUser, planFor, tagsOf, type Outcome } from "../support/conformance.js";
import { providerFixtures } from "../support/fixtures.js";
import { expectSignedBy } from "../support/signatures.js";

const fixtures = providerFixtures("paddle", "Paddle");

// ── test catalog: the fixtures' price ids mapped to plans ───────────────────────────────────

const PRO = "pri_01gsz8x8sawmvhz1pv30nge1ke"; // "ChatApp Pro", monthly per seat
const VOICE_ADDON = "pri_01h1vjfevh5etwq3rb416a23h2"; // recurring add-on, unmapped
const DOMAINS = "pri_01gsz98e27ak2tyhexptwc58yk"; // "Custom domains", one-time charge
const TRIAL_2023 = "pri_01h84cdy3xatsp16afda2gekzy";
const TRIAL_2024 = "pri_01hv0vax6rv18t4tamj848ne4d";

const plan = planFor("paddle");

const catalog: Catalog = {
  plans: {
    pro: plan("pro", [PRO]),
    starter: plan("starter", [TRIAL_2023, TRIAL_2024]),
    domains: plan("domains", [DOMAINS], true),
  },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id", "userId"],
};
const options = { userIdKeys: catalog.userIdKeys };

// ── pipeline: what ingest + replay do with one delivery ─────────────────────────────────────

const SECRET = "pdl_ntfset_01conformance_test_secret";
const WRONG_SECRET = "pdl_ntfset_01not_this_destination";

const ms = (isoMillis: string): number => {
  const t = Date.parse(isoMillis);
  if (Number.isNaN(t)) throw new Error(`bad test timestamp ${isoMillis}`);
  return t;
};

const occurredAtOf = (payload: unknown): string => {
  const value = (payload as { occurred_at?: unknown }).occurred_at;
  if (typeof value !== "string") throw new Error("fixture has no occurred_at");
  return value;
};

/** Decodes the envelope, normalizes and folds one event on its own. */
const normalizeAndFold = (payload: unknown, normalizeOptions = options): Outcome =>
  foldAlone(catalog, payload, normalizePaddleEvent(storedEvent(payload), normalizeOptions));

/** The bytes Paddle signed: the file, less the one trailing newline the signed/ files carry. */
const signedBytes = (file: string): Buffer => {
  const raw = fixtures.bytes(file);
  return file.startsWith("signed/") && raw.at(-1) === 0x0a ? raw.subarray(0, raw.length - 1) : raw;
};

/** Signs the exact bytes at the event's own second, checks both verdicts, then normalizes and folds. */
const runSignedFixture = (file: string): Outcome => {
  const raw = signedBytes(file);
  const payload: unknown = JSON.parse(raw.toString("utf8"));
  const ts = Math.floor(ms(occurredAtOf(payload).replace(/(\.\d{3})\d*Z$/, "$1Z")) / 1000);
  const header = paddleSignatureHeader(raw, SECRET, ts);
  expectSignedBy((secrets) => verifyPaddleSignature({ rawBody: raw, header, secrets, now: ts * 1000 }), SECRET, WRONG_SECRET);
  return normalizeAndFold(payload);
};

// ── expectations per file ───────────────────────────────────────────────────────────────────

type Row = { readonly file: string; readonly facts: readonly FactTag[]; readonly check: (outcome: Outcome) => void };

const SUB_2023 = "sub_01h7ht5z5wdg9pz18jx1fagp8k";
const CTM_2023 = "customer:paddle:ctm_01h7hswb86rtps5ggbq7ybydcw";
const ADJ_TXN = "txn_01h8bxpvx398a7zbawb77y0kp5";
const ADJ_KEYS = ["customer:paddle:ctm_01h8441jn5pcwrfhwh78jqt8hk", "subscription:paddle:sub_01h8bxswamxysj44zt5n48njwh", `payment:paddle:${ADJ_TXN}`];

const subscriptionRow = (file: string, tag: FactTag, expected: Record<string, unknown>, more?: (o: Outcome) => void): Row => ({
  file,
  facts: [tag],
  check: (outcome) => {
    expect(outcome.state.subscriptions.get(`paddle:${SUB_2023}`)).toMatchObject({ provider: "paddle", providerId: SUB_2023, ...expected });
    expect(onlyUser(outcome.state).keys.slice(0, 2)).toEqual([CTM_2023, `subscription:paddle:${SUB_2023}`]);
    more?.(outcome);
  },
});

const fullBodyRows: readonly Row[] = [
  {
    file: "adjustment.created.json",
    facts: ["RefundIssued"],
    check: ({ event, state }) => {
      // pending_approval: Paddle has not refunded anything yet.
      expect(event.facts[0]).toMatchObject({ paymentRefs: [ADJ_TXN], refunds: {}, totalRefunded: null, currency: "usd" });
      expect(state.refunds.toRecord()).toEqual({ [`paddle:${ADJ_TXN}`]: { byId: {}, statedTotal: null, counted: {} } });
      expect(state.orders.toRecord()).toEqual({});
      expect(onlyUser(state).keys).toEqual(ADJ_KEYS);
      expect(event.hint).toMatchObject({ object: "paddle:adjustment:adj_01h8c6tbrkpdd7vx61w7b1r0ap", phase: "create", left: null, version: 457_000 });
    },
  },
  {
    file: "adjustment.updated.json",
    facts: ["RefundIssued"],
    check: ({ event, state }) => {
      expect(event.facts[0]).toMatchObject({ refunds: { adj_01h8c6tbrkpdd7vx61w7b1r0ap: 100 }, currency: "usd" });
      expect(state.refunds.get(`paddle:${ADJ_TXN}`)).toEqual({ byId: { adj_01h8c6tbrkpdd7vx61w7b1r0ap: 100 }, statedTotal: null, counted: {} });
      expect(onlyUser(state).keys).toEqual(ADJ_KEYS);
      expect(event.hint.phase).toBe("update");
    },
  },
  {
    file: "customer.created.json",
    facts: ["CustomerSeen"],
    check: ({ payload, state }) => {
      // custom_data names `customer_reference_id`, which is not among the configured userIdKeys.
      expect(onlyUser(state)).toMatchObject({ keys: ["customer:paddle:ctm_01h8441jn5pcwrfhwh78jqt8hk"], email: "sam@example.com", appUserId: null, status: "inactive" });
      const configured = normalizeAndFold(payload, { userIdKeys: ["user_id", "customer_reference_id"] });
      expect(onlyUser(configured.state)).toMatchObject({ appUserId: "abcd1234", keys: ["app:abcd1234", "customer:paddle:ctm_01h8441jn5pcwrfhwh78jqt8hk"] });
    },
  },
  {
    file: "customer.updated.json",
    facts: ["CustomerSeen"],
    check: ({ event, state }) => {
      expect(onlyUser(state)).toMatchObject({ keys: ["customer:paddle:ctm_01h844p3h41s12zs5mn4axja51"], email: "alex@example.com", appUserId: null });
      expect(event.hint).toMatchObject({ object: "paddle:customer:ctm_01h844p3h41s12zs5mn4axja51", phase: "update", version: 823_000 });
    },
  },
  // Paddle's legacy invoices: paid through transactions, which carry the order.
  { file: "invoice.paid.json", facts: [], check: expectUnchanged },
  subscriptionRow("subscription.activated.json", "SubscriptionObserved", {
    status: "active",
    providerStatus: "active",
    plan: "pro",
    priceIds: [PRO, VOICE_ADDON],
    currentPeriodStart: ms("2023-08-11T08:07:35.449Z"),
    currentPeriodEnd: ms("2023-09-11T08:07:35.449Z"),
    cancelAtPeriodEnd: false,
    cancelAt: null,
    startedAt: ms("2023-08-11T08:07:35.449Z"),
    trialStart: null,
    ended: false,
  }, ({ state }) => expect(onlyUser(state).status).toBe("active")),
  subscriptionRow("subscription.canceled.json", "SubscriptionEnded", {
    status: "canceled",
    providerStatus: "canceled",
    plan: "pro",
    currentPeriodEnd: null,
    canceledAt: ms("2024-01-11T08:34:01.787Z"),
    endedAt: ms("2024-01-11T08:34:01.787Z"),
    ended: true,
  }, ({ event, state }) => {
    expect(onlyUser(state).status).toBe("inactive");
    expect(event.hint).toMatchObject({ phase: "terminal", version: 145_000 });
  }),
  subscriptionRow("subscription.created.json", "SubscriptionObserved", { status: "active", plan: "pro", ended: false }, ({ event, state }) => {
    // The checkout transaction that created it: its order belongs to the same user.
    expect(onlyUser(state).keys).toEqual([CTM_2023, `subscription:paddle:${SUB_2023}`, "invoice:paddle:txn_01h7hst69d7tar4rm6vyeb0j36"]);
    expect(event.hint).toMatchObject({ object: `paddle:subscription:${SUB_2023}`, phase: "create", version: 150_000 });
  }),
  subscriptionRow("subscription.past_due.json", "SubscriptionObserved", {
    status: "past_due",
    providerStatus: "past_due",
    plan: "pro",
    currentPeriodStart: ms("2023-10-11T08:07:35.449Z"),
    currentPeriodEnd: ms("2023-11-11T08:07:35.449Z"),
    pastDueSince: ms("2023-08-11T12:53:09.697Z"),
  }, ({ state }) => expect(onlyUser(state).status).toBe("active")),
  subscriptionRow("subscription.paused.json", "SubscriptionObserved", {
    // Paused grants nothing until resumed; Paddle's word is kept.
    status: "canceled",
    providerStatus: "paused",
    plan: "pro",
    currentPeriodStart: null,
    currentPeriodEnd: null,
    canceledAt: null,
    endedAt: null,
    ended: false,
  }, ({ state }) => expect(onlyUser(state).status).toBe("inactive")),
  subscriptionRow("subscription.resumed.json", "SubscriptionObserved", {
    status: "active",
    providerStatus: "active",
    currentPeriodStart: ms("2023-11-11T08:33:04.443Z"),
    currentPeriodEnd: ms("2023-12-11T08:33:04.443Z"),
  }),
  {
    file: "subscription.trialing.json",
    facts: ["SubscriptionObserved"],
    check: ({ state }) => {
      expect(state.subscriptions.get("paddle:sub_01h84ck8sg4ebkpzqb9x2mtjjf")).toMatchObject({
        status: "trialing",
        providerStatus: "trialing",
        plan: "starter",
        priceIds: [TRIAL_2023],
        trialStart: ms("2023-08-18T13:15:46.864Z"),
        trialEnd: ms("2023-08-28T13:15:46.864Z"),
        currentPeriodEnd: ms("2023-08-28T13:15:46.864Z"),
      });
      expect(onlyUser(state)).toMatchObject({ status: "active", keys: ["customer:paddle:ctm_01h84cjfwmdph1k8kgsyjt3k7g", "subscription:paddle:sub_01h84ck8sg4ebkpzqb9x2mtjjf"] });
    },
  },
  subscriptionRow("subscription.updated.json", "SubscriptionObserved", {
    status: "active",
    currentPeriodStart: ms("2023-09-11T08:07:35.449Z"),
    currentPeriodEnd: ms("2023-10-11T08:07:35.449Z"),
  }),
  { file: "transaction.billed.json", facts: [], check: expectUnchanged },
  { file: "transaction.canceled.json", facts: [], check: (o) => (expectUnchanged(o), expect(o.event.hint.phase).toBe("terminal")) },
  {
    file: "transaction.completed.json",
    facts: ["PaymentSucceeded"],
    check: ({ event, state }) => {
      const txn = "txn_01h8dzxgkvdwemdhbpcapj2tbj";
      // subscription_id null: a one-time purchase (SOURCES.md), whatever its items.
      expect(event.facts[0]).toMatchObject({ paymentId: txn, reason: "one_time", subscriptionId: null, amount: 65215, currency: "usd" });
      expect(state.orders.get(`paddle:${txn}`)).toMatchObject({
        kind: "one_time",
        subscriptionId: null,
        plan: "pro",
        priceIds: [PRO, VOICE_ADDON, DOMAINS],
        amount: 65215,
        amountRefunded: 0,
        currency: "usd",
        status: "paid",
        paymentRefs: [txn],
      });
      expect(onlyUser(state).keys).toEqual(["customer:paddle:ctm_01h8e18bxp9hby49dnm8ewf0m0", `invoice:paddle:${txn}`, `payment:paddle:${txn}`]);
      expect(event.hint).toMatchObject({ object: `paddle:transaction:${txn}`, phase: "terminal", version: 122_000 });
    },
  },
  { file: "transaction.created.json", facts: [], check: (o) => (expectUnchanged(o), expect(o.event.hint.phase).toBe("create")) },
  {
    file: "transaction.paid.json",
    facts: ["PaymentSucceeded"],
    check: ({ state }) => {
      expect(state.orders.get("paddle:txn_01gxwxqj0rd5m8j1zdhvk05twz")).toMatchObject({ kind: "one_time", amount: 89880, currency: "gbp", plan: "pro", status: "paid" });
      // A one-time order of a plan that is not lifetime grants nothing.
      expect(onlyUser(state).status).toBe("inactive");
    },
  },
  { file: "transaction.past_due.json", facts: [], check: expectUnchanged },
  {
    file: "transaction.payment_failed.json",
    facts: ["PaymentFailed"],
    check: ({ event, state, transitions }) => {
      expect(event.facts[0]).toMatchObject({ paymentId: "txn_01h8dzxgkvdwemdhbpcapj2tbj", subscriptionId: null, amount: 65215, currency: "usd" });
      expect(state.orders.toRecord()).toEqual({});
      expect(transitions).toContainEqual(expect.objectContaining({ entity: "payment", entityId: "paddle:txn_01h8dzxgkvdwemdhbpcapj2tbj", field: "status", to: "failed" }));
    },
  },
  { file: "transaction.ready.json", facts: [], check: expectUnchanged },
  { file: "transaction.revised.json", facts: [], check: expectUnchanged },
  { file: "transaction.updated.json", facts: [], check: expectUnchanged },
  ...["signed/customer.created.special_chars_payload.json", "signed/customer.created.standard_payload.json"].map(
    (file, i): Row => ({
      file,
      facts: ["CustomerSeen"],
      check: ({ state }) => {
        const ids = ["ctm_01hs0t94g83hs5jdw282ztqa4z", "ctm_01hs0tqf76sxmp7ba5e4mw1sc8"];
        expect(onlyUser(state)).toMatchObject({ keys: [`customer:paddle:${ids[i]}`], email: `blackhole+verification${i + 1}@paddle.com` });
      },
    }),
  ),
];

// events_api_sequence/: one dunning run (newest first) and an earlier renewal.
const DUNNING_SUB = "sub_01gyssnczp81czs49zcprm6hfv";
const DUNNING_TXN = "txn_01hg0trpqvp70evgmzj1648z5q";
const RENEWAL_TXN = "txn_01hfyd09vas8qwq6jw7k6yd9rg";

const dunningSubscription = (file: string, since: string): Row => ({
  file,
  facts: ["SubscriptionObserved"],
  check: ({ state }) =>
    expect(state.subscriptions.get(`paddle:${DUNNING_SUB}`)).toMatchObject({
      status: "past_due",
      plan: "pro",
      currentPeriodEnd: ms("2023-12-24T14:11:11.447Z"),
      pastDueSince: ms(since),
    }),
});

const sequenceRows: readonly Row[] = [
  dunningSubscription("events_api_sequence/00_subscription.updated.json", "2023-11-24T14:12:06.640Z"),
  { file: "events_api_sequence/01_transaction.past_due.json", facts: [], check: expectUnchanged },
  { file: "events_api_sequence/02_transaction.updated.json", facts: [], check: expectUnchanged },
  {
    file: "events_api_sequence/03_transaction.payment_failed.json",
    facts: ["PaymentFailed"],
    check: ({ event, state }) => {
      expect(event.facts[0]).toMatchObject({ paymentId: DUNNING_TXN, subscriptionId: DUNNING_SUB, amount: 66000, currency: "gbp" });
      expect(onlyUser(state).keys).toEqual(["customer:paddle:ctm_01gyssmfx5rnmk4dt8qx88v0ee", `subscription:paddle:${DUNNING_SUB}`, `invoice:paddle:${DUNNING_TXN}`, `payment:paddle:${DUNNING_TXN}`]);
    },
  },
  { file: "events_api_sequence/04_transaction.billed.json", facts: [], check: expectUnchanged },
  { file: "events_api_sequence/05_transaction.created.json", facts: [], check: expectUnchanged },
  dunningSubscription("events_api_sequence/06_subscription.updated.json", "2023-11-24T14:12:01.813Z"),
  { file: "events_api_sequence/07_transaction.created.json", facts: [], check: expectUnchanged },
  { file: "events_api_sequence/08_transaction.updated.json", facts: [], check: expectUnchanged },
  {
    file: "events_api_sequence/09_transaction.completed.json",
    facts: ["PaymentSucceeded"],
    check: ({ event, state }) => {
      expect(event.facts[0]).toMatchObject({ reason: "subscription_cycle", subscriptionId: "sub_01gyswnfgtehe0f6mvggzza8qk" });
      expect(state.orders.get(`paddle:${RENEWAL_TXN}`)).toMatchObject({ kind: "subscription", subscriptionId: "paddle:sub_01gyswnfgtehe0f6mvggzza8qk", plan: "pro", amount: 66000, currency: "gbp", status: "paid" });
    },
  },
];

const allFixtureFiles = (dir = fixtures.dir, prefix = ""): string[] =>
  readdirSync(dir)
    .flatMap((name) => (statSync(path.join(dir, name)).isDirectory() ? allFixtureFiles(path.join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`]))
    .filter((f) => f.endsWith(".json"))
    .sort();

// ── data-only fixtures, wrapped into a notification envelope ────────────────────────────────

const readJson = fixtures.json;

const readDataOnly = (type: string): Record<string, unknown> => readJson(`data_only/${type}.data.json`) as Record<string, unknown>;

/** A data-only file as a notification: its updated_at stands in for the missing occurred_at. */
const wrapDataOnly = (type: string): unknown => {
  const data = readDataOnly(type);
  return wrapData({ id: `evt_data_only_${type}`, type, occurredAt: String(data["updated_at"]), data });
};

type DataOnlyRow = { readonly type: string; readonly facts: readonly FactTag[]; readonly check: (outcome: Outcome) => void };

const SUB_2024 = "paddle:sub_01hv8x29kz0t586xy6zn1a62ny";
const CHECKOUT_TXN = "txn_01hv8wptq8987qeep44cyrewp9";
const REFUND_TXN = "txn_01hvcc93znj3mpqt1tenkjb04y";

const dataOnlySubscription = (type: string, tag: FactTag, expected: Record<string, unknown>): DataOnlyRow => ({
  type,
  facts: [tag],
  check: ({ state }) => expect(state.subscriptions.get(SUB_2024)).toMatchObject(expected),
});

const dataOnlyRows: readonly DataOnlyRow[] = [
  ...["adjustment.created", "adjustment.updated"].map(
    (type): DataOnlyRow => ({
      type,
      facts: ["RefundIssued"],
      // Both files are pending_approval: nothing counts as refunded.
      check: ({ state }) => expect(state.refunds.toRecord()).toEqual({ [`paddle:${REFUND_TXN}`]: { byId: {}, statedTotal: null, counted: {} } }),
    }),
  ),
  dataOnlySubscription("subscription.activated", "SubscriptionObserved", { status: "active", plan: "pro", currentPeriodEnd: ms("2024-05-12T10:18:47.635Z") }),
  dataOnlySubscription("subscription.canceled", "SubscriptionEnded", { status: "canceled", ended: true, canceledAt: ms("2024-04-12T11:24:54.868Z"), endedAt: ms("2024-04-12T11:24:54.868Z") }),
  dataOnlySubscription("subscription.created", "SubscriptionObserved", { status: "active", plan: "pro", startedAt: ms("2024-04-12T10:18:47.635Z") }),
  dataOnlySubscription("subscription.past_due", "SubscriptionObserved", { status: "past_due", pastDueSince: ms("2024-05-12T10:19:26.014Z") }),
  dataOnlySubscription("subscription.paused", "SubscriptionObserved", { status: "canceled", providerStatus: "paused", ended: false }),
  dataOnlySubscription("subscription.resumed", "SubscriptionObserved", { status: "active", currentPeriodStart: ms("2024-04-12T12:44:51.270Z") }),
  dataOnlySubscription("subscription.trialing", "SubscriptionObserved", {
    status: "trialing",
    plan: "starter",
    trialStart: ms("2024-04-12T11:30:29.637Z"),
    trialEnd: ms("2024-04-26T11:30:29.637Z"),
  }),
  dataOnlySubscription("subscription.updated", "SubscriptionObserved", { status: "active", plan: "pro", priceIds: [PRO, VOICE_ADDON, "pri_01gsz95g2zrkagg294kpstx54r"] }),
  { type: "transaction.billed", facts: [], check: expectUnchanged },
  { type: "transaction.canceled", facts: [], check: expectUnchanged },
  {
    type: "transaction.completed",
    facts: ["PaymentSucceeded"],
    check: ({ event, state }) => {
      expect(event.facts[0]).toMatchObject({ reason: "subscription_create", subscriptionId: "sub_01hv8x29kz0t586xy6zn1a62ny" });
      expect(state.orders.get(`paddle:${CHECKOUT_TXN}`)).toMatchObject({ kind: "subscription", subscriptionId: SUB_2024, amount: 65215, status: "paid" });
    },
  },
  { type: "transaction.created", facts: [], check: expectUnchanged },
  {
    type: "transaction.paid",
    facts: ["PaymentSucceeded"],
    check: ({ state }) => expect(state.orders.get(`paddle:${CHECKOUT_TXN}`)).toMatchObject({ kind: "one_time", subscriptionId: null, amount: 65215 }),
  },
  { type: "transaction.past_due", facts: [], check: expectUnchanged },
  {
    type: "transaction.payment_failed",
    facts: ["PaymentFailed"],
    check: ({ event }) => expect(event.facts[0]).toMatchObject({ paymentId: CHECKOUT_TXN, amount: 65215 }),
  },
  { type: "transaction.ready", facts: [], check: expectUnchanged },
  { type: "transaction.revised", facts: [], check: expectUnchanged },
  { type: "transaction.updated", facts: [], check: expectUnchanged },
];

// ── the suite ───────────────────────────────────────────────────────────────────────────────

type Vector = { name: string; header_value: string; secrets: string[]; raw_body: string; expected_valid: boolean };

const readVectors = (): Vector[] => (readJson("signature_vectors.json") as { vectors: Vector[] }).vectors;

const tsOf = (header: string): number => Number(/ts=(\d+)/.exec(header)![1]);

describe.skipIf(!fixtures.exist)(`Paddle conformance over published fixtures (${fixtures.dir})`, () => {
  it("has an expectation for every fixture file", () => {
    const covered = [
      ...fullBodyRows.map((r) => r.file),
      ...sequenceRows.map((r) => r.file),
      ...dataOnlyRows.map((r) => `data_only/${r.type}.data.json`),
      "signature_vectors.json",
    ].sort();
    expect(covered).toEqual(allFixtureFiles());
  });

  it.each([...fullBodyRows, ...sequenceRows])("$file: signed, verified, decoded, normalized and folded", (row) => {
    const outcome = runSignedFixture(row.file);
    expect(outcome.event.eventId).toBe((outcome.payload as { event_id: string }).event_id);
    expect(tagsOf(outcome.event.facts)).toEqual(row.facts);
    for (const fact of outcome.event.facts) {
      expect(fact).toMatchObject({ at: outcome.event.occurredAt, cause: `paddle:${outcome.event.eventId}`, provider: "paddle" });
      expect(fact.keys.length).toBeGreaterThan(0);
    }
    row.check(outcome);
  });

  it.each(dataOnlyRows)("data_only/$type: wrapped by the builder, normalized and folded", (row) => {
    const outcome = normalizeAndFold(wrapDataOnly(row.type));
    expect(outcome.event).toMatchObject({ eventId: `evt_data_only_${row.type}`, type: row.type });
    expect(outcome.event.occurredAt).toBe(ms(String(readDataOnly(row.type)["updated_at"]).replace(/(\.\d{3})\d*Z$/, "$1Z")));
    expect(tagsOf(outcome.event.facts)).toEqual(row.facts);
    row.check(outcome);
  });

  it("verifies the published vectors with their own secrets, at their own second", () => {
    const vectors = readVectors();
    expect(vectors.map((v) => v.name)).toEqual(["standard_payload", "special_chars_payload", "multiple_h1_and_key_rotation"]);
    for (const v of vectors) {
      const ts = tsOf(v.header_value);
      const input = { rawBody: Buffer.from(v.raw_body, "utf8"), header: v.header_value, secrets: v.secrets };
      expect({ name: v.name, result: verifyPaddleSignature({ ...input, now: ts * 1000 }) }).toEqual({ name: v.name, result: Either.right(v.expected_valid) });
      // The SDKs' 5 s window: 5 s later still passes, a millisecond more is stale.
      expect(Either.isRight(verifyPaddleSignature({ ...input, now: (ts + 5) * 1000 }))).toBe(true);
      const late = verifyPaddleSignature({ ...input, now: (ts + 5) * 1000 + 1 });
      expect(Either.isLeft(late) && late.left.code).toBe("stale_timestamp");
      const tampered = verifyPaddleSignature({ ...input, rawBody: Buffer.from(`${v.raw_body}\n`, "utf8"), now: ts * 1000 });
      expect(Either.isLeft(tampered) && tampered.left.code).toBe("signature_mismatch");
    }
  });

  it("needs every h1 tried against every secret for the rotation vector", () => {
    const v = readVectors().find((x) => x.name === "multiple_h1_and_key_rotation")!;
    const now = tsOf(v.header_value) * 1000;
    const rawBody = Buffer.from(v.raw_body, "utf8");
    // Only the third secret matches, and only the second h1.
    const withoutThird = verifyPaddleSignature({ rawBody, header: v.header_value, secrets: v.secrets.slice(0, 2), now });
    expect(Either.isLeft(withoutThird) && withoutThird.left.code).toBe("signature_mismatch");
    expect(verifyPaddleSignature({ rawBody, header: v.header_value, secrets: [v.secrets[2]!], now })).toEqual(Either.right(true));
    expect(verifyPaddleSignature({ rawBody, header: v.header_value, secrets: [...v.secrets].reverse(), now })).toEqual(Either.right(true));
  });

  it("verifies the real signed bodies with Paddle's signature: the file less its trailing newline", () => {
    const vectors = readVectors();
    for (const [file, name] of [
      ["signed/customer.created.standard_payload.json", "standard_payload"],
      ["signed/customer.created.special_chars_payload.json", "special_chars_payload"],
    ] as const) {
      const v = vectors.find((x) => x.name === name)!;
      const whole = fixtures.bytes(file);
      const signed = signedBytes(file);
      expect(signed.toString("utf8")).toBe(v.raw_body);
      const now = tsOf(v.header_value) * 1000;
      expect(verifyPaddleSignature({ rawBody: signed, header: v.header_value, secrets: v.secrets, now })).toEqual(Either.right(true));
      const withNewline = verifyPaddleSignature({ rawBody: whole, header: v.header_value, secrets: v.secrets, now });
      expect(Either.isLeft(withNewline) && withNewline.left.code).toBe("signature_mismatch");
      // Re-serialising the parsed body (\u00dc escapes become UTF-8, etc.) would break it.
      const reserialised = Buffer.from(JSON.stringify(JSON.parse(signed.toString("utf8"))), "utf8");
      if (name === "special_chars_payload") {
        const broken = verifyPaddleSignature({ rawBody: reserialised, header: v.header_value, secrets: v.secrets, now });
        expect(Either.isLeft(broken) && broken.left.code).toBe("signature_mismatch");
      }
    }
  });

  it("reads the special characters of the \\u-escaped signed body", () => {
    const payload = JSON.parse(signedBytes("signed/customer.created.special_chars_payload.json").toString("utf8")) as { data: { name: string } };
    expect(payload.data.name).toBe("ÜÄÅåÖÜÄÅåÖ");
  });

  it("folds the subscription mocks in any arrival order: resumed is the latest, canceled ends it", () => {
    const files = ["created", "activated", "updated", "past_due", "paused", "resumed"].map((s) => `subscription.${s}.json`);
    const events = files.map((f) => runSignedFixture(f).event);
    const canceled = runSignedFixture("subscription.canceled.json").event;
    for (const order of [events, [...events].reverse(), [events[3]!, events[0]!, events[5]!, events[1]!, events[4]!, events[2]!]]) {
      const live = replayEvents(catalog, order).state;
      expect(live.subscriptions.get(`paddle:${SUB_2023}`)).toMatchObject({ status: "active", currentPeriodEnd: ms("2023-12-11T08:33:04.443Z"), pastDueSince: null });
      const ended = replayEvents(catalog, [canceled, ...order]).state;
      expect(ended.subscriptions.get(`paddle:${SUB_2023}`)).toMatchObject({ status: "canceled", ended: true });
      expect(onlyUser(ended).status).toBe("inactive");
    }
  });

  it("folds the events API sequence, in any arrival order, to a past_due subscription and a paid renewal", () => {
    const events = sequenceRows.map((r) => runSignedFixture(r.file).event);
    const expected = replayEvents(catalog, events).state;
    for (const order of [[...events].reverse(), [...events.slice(5), ...events.slice(0, 5)], [...events, ...events]]) {
      expect(replayEvents(catalog, order).state).toEqual(expected);
    }
    expect(expected.subscriptions.get(`paddle:${DUNNING_SUB}`)).toMatchObject({ status: "past_due", pastDueSince: ms("2023-11-24T14:12:01.813Z") });
    expect(expected.orders.get(`paddle:${RENEWAL_TXN}`)).toMatchObject({ kind: "subscription", amount: 66000 });
    expect([...expected.users.values()].map((u) => u.keys[0]).sort()).toEqual([
      "customer:paddle:ctm_01gyssmfx5rnmk4dt8qx88v0ee",
      "customer:paddle:ctm_01gyswd1xrzxsxghdtc2f8jhep",
    ]);
  });

  it("orders the completed/updated pair of one millisecond by Paddle's microseconds", () => {
    const completed = runSignedFixture("events_api_sequence/09_transaction.completed.json").event;
    const updated = runSignedFixture("events_api_sequence/08_transaction.updated.json").event;
    // Same millisecond: Verity's instant alone cannot order them.
    expect(completed.occurredAt).toBe(updated.occurredAt);
    expect([completed.hint.version, updated.hint.version]).toEqual([134_000, 701_000]);
    expect(canonicalOrder([updated, completed]).map((e) => e.type)).toEqual(["transaction.completed", "transaction.updated"]);
    expect(canonicalOrder([completed, updated]).map((e) => e.type)).toEqual(["transaction.completed", "transaction.updated"]);
  });

  it("makes the checkout transaction paid before its subscription existed one subscription order, in any order", () => {
    const paid = normalizeAndFold(wrapDataOnly("transaction.paid")).event;
    const created = normalizeAndFold(wrapDataOnly("subscription.created")).event;
    const completed = normalizeAndFold(wrapDataOnly("transaction.completed")).event;
    for (const order of [[paid, created, completed], [completed, created, paid], [created, completed, paid]]) {
      const { state } = replayEvents(catalog, order);
      expect(state.orders.toRecord()).toEqual({
        [`paddle:${CHECKOUT_TXN}`]: expect.objectContaining({ kind: "subscription", subscriptionId: SUB_2024, amount: 65215, status: "paid", plan: "pro" }),
      });
      expect(onlyUser(state)).toMatchObject({ status: "active" });
      expect(state.subscriptions.get(SUB_2024)).toMatchObject({ status: "active" });
    }
  });

  it("counts only the approved adjustment against its transaction: partial refund of the published mocks", () => {
    const createdAdj = runSignedFixture("adjustment.created.json").event;
    const approvedAdj = runSignedFixture("adjustment.updated.json").event;
    // The transaction the mocks refund is not published: built here with the builder.
    const paidAt = Date.parse("2023-08-21T12:00:00.000Z");
    const order = normalizePaddleEvent(
      storedEvent(
        paddleEvent({
          id: "evt_conformance_paid",
          type: "transaction.completed",
          occurredAt: paidAt,
          data: transaction({ id: ADJ_TXN, customerId: "ctm_01h8441jn5pcwrfhwh78jqt8hk", subscriptionId: "sub_01h8bxswamxysj44zt5n48njwh", status: "completed", origin: "subscription_recurring", items: [{ priceId: PRO, amount: 3266 }], updatedAt: paidAt }),
        }),
      ),
      options,
    );
    const pending = replayEvents(catalog, [createdAdj, order]).state;
    expect(pending.orders.get(`paddle:${ADJ_TXN}`)).toMatchObject({ amount: 3266, amountRefunded: 0, status: "paid" });
    for (const events of [[order, createdAdj, approvedAdj], [approvedAdj, createdAdj, order]]) {
      const { state } = replayEvents(catalog, events);
      expect(state.orders.get(`paddle:${ADJ_TXN}`)).toMatchObject({ amount: 3266, amountRefunded: 100, status: "partially_refunded" });
      expect(onlyUser(state).keys).toContain(`invoice:paddle:${ADJ_TXN}`);
    }
    // A rejection folded after an approval would take it back (the builder's own adjustment).
    const rejected = normalizePaddleEvent(
      storedEvent(paddleEvent({ id: "evt_conformance_rejected", type: "adjustment.updated", occurredAt: paidAt + 86_400_000, data: adjustment({ id: "adj_01h8c6tbrkpdd7vx61w7b1r0ap", transactionId: ADJ_TXN, customerId: "ctm_01h8441jn5pcwrfhwh78jqt8hk", subscriptionId: null, status: "rejected", amount: 100, type: "partial", createdAt: paidAt, updatedAt: paidAt }) })),
      options,
    );
    expect(replayEvents(catalog, [order, approvedAdj, rejected]).state.orders.get(`paddle:${ADJ_TXN}`)).toMatchObject({ amountRefunded: 0, status: "paid" });
  });

  it("derives the same id twice for a body without event_id, and another for another event", () => {
    const withoutId = (type: string, notificationId: string | null) => {
      const data = readDataOnly(type);
      return { event_type: type, occurred_at: String(data["updated_at"]), notification_id: notificationId, data };
    };
    const idOf = (payload: unknown) => storedEvent(payload).providerEventId;
    const first = idOf(withoutId("transaction.paid", "ntf_destination_a"));
    expect(first).toMatch(/^derived_[0-9a-f]{16}$/);
    // Another destination's notification of the same event, and a re-serialised copy, keep the id.
    expect(idOf(withoutId("transaction.paid", "ntf_destination_b"))).toBe(first);
    expect(idOf(JSON.parse(JSON.stringify(withoutId("transaction.paid", null), null, 2)))).toBe(first);
    expect(idOf(withoutId("transaction.completed", "ntf_destination_a"))).not.toBe(first);
    const later = { ...withoutId("transaction.paid", null), occurred_at: "2024-04-12T10:18:48.294636Z" };
    expect(idOf(later)).not.toBe(first);
    // With event_id present, that id is used: dedupe is on event_id, never notification_id.
    expect(idOf(wrapDataOnly("transaction.paid"))).toBe("evt_data_only_transaction.paid");
  });
});
