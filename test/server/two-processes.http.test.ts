// Several Verity processes on one PostgreSQL project at once: projections of different users run
// concurrently (per-key locks instead of one lock for all), projections that share a user take
// turns. Two servers receive one generated history: each user's events alternately at either
// server, many users at once. When both have caught up, the projections equal the offline fold.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arbUserScript, buildHistory, testCatalog } from "../builders/histories.js";
import { customer, stripeEvent, type StripeEvent } from "../builders/stripe.js";
import { HAS_POSTGRES } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot } from "../../src/offline/verify.js";
import { deliver } from "../support/stripe-delivery.js";
import { post } from "../support/usage.js";
import { createApiKey } from "../../src/server/auth.js";
import { verify } from "../../src/offline/verify.js";

describe.skipIf(!HAS_POSTGRES)("two processes projecting one PostgreSQL", () => {
  let a: RunningServer;
  let b: RunningServer;
  const history = buildHistory(fc.sample(arbUserScript, { seed: 9_090, numRuns: 24 }), 11);
  const latest = Math.max(...history.events.map((e) => e.created));
  beforeAll(async () => {
    a = await startServer("postgresql", testCatalog, { now: latest * 1000 });
    // b's clock is 5 s behind a's, as two machines' clocks may be.
    b = await startServer("postgresql", testCatalog, { now: latest * 1000 - 5_000, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("gives the projections of the offline fold when deliveries are spread over both, concurrently", async () => {
    const events = history.events;
    // Eight senders at once; event i goes to a or b alternately, so one user's events reach both.
    let next = 0;
    const sender = async () => {
      while (next < events.length) {
        const i = next++;
        const res = await deliver(i % 2 === 0 ? a.url : b.url, events[i]!, { timestamp: latest, settle: false });
        expect(res.status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    await a.app.settle();
    await b.app.settle();
    expect(await a.db.prisma.projectedEvent.count()).toBe(await a.db.prisma.event.count());
    const snapshot = await databaseSnapshot(a.db);
    expect(snapshot.users.length).toBeGreaterThan(10);
    expect(snapshot).toEqual(await replaySnapshot(a.db, testCatalog));
  });

  it("serializes projections of one user across processes: many events of few users, all at once", async () => {
    // Twelve users, fifteen updates each; consecutive updates of a user go to different servers.
    const updates: StripeEvent[] = Array.from({ length: 15 }, (_, k) =>
      Array.from({ length: 12 }, (_, u) =>
        stripeEvent({
          id: `evt_tp_${u}_${k}`,
          type: k === 0 ? "customer.created" : "customer.updated",
          created: latest - 1000 + k,
          object: customer({ id: `cus_tp_${u}`, email: `u${u}.v${k}@example.com`, metadata: { user_id: `user_tp_${u}` } }),
        }),
      ),
    ).flat();
    await Promise.all(updates.map((e, i) => deliver(i % 2 === 0 ? a.url : b.url, e, { timestamp: latest, settle: false }).then((r) => expect(r.status).toBe(200))));
    await a.app.settle();
    await b.app.settle();
    const snapshot = await databaseSnapshot(a.db);
    expect(snapshot.users.filter((u) => u.email?.endsWith(".v14@example.com"))).toHaveLength(12);
    expect(snapshot).toEqual(await replaySnapshot(a.db, testCatalog));
  });

  it("exchanges an activation code once and rotates a refresh token once when both processes race for them", async () => {
    const key = (await createApiKey(a.db, ["tokens:write"], new Date())).key;
    const userId = history.events.map((e) => (e.data.object as { metadata?: { user_id?: string } }).metadata?.user_id).find((u) => u !== undefined)!;
    const issued = await post(a, "/v1/activation-codes", key, { userId });
    expect(issued.status).toBe(200);
    const code = issued.body.code as string;
    const activations = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? a : b, "/v1/activate", null, { code, domain: "race.example.com" })));
    expect(activations.map((r) => r.status).sort()).toEqual([200, ...Array<number>(19).fill(409)]);
    const { refreshToken } = activations.find((r) => r.status === 200)!.body;
    // The same refresh token twenty times at once (a client retrying): one rotation, and every
    // other presentation, on either process, is a retry answered with that rotation's token.
    const refreshes = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? a : b, "/v1/refresh", null, { refreshToken, domain: "race.example.com" })));
    expect(refreshes.map((r) => r.status)).toEqual(Array<number>(20).fill(200));
    expect(new Set(refreshes.map((r) => r.body.refreshToken)).size).toBe(1);
    expect(await a.db.prisma.event.count({ where: { type: "activation.refreshed" } })).toBe(1);
    // Revoked on a; b, whose clock says the revocation has not happened yet, refuses all the same.
    const second = (await post(b, "/v1/activate", null, { code: (await post(a, "/v1/activation-codes", key, { userId })).body.code, domain: "race.example.com" })).body;
    expect((await post(a, `/v1/activations/${second.activationId}/revoke`, key, {})).status).toBe(200);
    const late = await post(b, "/v1/refresh", null, { refreshToken: second.refreshToken, domain: "race.example.com" });
    expect([late.status, late.body.error.code]).toEqual([401, "activation_revoked"]);
    expect((await verify(a.db, testCatalog, { at: latest * 1000 })).differences).toEqual([]);
  });
});
