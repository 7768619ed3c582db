// The store against real SQLite and PostgreSQL: append-only enforced by the database, idempotent
// appends, projections re-derived on late events, crash recovery, and replay equivalence.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import type { Database } from "../../src/store/database.js";
import { appendEvents } from "../../src/store/events.js";
import { Projector, rebuildIfStale, rebuildProjections } from "../../src/projection/projector.js";
import { pendingSeqs, projectedFloor } from "../../src/store/projection-writes.js";
import { lastEventSeq } from "../../src/store/partition.js";
import { readFeed } from "../../src/store/feed.js";
import { findUserId } from "../../src/store/reads.js";
import { checkoutSession, customer, invoice, stripeEvent, subscription, toRawBody, type StripeEvent } from "../builders/stripe.js";
import { testCatalog } from "../builders/histories.js";
import { appendStripeEvent } from "../support/append.js";
import { KINDS, openTestDatabase } from "../support/databases.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot } from "../../src/offline/verify.js";

const catalog: Catalog = testCatalog;
const T0 = 1_735_689_600; // 2025-01-01T00:00:00Z
const PRICE = Object.values(catalog.plans).find((p) => !p.lifetime && (p.prices.stripe?.length ?? 0) > 0)!.prices.stripe![0]!;

const sub = (status: "active" | "past_due" | "canceled", extra: { cancelAtPeriodEnd?: boolean } = {}) =>
  subscription({ id: "sub_A", customer: "cus_A", status, priceId: PRICE, periodStart: T0, periodEnd: T0 + 30 * 86400, shape: "basil", ...extra });

const history = (): StripeEvent[] => [
  stripeEvent({ id: "evt_1", type: "customer.created", created: T0, object: customer({ id: "cus_A", email: "a@example.com" }) }),
  stripeEvent({ id: "evt_2", type: "customer.subscription.created", created: T0, object: sub("active") }),
  stripeEvent({
    id: "evt_3",
    type: "checkout.session.completed",
    created: T0 + 1,
    object: checkoutSession({ id: "cs_A", mode: "subscription", customer: "cus_A", clientReferenceId: "user_42", subscription: "sub_A", amountTotal: 1900, currency: "usd" }),
  }),
  stripeEvent({
    id: "evt_4",
    type: "invoice.paid",
    created: T0 + 1,
    object: invoice({ id: "in_A", customer: "cus_A", subscription: "sub_A", priceId: PRICE, amountPaid: 1900, billingReason: "subscription_create", shape: "basil" }),
  }),
  stripeEvent({
    id: "evt_5",
    type: "customer.subscription.updated",
    created: T0 + 100,
    object: sub("active", { cancelAtPeriodEnd: true }),
    previousAttributes: { cancel_at_period_end: false },
  }),
  stripeEvent({ id: "evt_6", type: "customer.subscription.deleted", created: T0 + 200, object: sub("canceled") }),
];

const store = (db: Database, e: StripeEvent) => appendStripeEvent(db, e, Date.now());

describe.each(KINDS)("store on %s", (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ db, close } = await openTestDatabase(kind));
  });
  afterEach(async () => close());

  it("refuses UPDATE and DELETE on the event store in the database itself", async () => {
    await store(db, history()[0]!);
    await expect(db.prisma.$executeRawUnsafe(`UPDATE "Event" SET "type" = 'forged'`)).rejects.toThrow(/append-only/);
    await expect(db.prisma.$executeRawUnsafe(`DELETE FROM "Event"`)).rejects.toThrow(/append-only/);
    await expect(db.prisma.event.updateMany({ data: { type: "forged" } })).rejects.toThrow(/append-only/);
    await expect(db.prisma.event.deleteMany({})).rejects.toThrow(/append-only/);
    const rows = await db.prisma.event.findMany();
    expect(rows.map((r) => r.type)).toEqual(["customer.created"]);
  });

  it("keeps the raw body byte for byte and appends each provider event once", async () => {
    const e = history()[1]!;
    const first = await store(db, e);
    const again = await store(db, e);
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    const row = await db.prisma.event.findUniqueOrThrow({ where: { seq: first.seq } });
    expect(Buffer.from(row.rawBody).equals(Buffer.from(toRawBody(e)))).toBe(true);
    expect(await db.prisma.event.count()).toBe(1);
  });

  it("gives the same projections for any arrival order, and equals the offline replay", async () => {
    const projector = new Projector(db, catalog);
    const events = history();
    // Deletion first, the identity link last: the worst order Stripe may deliver in.
    for (const e of [events[5]!, events[4]!, events[1]!, events[3]!, events[0]!, events[2]!, events[1]!]) {
      const r = await store(db, e);
      if (!r.duplicate) await projector.project(r.seq);
    }
    const snap = await databaseSnapshot(db);
    expect(snap.users).toHaveLength(1);
    expect(snap.users[0]).toMatchObject({ appUserId: "user_42", email: "a@example.com" });
    expect(snap.subscriptions).toEqual([expect.objectContaining({ id: "stripe:sub_A", status: "canceled" })]);
    expect(snap.orders).toEqual([expect.objectContaining({ id: "stripe:in_A", status: "paid", amount: 1900 })]);
    expect(snap).toEqual(await replaySnapshot(db, catalog));
  });

  it("catch-up remembers up to which seq everything is projected, and looks only above it", async () => {
    const projector = new Projector(db, catalog);
    const events = history();
    for (const e of events.slice(0, 3)) await store(db, e);
    expect(await projectedFloor(db)).toBe(0);
    await projector.catchUp();
    const last = await lastEventSeq(db);
    expect(await projectedFloor(db)).toBe(last);
    // Stored later and not projected (a crash): above the floor, so the next catch-up finds it.
    const later = await store(db, events[3]!);
    expect(await pendingSeqs(db, 500, await projectedFloor(db))).toEqual([later.seq]);
    expect(await new Projector(db, catalog).catchUp()).toEqual({ projected: 1, failed: [] });
    expect(await projectedFloor(db)).toBe(later.seq);
    // Below the floor nothing is looked at: an unprojected seq there would not be found, so the
    // floor must only ever name a seq through which everything is projected.
    expect(await pendingSeqs(db, 500, later.seq)).toEqual([]);
    expect(await pendingSeqs(db)).toEqual([]);
  });

  it("recovers after a crash between append and projection: nothing lost, nothing applied twice", async () => {
    const projector = new Projector(db, catalog);
    const events = history();
    for (const e of events.slice(0, 3)) await projector.project((await store(db, e)).seq);
    // The process "dies" after appending the rest and before projecting them.
    for (const e of events.slice(3)) await store(db, e);
    expect(await pendingSeqs(db)).toHaveLength(3);
    const restarted = new Projector(db, catalog);
    expect(await restarted.catchUp()).toEqual({ projected: 3, failed: [] });
    expect(await pendingSeqs(db)).toEqual([]);
    expect(await restarted.catchUp()).toEqual({ projected: 0, failed: [] });
    const snap = await databaseSnapshot(db);
    expect(snap).toEqual(await replaySnapshot(db, catalog));
    expect(snap.subscriptions[0]!.status).toBe("canceled");
  });

  it("merges two users when a late event links their ids, and both ids find the merged user", async () => {
    const projector = new Projector(db, catalog);
    const project = async (e: StripeEvent) => projector.project((await store(db, e)).seq);
    // A customer, and apart from it a guest checkout by the app's user_7: two users so far.
    await project(stripeEvent({ id: "evt_m1", type: "customer.created", created: T0, object: customer({ id: "cus_M" }) }));
    await project(
      stripeEvent({
        id: "evt_m2",
        type: "checkout.session.completed",
        created: T0 + 5,
        object: checkoutSession({ id: "cs_M", mode: "payment", customer: null, clientReferenceId: "user_7", paymentIntent: "pi_M", amountTotal: 500, currency: "usd" }),
      }),
    );
    expect((await databaseSnapshot(db)).users).toHaveLength(2);
    expect(await findUserId(db, "cus_M")).not.toBe(await findUserId(db, "user_7"));
    // An invoice paid by cus_M through pi_M reveals they are one person.
    await project(
      stripeEvent({
        id: "evt_m3",
        type: "invoice.paid",
        created: T0 + 10,
        object: invoice({ id: "in_M", customer: "cus_M", subscription: null, priceId: PRICE, amountPaid: 500, billingReason: "manual", paymentIntent: "pi_M", shape: "legacy" }),
      }),
    );
    const snap = await databaseSnapshot(db);
    expect(snap.users).toHaveLength(1);
    expect(snap.users[0]!.keys).toEqual(expect.arrayContaining(["app:user_7", "customer:stripe:cus_M", "payment:stripe:pi_M"]));
    expect(await findUserId(db, "cus_M")).toBe(await findUserId(db, "user_7"));
    expect(snap.transitions.some((t) => t.field === "merged")).toBe(true);
    expect(snap).toEqual(await replaySnapshot(db, catalog));
  });

  it("rebuilds the projections from the event store when the plan catalog changes", async () => {
    const projector = new Projector(db, catalog);
    for (const e of history().slice(0, 2)) await projector.project((await store(db, e)).seq);
    expect(await rebuildIfStale(db, catalog)).toBe(true);
    expect(await rebuildIfStale(db, catalog)).toBe(false);
    const plan = Object.keys(catalog.plans).find((code) => catalog.plans[code]!.prices.stripe?.includes(PRICE))!;
    expect((await databaseSnapshot(db)).subscriptions[0]!.plan).toBe(plan);
    const renamed: Catalog = { ...catalog, plans: { ...catalog.plans, gold: { ...catalog.plans[plan]!, code: "gold" } } };
    delete (renamed.plans as Record<string, unknown>)[plan];
    expect(await rebuildIfStale(db, renamed)).toBe(true);
    const snap = await databaseSnapshot(db);
    expect(snap.subscriptions[0]!.plan).toBe("gold");
    expect(snap).toEqual(await replaySnapshot(db, renamed));
  });

  it("rebuilds a store of more events and users than one statement may name (chunked deletes)", async () => {
    const many = Array.from({ length: 700 }, (_, n) => [
      stripeEvent({ id: `evt_many_c${n}`, type: "customer.created", created: T0 + n, object: customer({ id: `cus_many${n}`, metadata: { user_id: `user_many${n}` } }) }),
      stripeEvent({ id: `evt_many_u${n}`, type: "customer.updated", created: T0 + n + 1, object: customer({ id: `cus_many${n}`, email: `m${n}@example.com`, metadata: { user_id: `user_many${n}` } }) }),
    ]).flat();
    const appended = await appendEvents(db, many.map((e) => ({ provider: "stripe", providerEventId: e.id, type: e.type, occurredAt: e.created * 1000, receivedAt: Date.now(), origin: "webhook", rawBody: toRawBody(e), payload: e })));
    expect(appended.filter((a) => !a.duplicate)).toHaveLength(1_400);
    expect(await rebuildProjections(db, catalog)).toEqual({ events: 1_400, users: 700 });
    // Again, now that every user and key index row exists and must be replaced.
    expect(await rebuildProjections(db, catalog)).toEqual({ events: 1_400, users: 700 });
    expect(await databaseSnapshot(db)).toEqual(await replaySnapshot(db, catalog));
  });

  it("stores a signed body holding \\u0000 (PostgreSQL jsonb would refuse it)", async () => {
    const e = stripeEvent({ id: "evt_nul", type: "customer.created", created: T0, object: customer({ id: "cus_N", email: "nul\u0000@example.com" }) });
    const r = await store(db, e);
    expect(r.duplicate).toBe(false);
    const row = await db.prisma.event.findUniqueOrThrow({ where: { seq: r.seq } });
    expect(Buffer.from(row.rawBody).toString("utf8")).toContain("\\u0000");
    await new Projector(db, catalog).project(r.seq);
    // Derived values replace NUL (PostgreSQL text cannot hold it); the raw body keeps it.
    expect((await databaseSnapshot(db)).users[0]!.email).toBe("nul\uFFFD@example.com");
  });

  it("appends to the live feed only what re-derivation adds, in order, even when a late event rewrites history", async () => {
    const projector = new Projector(db, catalog);
    const events = history();
    for (const e of [events[0]!, events[1]!, events[4]!]) await projector.project((await store(db, e)).seq);
    const feed = async () => (await readFeed(db, 0, 1000)).map((r) => `${r.entity}.${r.field}:${r.from}→${r.to}@${r.cause}`);
    const before = await feed();
    expect(before).toContain("subscription.status:null→active@stripe:evt_2");
    // A late event that sorts before the ones already folded.
    await projector.project((await store(db, events[2]!)).seq);
    const after = await feed();
    expect(after.slice(0, before.length)).toEqual(before);
    const gained = after.slice(before.length);
    expect(gained.length).toBeGreaterThan(0);
    expect(gained.every((t) => t.endsWith("@stripe:evt_3"))).toBe(true);
    const seqs = (await readFeed(db, 0, 1000)).map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
