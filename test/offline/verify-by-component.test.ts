// `verity verify` walks the store one component at a time. Whatever the database holds, it must
// report exactly what comparing everything at once reports (diffSnapshots of the whole projections
// against a replay of the whole log): row changed, row moved to another user, row deleted, rows of
// a user no event gives, events not projected yet, and bookkeeping that lies about the components
// (then it compares the whole log at once, and says so). On SQLite and PostgreSQL.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffSnapshots } from "../../src/offline/diff.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot, verify, type VerifyResult } from "../../src/offline/verify.js";
import type { Database } from "../../src/store/database.js";
import { arbHistory, testCatalog } from "../builders/histories.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { appendStripeEvent } from "../support/append.js";
import { KINDS, openTestDatabase } from "../support/databases.js";
import { ingest } from "./support.js";

const history = fc.sample(
  arbHistory.filter((h) => h.scripts.length === 3 && h.scripts.some((s) => s.subscription !== null)),
  { seed: 20261130, numRuns: 1 },
)[0]!;

const AT = Date.parse("2024-07-15T00:00:00Z");

describe.each(KINDS)("verify component by component on %s", (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(kind));
    await ingest(db, history.events);
  }, 120_000);
  afterAll(async () => close());

  /** Verify, one component per group, against the whole comparison; returns verify's result. */
  const agrees = async (): Promise<VerifyResult> => {
    const whole = diffSnapshots(await databaseSnapshot(db), await replaySnapshot(db, testCatalog));
    const walked = await verify(db, testCatalog, { at: AT, groupEvents: 1 });
    expect(walked.differences).toEqual(whole);
    const coarse = await verify(db, testCatalog, { at: AT });
    expect(coarse.differences).toEqual(whole);
    return walked;
  };

  const users = async () => (await db.prisma.user.findMany({ orderBy: { id: "asc" } })).map((u) => u.id);

  it("finds nothing on a clean database, having walked every event and every row", async () => {
    const r = await agrees();
    expect(r.differences).toEqual([]);
    expect(r.wholeLog).toBeNull();
    expect(r.events).toBe(await db.prisma.event.count());
    expect(r.counts.users).toBe((await users()).length);
    expect((await users()).length).toBeGreaterThanOrEqual(2);
  });

  it("reports a changed field, a row moved to another user and a deleted row as the whole comparison does", async () => {
    const [first, second] = await users();
    const sub = await db.prisma.subscription.findFirstOrThrow({ orderBy: { id: "asc" } });
    await db.prisma.$executeRaw`UPDATE "Subscription" SET "status" = ${sub.status === "active" ? "past_due" : "active"} WHERE "id" = ${sub.id}`;
    const identity = await db.prisma.userIdentity.findFirstOrThrow({ where: { userId: first! } });
    await db.prisma.$executeRaw`UPDATE "UserIdentity" SET "userId" = ${second!} WHERE "key" = ${identity.key}`;
    const grant = await db.prisma.entitlement.findFirst({ orderBy: { id: "asc" } });
    if (grant) await db.prisma.$executeRaw`DELETE FROM "Entitlement" WHERE "id" = ${grant.id}`;
    const r = await agrees();
    expect(r.wholeLog).toBeNull();
    expect(r.differences).toContainEqual({ entity: "identity", id: identity.key, field: "userId", left: second, right: first });
    expect(r.differences.filter((d) => d.entity === "subscription" && d.id === sub.id)).toHaveLength(1);
  });

  it("reports rows of a user no event gives", async () => {
    await db.prisma.user.create({ data: { id: "user_forged", status: "active", createdAt: new Date(0) } });
    await db.prisma.transition.create({
      data: { id: "user_forged:0", userId: "user_forged", ordinal: 0, entity: "user", entityId: "user_forged", field: "status", to: "active", cause: "stripe:evt_forged", at: new Date(0) },
    });
    const r = await agrees();
    expect(r.wholeLog).toBeNull();
    expect(r.differences.filter((d) => d.field === null && d.left !== undefined && d.right === undefined).map((d) => d.id)).toEqual(
      expect.arrayContaining(["user_forged", "user_forged#0"]),
    );
  });

  it("folds events not projected yet with the components they reach", async () => {
    const seen = history.events.find((e) => e.type === "customer.created")!;
    const cus = (seen.data.object as { id: string }).id;
    const t = seen.created + 1000;
    await appendStripeEvent(db, stripeEvent({ id: "evt_late_update", type: "customer.updated", created: t, object: customer({ id: cus, email: "late@example.com", created: t }) }));
    await appendStripeEvent(db, stripeEvent({ id: "evt_late_new", type: "customer.created", created: t, object: customer({ id: "cus_late", metadata: { user_id: "user_late" }, created: t }) }));
    const r = await agrees();
    expect(r.pending).toBe(2);
    expect(r.wholeLog).toBeNull();
    expect(r.differences.some((d) => d.entity === "user" && d.right !== undefined && JSON.stringify(d.right).includes("user_late"))).toBe(true);
  });

  it("compares the whole log at once when the bookkeeping lies, and finds the same", async () => {
    const key = await db.prisma.componentKey.findFirstOrThrow({ orderBy: { key: "asc" } });
    await db.prisma.$executeRaw`DELETE FROM "ComponentKey" WHERE "key" = ${key.key}`;
    const r = await agrees();
    expect(r.wholeLog).toMatch(/which its component does not hold|in no component/);
  });
});
