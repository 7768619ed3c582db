// Incremental projection: an event later than everything its component holds is folded onto the
// component's saved state; a late event, a same-instant tie or one that joins components re-derives
// them. Either way the projections equal the offline fold of the events, the saved states equal the
// fold of each component's events, and a state cached by one process is never used once another
// changed the component. Runs on SQLite and PostgreSQL.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { componentsOf, eventKeys } from "../../src/domain/components.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { stateCacheOf } from "../../src/store/components.js";
import { openDatabase, type Database } from "../../src/store/database.js";
import { toStoredEvent } from "../../src/store/events.js";
import { normalizeStored } from "../../src/store/normalize-stored.js";
import { projectEvents, rebuildProjections, type ProjectionResult } from "../../src/projection/projector.js";
import { arbHistoryAndDelivery, PRICES, testCatalog } from "../builders/histories.js";
import { customer, invoice, stripeEvent, subscription, type StripeEvent } from "../builders/stripe.js";
import { appendStripeEvent } from "../support/append.js";
import { createTestDatabase, KINDS, type TestDatabase } from "../support/databases.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot } from "../../src/offline/verify.js";

const T0 = 1_735_689_600;

const customerCreated = (cus: string, at: number, metadata: Record<string, string> = {}): StripeEvent =>
  stripeEvent({ id: `evt_${cus}_created`, type: "customer.created", created: at, object: customer({ id: cus, metadata, created: at }) });

const customerUpdated = (cus: string, at: number, metadata: Record<string, string>): StripeEvent =>
  stripeEvent({ id: `evt_${cus}_updated_${at}`, type: "customer.updated", created: at, object: customer({ id: cus, metadata, created: T0 }) });

const paid = (cus: string, n: number, at: number): StripeEvent =>
  stripeEvent({
    id: `evt_${cus}_paid_${n}`,
    type: "invoice.paid",
    created: at,
    object: invoice({ id: `in_${cus}_${n}`, customer: cus, subscription: null, priceId: PRICES.lifetime, amountPaid: 19900, billingReason: "manual", paymentIntent: `pi_${cus}_${n}`, created: at, shape: "legacy" }),
  });

const subscriptionEvent = (cus: string, type: "customer.subscription.created" | "customer.subscription.updated", status: "active" | "past_due", at: number): StripeEvent =>
  stripeEvent({
    id: `evt_${cus}_sub_${type}_${at}`,
    type,
    created: at,
    object: subscription({ id: `sub_${cus}`, customer: cus, priceId: PRICES.proMonthly, status, periodStart: T0, periodEnd: T0 + 30 * 86_400, created: T0, shape: "legacy" }),
  });

const opened: TestDatabase[] = [];
const handles: Database[] = [];

afterEach(async () => {
  for (const db of handles.splice(0)) await db.close().catch(() => undefined);
  for (const t of opened.splice(0)) await t.drop();
});

const freshDatabase = async (kind: (typeof KINDS)[number]): Promise<{ url: string; db: Database }> => {
  const t = await createTestDatabase(kind);
  opened.push(t);
  const db = await openDatabase(t.url);
  handles.push(db);
  return { url: t.url, db };
};

const reopen = async (url: string): Promise<Database> => {
  const db = await openDatabase(url);
  handles.push(db);
  return db;
};

const deliver = async (db: Database, event: StripeEvent): Promise<ProjectionResult> => {
  const { seq } = await appendStripeEvent(db, event);
  return projectEvents(db, testCatalog, [seq]);
};

/** The saved states and key index agree with the domain's split of the stored events into components. */
const expectComponentsToMatchTheFold = async (db: Database): Promise<void> => {
  const rows = await db.prisma.event.findMany({ orderBy: { seq: "asc" } });
  const events = rows.map((r) => normalizeStored(toStoredEvent({ ...r, payload: null }), testCatalog));
  const components = componentsOf(events);
  const stored = await db.prisma.component.findMany();
  expect(stored.length).toBe(components.length);
  for (const component of components) {
    const keys = [...new Set(component.flatMap(eventKeys))].sort();
    // A component is named by one of its keys (the smallest when it was made), and keeps that name as it grows.
    const id = (await db.prisma.componentKey.findUniqueOrThrow({ where: { key: keys[0]! } })).componentId;
    expect(keys).toContain(id);
    const row = stored.find((c) => c.id === id);
    expect(row, `component ${id}`).toBeDefined();
    expect(row!.events).toBe(component.length);
    expect(row!.watermark.getTime()).toBe(Math.max(...component.map((e) => e.occurredAt)));
    const indexed = (await db.prisma.componentKey.findMany({ where: { componentId: id } })).map((k) => k.key).sort();
    expect(indexed).toEqual(keys);
    const saved = await db.prisma.componentState.findUnique({ where: { id } });
    if (saved?.token === row!.token) expect(JSON.parse(saved.state)).toEqual(JSON.parse(JSON.stringify(replayEvents(testCatalog, component).state)));
  }
};

const expectProjectionsToEqualTheFold = async (db: Database): Promise<void> => {
  expect(await databaseSnapshot(db)).toEqual(await replaySnapshot(db, testCatalog));
  await expectComponentsToMatchTheFold(db);
};

describe.each(KINDS)("incremental projection on %s", (kind) => {
  it("folds an event later than the user's history onto the saved state, and re-derives for a late one", async () => {
    const { db } = await freshDatabase(kind);
    expect((await deliver(db, customerCreated("cus_inc", T0, { user_id: "u_inc" }))).incremental).toBe(1);
    for (let n = 0; n < 20; n++) expect(await deliver(db, paid("cus_inc", n, T0 + 100 + n))).toMatchObject({ incremental: 1, rederived: 0 });
    expect(await deliver(db, subscriptionEvent("cus_inc", "customer.subscription.created", "active", T0 + 200))).toMatchObject({ incremental: 1, rederived: 0 });
    await expectProjectionsToEqualTheFold(db);

    // Late: before the watermark.
    expect(await deliver(db, paid("cus_inc", 100, T0 + 50))).toMatchObject({ incremental: 0, rederived: 1 });
    await expectProjectionsToEqualTheFold(db);
    // Same instant as the latest event: folded with that instant's events onto the state before it.
    expect(await deliver(db, subscriptionEvent("cus_inc", "customer.subscription.updated", "past_due", T0 + 200))).toMatchObject({ incremental: 1, rederived: 0 });
    await expectProjectionsToEqualTheFold(db);
    expect(await deliver(db, paid("cus_inc", 101, T0 + 300))).toMatchObject({ incremental: 1, rederived: 0 });
    await expectProjectionsToEqualTheFold(db);
  });

  it("folds an event of the latest instant that canonical order puts first, replacing that instant's transitions", async () => {
    const { db } = await freshDatabase(kind);
    await deliver(db, customerCreated("cus_tie", T0, { user_id: "u_tie" }));
    await deliver(db, subscriptionEvent("cus_tie", "customer.subscription.created", "active", T0 + 10));
    // A renewal: Stripe sends the subscription update and the invoice in one second; the invoice
    // arrives second but sorts first (it names no period).
    expect(await deliver(db, subscriptionEvent("cus_tie", "customer.subscription.updated", "past_due", T0 + 100))).toMatchObject({ incremental: 1 });
    const feedBefore = await db.prisma.transitionFeed.count();
    expect(await deliver(db, paid("cus_tie", 0, T0 + 100))).toMatchObject({ incremental: 1, rederived: 0 });
    await expectProjectionsToEqualTheFold(db);
    // The feed got what the invoice added, not the update's transitions again.
    const added = await db.prisma.transitionFeed.findMany({ where: { seq: { gt: (await db.prisma.transitionFeed.findMany({ orderBy: { seq: "asc" } }))[feedBefore - 1]!.seq } } });
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((t) => t.cause === "stripe:evt_cus_tie_paid_0")).toBe(true);
    // Without the state before that instant in memory (a restart), the same case re-derives.
    stateCacheOf(db).clear();
    expect(await deliver(db, paid("cus_tie", 1, T0 + 100))).toMatchObject({ incremental: 0, rederived: 1 });
    await expectProjectionsToEqualTheFold(db);
  });

  it("re-derives two users' components into one when an event joins them", async () => {
    const { db } = await freshDatabase(kind);
    await deliver(db, customerCreated("cus_join_a", T0));
    await deliver(db, paid("cus_join_a", 0, T0 + 10));
    await deliver(db, customerCreated("cus_join_b", T0 + 1));
    await deliver(db, customerUpdated("cus_join_b", T0 + 20, { user_id: "u_join" }));
    expect(await db.prisma.component.count()).toBe(2);
    // cus_join_a now names the same app user: both customers are one user, one component.
    expect(await deliver(db, customerUpdated("cus_join_a", T0 + 30, { user_id: "u_join" }))).toMatchObject({ rederived: 1 });
    expect(await db.prisma.component.count()).toBe(1);
    expect(await db.prisma.user.count()).toBe(1);
    await expectProjectionsToEqualTheFold(db);
    expect(await deliver(db, paid("cus_join_b", 1, T0 + 40))).toMatchObject({ incremental: 1 });
    await expectProjectionsToEqualTheFold(db);
  });

  it("uses the saved state after a restart, and never a cached state another process made stale", async () => {
    const { url, db } = await freshDatabase(kind);
    await deliver(db, customerCreated("cus_two", T0, { user_id: "u_two" }));
    await deliver(db, subscriptionEvent("cus_two", "customer.subscription.created", "active", T0 + 10));
    // A second process (its own cache) projects the next event of the same user.
    const other = await reopen(url);
    expect(await deliver(other, subscriptionEvent("cus_two", "customer.subscription.updated", "past_due", T0 + 20))).toMatchObject({ incremental: 1 });
    // The first process's cached state predates that event: it must read the saved one instead.
    expect(await deliver(db, paid("cus_two", 0, T0 + 30))).toMatchObject({ incremental: 1 });
    await expectProjectionsToEqualTheFold(db);
    const sub = await db.prisma.subscription.findFirstOrThrow({ where: { providerId: "sub_cus_two" } });
    expect(sub.status).toBe("past_due");
    stateCacheOf(db).clear();
    expect(await deliver(db, paid("cus_two", 1, T0 + 40))).toMatchObject({ incremental: 1 });
    await expectProjectionsToEqualTheFold(db);
  });

  it("saves a large state every few events, and re-derives once when the current one was not saved", async () => {
    const { url, db } = await freshDatabase(kind);
    await deliver(db, customerCreated("cus_big", T0, { user_id: "u_big" }));
    let n = 0;
    for (; n < 200; n++) await deliver(db, paid("cus_big", n, T0 + 10 + n));
    const stale = async () => {
      const c = await db.prisma.component.findFirstOrThrow();
      return (await db.prisma.componentState.findUniqueOrThrow({ where: { id: c.id } })).token !== c.token;
    };
    // Large states are not written with every event; go on until the latest one was not.
    while (!(await stale())) await deliver(db, paid("cus_big", n, T0 + 10 + n++));
    const c = await db.prisma.component.findFirstOrThrow();
    const saved = await db.prisma.componentState.findUniqueOrThrow({ where: { id: c.id } });
    expect(saved.state.length).toBeGreaterThan(64 * 1024);
    expect(c.events - saved.events).toBeLessThan(64);

    const restarted = await reopen(url);
    expect(await deliver(restarted, paid("cus_big", n, T0 + 10 + n++))).toMatchObject({ rederived: 1 });
    expect(await deliver(restarted, paid("cus_big", n, T0 + 10 + n++))).toMatchObject({ incremental: 1 });
    await expectProjectionsToEqualTheFold(restarted);
  }, 120_000);

  it("a rebuild saves each component's state once, current as of its end: a restarted process folds the next event onto it", async () => {
    const { url, db } = await freshDatabase(kind);
    for (const cus of ["cus_rs_a", "cus_rs_b"]) {
      await deliver(db, customerCreated(cus, T0, { user_id: `u_${cus}` }));
      for (let n = 0; n < 5; n++) await deliver(db, paid(cus, n, T0 + 10 + n));
    }
    await rebuildProjections(db, testCatalog);
    const components = await db.prisma.component.findMany();
    expect(components).toHaveLength(2);
    for (const c of components) {
      const saved = await db.prisma.componentState.findUniqueOrThrow({ where: { id: c.id } });
      expect({ token: saved.token, events: saved.events }).toEqual({ token: c.token, events: c.events });
    }
    await expectProjectionsToEqualTheFold(db);
    const restarted = await reopen(url);
    expect(await deliver(restarted, paid("cus_rs_a", 5, T0 + 20))).toMatchObject({ incremental: 1, rederived: 0 });
    await expectProjectionsToEqualTheFold(restarted);
  });

  it("a rebuild appends to the feed only the transitions its new logs add", async () => {
    const { db } = await freshDatabase(kind);
    await deliver(db, customerCreated("cus_rb", T0, { user_id: "u_rb" }));
    await deliver(db, subscriptionEvent("cus_rb", "customer.subscription.created", "active", T0 + 10));
    await deliver(db, subscriptionEvent("cus_rb", "customer.subscription.updated", "past_due", T0 + 20));
    const feed = () => db.prisma.transitionFeed.findMany({ orderBy: { seq: "asc" } });
    const before = await feed();
    expect(before.length).toBeGreaterThan(0);
    // Same catalog: the rebuilt logs hold nothing new.
    await rebuildProjections(db, testCatalog);
    expect(await feed()).toEqual(before);
    // The subscription's price now belongs to the enterprise plan: only what that changes is new.
    const { pro, enterprise } = testCatalog.plans;
    const moved = {
      ...testCatalog,
      plans: { ...testCatalog.plans, pro: { ...pro!, prices: { ...pro!.prices, stripe: [PRICES.proYearly] } }, enterprise: { ...enterprise!, prices: { stripe: [PRICES.proMonthly] } } },
    };
    await rebuildProjections(db, moved);
    const added = (await feed()).slice(before.length);
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((t) => (t.entity === "subscription" && t.field === "plan") || t.entity === "entitlement")).toBe(true);
    expect(added.some((t) => t.entity === "subscription" && t.to === "enterprise")).toBe(true);
    expect(added.some((t) => t.entityId.endsWith(":sso") && t.to === "enterprise")).toBe(true);
  });

  it("projects generated histories delivered in random batches, with restarts, to the offline fold", async () => {
    const paths = { incremental: 0, rederived: 0 };
    await fc.assert(
      fc.asyncProperty(arbHistoryAndDelivery, fc.infiniteStream(fc.integer({ min: 1, max: 4 })), fc.infiniteStream(fc.boolean()), async ({ delivered }, sizes, restarts) => {
        const { db } = await freshDatabase(kind);
        try {
          for (let i = 0; i < delivered.length; ) {
            const batch = delivered.slice(i, (i += sizes.next().value as number));
            const seqs = [];
            for (const e of batch) {
              const r = await appendStripeEvent(db, e);
              if (!r.duplicate) seqs.push(r.seq);
            }
            const result = await projectEvents(db, testCatalog, seqs);
            paths.incremental += result.incremental;
            paths.rederived += result.rederived;
            if (restarts.next().value === true) stateCacheOf(db).clear();
          }
          await expectProjectionsToEqualTheFold(db);
          // A rebuild, streaming in time order, gives the same again.
          const before = await databaseSnapshot(db);
          await rebuildProjections(db, testCatalog);
          expect(await databaseSnapshot(db)).toEqual(before);
          await expectComponentsToMatchTheFold(db);
        } finally {
          await db.close();
          handles.splice(handles.indexOf(db), 1);
          await opened.pop()!.drop();
        }
      }),
      { numRuns: Number(process.env.FC_STORE_RUNS ?? 12) },
    );
    // Both paths were taken, so the equality above covers each.
    expect(paths.incremental).toBeGreaterThan(0);
    expect(paths.rederived).toBeGreaterThan(0);
  }, 300_000);
});
