// Usage offline: `verity verify` finds every counter equal to the sum of its records (and says so
// when one is altered), an export replays to the same counters and the same used units, and a
// projection rebuild gives the counters back from the records alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replay } from "../../src/offline/replay.js";
import { reprocess } from "../../src/offline/reprocess.js";
import { counterSnapshot, leaseSnapshot } from "../../src/offline/usage.js";
import { allLeases } from "../../src/store/leases.js";
import { verify } from "../../src/offline/verify.js";
import { allCounters, recordUsage } from "../../src/store/usage.js";
import { openDatabase } from "../../src/store/database.js";
import { rebuildProjections } from "../../src/projection/projector.js";
import { sqlOf } from "../../src/store/sql.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { post, subscribe, T0, USAGE_PRICES, usageCatalog, usageKey } from "../support/usage.js";
import { exportLines } from "./support.js";

const NOW = (T0 + 5 * 86_400) * 1000;

describe.each(KINDS)("usage records offline (%s)", (kind) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(kind, usageCatalog, { now: NOW });
    const key = await usageKey(server);
    await subscribe(server, "u_a", USAGE_PRICES.starter);
    await subscribe(server, "u_b", USAGE_PRICES.scale);
    for (let i = 0; i < 12; i++) {
      const user = i % 2 === 0 ? "u_a" : "u_b";
      expect((await post(server, "/v1/usage", key, { userId: user, feature: i % 3 === 0 ? "cpu_seconds" : "api_calls", units: i % 3 === 0 ? 1.25 : 7, idempotencyKey: `k${i}` })).status).toBe(200);
    }
    // One sent late for last month: a counter of its own.
    expect((await post(server, "/v1/usage", key, { userId: "u_a", feature: "api_calls", units: 3, idempotencyKey: "old", at: "2026-10-31T23:59:59Z" })).status).toBe(200);
    // Leases: one released with usage, one still held.
    const first = await post(server, "/v1/leases", key, { userId: "u_a", feature: "tasks", idempotencyKey: "l1" });
    expect((await post(server, "/v1/leases", key, { userId: "u_a", feature: "tasks", idempotencyKey: "l2" })).status).toBe(200);
    expect((await post(server, `/v1/leases/${first.body.leaseId}/release`, key, { usage: { feature: "cpu_seconds", units: 0.5 } })).status).toBe(200);
    await server.app.settle();
  });
  afterAll(async () => server?.stop());

  it("verify finds every counter equal to the sum of its records", async () => {
    const r = await verify(server.db, usageCatalog, { at: NOW });
    expect(r.differences).toEqual([]);
    expect(r.usage).toEqual({ counters: 5, records: 14 });
  });

  it("replays an export to the same counters and the same used units", async () => {
    const replayed = await replay(await exportLines(server.db), usageCatalog, { at: NOW });
    expect(replayed.usage).toEqual(counterSnapshot(await allCounters(sqlOf(server.db))));
    expect(replayed.leases).toEqual(leaseSnapshot(await allLeases(sqlOf(server.db))));
    expect(replayed.leases.map((l) => l.releasedAt === null)).toEqual(expect.arrayContaining([true, false]));
    expect(replayed.entitlements.find((u) => u.appUserId === "u_a")!.entitlements.find((e) => e.feature === "tasks")).toMatchObject({ used: 1, remaining: 2 });
    const a = replayed.entitlements.find((u) => u.appUserId === "u_a")!.entitlements.find((e) => e.feature === "api_calls")!;
    expect(a).toMatchObject({ used: 28, remaining: 72, limit: 100 });
  });

  it("verify reports a counter that is not the sum of its records", async () => {
    await server.db.prisma.usageCounter.updateMany({ where: { subject: "u_b", feature: "api_calls" }, data: { used: 1 } });
    await server.db.prisma.lease.updateMany({ where: { releasedAt: { not: null } }, data: { releasedAt: null } });
    const r = await verify(server.db, usageCatalog, { at: NOW });
    expect(r.differences).toEqual([
      expect.objectContaining({ entity: "usage", field: "used", left: 1, right: 28 }),
      expect.objectContaining({ entity: "lease", field: "releasedAt", left: null }),
    ]);
  });

  it.skipIf(kind !== "postgresql")("a usage committed during a rebuild waits for it, and the counters stay the sums of their records", async () => {
    const other = await openDatabase(server.databaseUrl);
    try {
      const record = {
        // A counter of its own: nothing but the append lock can make it wait.
        subject: "u_during", userId: "usr_x", feature: "api_calls", units: 1, decimals: 0, at: NOW,
        period: { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) }, limit: 100, overage: "block" as const,
        source: "starter", idempotencyKey: "during-rebuild", keyId: "k", requestId: "r",
      };
      let committed = false;
      let pending: Promise<unknown> = Promise.resolve();
      await rebuildProjections(server.db, usageCatalog, {
        after: async () => {
          pending = recordUsage(other, [{ record, quota: { limit: 100, overage: "block", decimals: 0 }, receivedAt: NOW }], NOW).then(() => (committed = true));
          await new Promise((r) => setTimeout(r, 300));
          // The rebuild holds the append lock: the usage cannot commit on counters it is rewriting.
          expect(committed).toBe(false);
        },
      });
      await pending;
      expect(committed).toBe(true);
      expect((await verify(server.db, usageCatalog, { at: NOW })).differences).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it("a rebuild gives the counters back from the records alone", async () => {
    await server.db.prisma.usageCounter.deleteMany({});
    await server.db.prisma.lease.deleteMany({});
    await reprocess(server.db, usageCatalog);
    expect((await verify(server.db, usageCatalog, { at: NOW })).differences).toEqual([]);
  });
});
