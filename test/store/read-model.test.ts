// The in-memory read model answers exactly what the database answers: for every user of generated
// histories, by every id, at several instants; after a projection changes a user it has read, it
// answers the new state; API keys work at once and stop within the key TTL once revoked.
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { entitlementsAt } from "../../src/domain/entitlements.js";
import { createApiKey, hashKey, revokeApiKey } from "../../src/server/auth.js";
import { openDatabase, type Database } from "../../src/store/database.js";
import { Projector } from "../../src/projection/projector.js";
import { KEY_TTL_MS, ReadModel } from "../../src/store/read-model.js";
import { findUserId, liveGrants, primarySubscription, userEntitlements, userSubscriptions } from "../../src/store/reads.js";
import { arbUserScript, buildHistory, testCatalog } from "../builders/histories.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { appendStripeEvent } from "../support/append.js";
import { KINDS, openTestDatabase } from "../support/databases.js";

const DAY = 86_400_000;

describe.each(KINDS)("read model on %s", (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  let reads: ReadModel;
  let projector: Projector;
  beforeEach(async () => {
    ({ db, close } = await openTestDatabase(kind));
    reads = new ReadModel(db, 50);
    projector = new Projector(db, testCatalog, () => false, (users) => reads.forget(users));
  });
  afterEach(async () => close());

  const ingest = async (events: readonly Parameters<typeof appendStripeEvent>[1][]) => {
    for (const e of events) {
      const r = await appendStripeEvent(db, e, Date.now());
      if (!r.duplicate) await projector.project(r.seq);
    }
  };

  /** Every id a user answers to: the app's ids, customer ids, Verity's id, and some unknown ones. */
  const ids = async (): Promise<string[]> => {
    const identities = await db.prisma.userIdentity.findMany({ where: { kind: { in: ["app", "customer"] } }, select: { value: true } });
    const users = await db.prisma.user.findMany({ select: { id: true } });
    return [...new Set([...identities.map((i) => i.value), ...users.map((u) => u.id), "nobody", "cus_unknown"])];
  };

  const expectSameAnswers = async (instants: readonly number[]) => {
    for (const id of await ids()) {
      const fromMemory = await reads.findUser(id);
      expect(fromMemory).toBe(await findUserId(db, id));
      if (fromMemory === null) continue;
      const view = (await reads.user(fromMemory))!;
      expect(view.user).toEqual(await db.prisma.user.findUnique({ where: { id: fromMemory } }));
      for (const at of instants) {
        expect(entitlementsAt(view.grants, testCatalog, at)).toEqual(await userEntitlements(db, testCatalog, fromMemory, at));
        const fromDb = await userSubscriptions(db, fromMemory, at);
        expect(view.subscriptions).toEqual(fromDb.all);
        expect(primarySubscription(view.subscriptions, liveGrants(view.grants, at))).toEqual(fromDb.primary);
      }
    }
  };

  it("answers every user of generated histories, by every id, as the database does; a second pass comes from memory", async () => {
    const history = buildHistory(fc.sample(arbUserScript, { seed: 4_242, numRuns: 12 }), 3);
    await ingest(history.events);
    const times = history.events.map((e) => e.created * 1000);
    const instants = [Math.min(...times), Math.max(...times), Math.max(...times) + 40 * DAY, Math.max(...times) + 400 * DAY];
    await expectSameAnswers(instants);
    const loads = reads.loads;
    await expectSameAnswers(instants);
    // Fifty users fit: the second pass needed no load for users already held.
    expect(reads.loads - loads).toBeLessThan(loads);
    expect(reads.hits).toBeGreaterThan(0);
  });

  it("answers the new state after a projection changes a user it has read", async () => {
    const created = (id: string, email: string, at: number) =>
      stripeEvent({ id, type: id === "evt_rm_1" ? "customer.created" : "customer.updated", created: at, object: customer({ id: "cus_rm", email, metadata: { user_id: "user_rm" } }) });
    await ingest([created("evt_rm_1", "one@example.com", 1_735_689_600)]);
    const userId = (await reads.findUser("user_rm"))!;
    expect((await reads.user(userId))!.user.email).toBe("one@example.com");
    await ingest([created("evt_rm_2", "two@example.com", 1_735_689_700)]);
    expect((await reads.user((await reads.findUser("cus_rm"))!))!.user.email).toBe("two@example.com");
    // An id unknown a moment ago is found once a projection makes it known.
    expect(await reads.findUser("user_rm_new")).toBeNull();
    await ingest([stripeEvent({ id: "evt_rm_3", type: "customer.created", created: 1_735_689_800, object: customer({ id: "cus_rm_new", metadata: { user_id: "user_rm_new" } }) })]);
    expect(await reads.findUser("user_rm_new")).toBe(await findUserId(db, "user_rm_new"));
  });

  it.skipIf(kind !== "sqlite")("notices a projection another connection commits to the SQLite file (verity reprocess while serving)", async () => {
    const created = (id: string, email: string, at: number) =>
      stripeEvent({ id, type: id.endsWith("1") ? "customer.created" : "customer.updated", created: at, object: customer({ id: "cus_ext", email, metadata: { user_id: "user_ext" } }) });
    await ingest([created("evt_ext_1", "one@example.com", 1_735_689_600)]);
    const watching = new ReadModel(db, 50);
    await watching.start(20);
    try {
      const userId = (await watching.findUser("user_ext"))!;
      expect((await watching.user(userId))!.user.email).toBe("one@example.com");
      // Another connection to the same file (another process, in effect) projects a change.
      const other = await openDatabase(db.url);
      try {
        const r = await appendStripeEvent(other, created("evt_ext_2", "two@example.com", 1_735_689_700), Date.now());
        await new Projector(other, testCatalog).project(r.seq);
      } finally {
        await other.close();
      }
      let email: string | null | undefined;
      for (let i = 0; i < 100 && email !== "two@example.com"; i++) {
        email = (await watching.user(userId))?.user.email;
        if (email !== "two@example.com") await new Promise((r) => setTimeout(r, 20));
      }
      expect(email).toBe("two@example.com");
    } finally {
      await watching.stop();
    }
  });

  it("keeps the larger of two counters told out of order (two commits told by one flush)", async () => {
    await ingest([stripeEvent({ id: "evt_rm_c", type: "customer.created", created: 1_735_689_800, object: customer({ id: "cus_rm_c", metadata: { user_id: "user_rm_c" } }) })]);
    const id = (await reads.findUser("user_rm_c"))!;
    const view = (await reads.user(id))!;
    const counter = (used: number, records: number) => ({ subject: view.subject, feature: "calls", periodStart: 0, periodEnd: null, used, records });
    reads.noteCounters(id, [counter(5, 5)]);
    reads.noteCounters(id, [counter(3, 3)]);
    expect([...(await reads.user(id))!.counters.values()]).toEqual([counter(5, 5)]);
    reads.noteCounters(id, [counter(6, 6)]);
    expect([...(await reads.user(id))!.counters.values()]).toEqual([counter(6, 6)]);
  });

  it("accepts a new key at once, tells a missing key from an unknown one, and refuses a revoked one at once", async () => {
    const clock = { now: 1_000_000 };
    const keys = new ReadModel(db, 10, () => clock.now);
    const created = await createApiKey(db, ["read"], new Date(), "billing page");
    const header = `Bearer ${created.key}`;
    expect(await keys.credentials(header, hashKey)).toMatchObject({ _tag: "Key", principal: { keyId: created.id } });
    expect(await keys.credentials("Bearer vty_wrong", hashKey)).toEqual({ _tag: "UnknownKey" });
    expect(await keys.credentials(undefined, hashKey)).toEqual({ _tag: "NoKey" });
    expect(await keys.credentials("Basic dXNlcjpwYXNz", hashKey)).toEqual({ _tag: "NoKey" });
    expect(await revokeApiKey(db, created.id)).toBe(true);
    // Remembered, but the revocation reached this read model: no waiting for KEY_TTL_MS.
    expect(await keys.credentials(header, hashKey)).toEqual({ _tag: "UnknownKey" });
    await keys.stop();
  });

  it.skipIf(kind !== "sqlite")("refuses a key another connection revoked from the next turn of the event loop on, asking SQLite once per turn", async () => {
    const keys = new ReadModel(db, 10);
    const created = await createApiKey(db, ["read"], new Date());
    const header = `Bearer ${created.key}`;
    expect(await keys.credentials(header, hashKey)).toMatchObject({ _tag: "Key" });
    // Another connection (another process, in effect: no in-process announcement) deletes it.
    const other = await openDatabase(db.url);
    try {
      await other.prisma.apiKey.delete({ where: { id: created.id } });
    } finally {
      await other.close();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(await keys.credentials(header, hashKey)).toEqual({ _tag: "UnknownKey" });
    await keys.stop();
  });

  it("remembers a key's answer for at most the key TTL when nothing announces a change", async () => {
    const clock = { now: 1_000_000 };
    const keys = new ReadModel(db, 10, () => clock.now);
    const created = await createApiKey(db, ["read"], new Date());
    const header = `Bearer ${created.key}`;
    expect((await keys.principal(header, hashKey))?.keyId).toBe(created.id);
    // Deleted behind the store's back (no announcement): the TTL is the backstop.
    await db.prisma.apiKey.delete({ where: { id: created.id } });
    clock.now += KEY_TTL_MS - 1;
    expect((await keys.principal(header, hashKey))?.keyId).toBe(created.id);
    clock.now += 2;
    expect(await keys.principal(header, hashKey)).toBeNull();
    await keys.stop();
  });
});
