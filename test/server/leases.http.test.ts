// POST /v1/leases and /v1/leases/{id}/release on the real server: at most N at once, a slot freed
// by a release or by expiry, idempotent acquisitions and releases, usage recorded with a release,
// concurrent callers never holding more than the limit, and bad input refused with nothing stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { post, subscribe, T0, USAGE_PRICES, usageCatalog, usageKey } from "../support/usage.js";

const NOW = (T0 + 5 * 86_400) * 1000;

describe.each(KINDS)("leases (%s)", (kind) => {
  let server: RunningServer;
  let key: string;
  beforeAll(async () => {
    server = await startServer(kind, usageCatalog, { now: NOW });
    key = await usageKey(server);
    await subscribe(server, "u_lease", USAGE_PRICES.starter);
    await subscribe(server, "u_race", USAGE_PRICES.starter);
    await subscribe(server, "u_nothing", null);
  });
  afterAll(async () => server?.stop());

  const take = (body: Record<string, unknown>) => post(server, "/v1/leases", key, { userId: "u_lease", feature: "tasks", ...body });
  const release = (id: string, body: unknown = {}) => post(server, `/v1/leases/${id}/release`, key, body);
  const tasks = async (user = "u_lease") => {
    const res = await fetch(`${server.url}/api/users/${user}/entitlements`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as { entitlements: { feature: string }[] }).entitlements.find((e) => e.feature === "tasks");
  };
  const leaseEvents = () => server.db.prisma.event.count({ where: { provider: "app", type: { startsWith: "lease." } } });

  it("holds at most the plan's slots; a release frees one; an acquisition's key finds its lease", async () => {
    const held = [];
    for (const k of ["a", "b", "c"]) {
      const res = await take({ idempotencyKey: k });
      expect(res.status).toBe(200);
      held.push(res.body);
    }
    expect(held.map((h) => h.active)).toEqual([1, 2, 3]);
    expect(held[0]).toMatchObject({ limit: 3, expiresAt: new Date(NOW + 300_000).toISOString() });
    expect(await tasks()).toMatchObject({ limit: 3, used: 3, remaining: 0 });
    const again = await take({ idempotencyKey: "a" });
    expect(again.body).toEqual(held[0]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");

    const events = await leaseEvents();
    const refused = await take({ idempotencyKey: "d" });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: "concurrency_exceeded", limit: 3, active: 3, resetsAt: new Date(NOW + 300_000).toISOString() });
    expect(await leaseEvents()).toBe(events);

    const freed = await release(held[1].leaseId);
    expect(freed.body).toMatchObject({ leaseId: held[1].leaseId, feature: "tasks", expired: false });
    expect(await tasks()).toMatchObject({ used: 2, remaining: 1 });
    expect((await release(held[1].leaseId)).body).toEqual(freed.body);
    expect((await take({ idempotencyKey: "d" })).status).toBe(200);
  });

  it("frees an expired lease's slot by itself", async () => {
    server.clock.now = NOW + 301_000;
    expect(await tasks()).toMatchObject({ used: 0, remaining: 3 });
    const res = await take({ idempotencyKey: "after-expiry", ttlSeconds: 60 });
    expect(res.body).toMatchObject({ active: 1, expiresAt: new Date(NOW + 361_000).toISOString() });
  });

  it("records the work's usage with the release, in the same step", async () => {
    const lease = (await take({ idempotencyKey: "with-usage" })).body;
    const res = await release(lease.leaseId, { usage: { feature: "cpu_seconds", units: 2.5 } });
    expect(res.status).toBe(200);
    expect(res.body.usage).toMatchObject({ status: 200, feature: "cpu_seconds", used: 2.5 });
    const counters = await server.db.prisma.usageCounter.findMany({ where: { subject: "u_lease", feature: "cpu_seconds" } });
    expect(counters.map((c) => Number(c.used))).toEqual([2500]);
    // A second release does not count the usage again.
    await release(lease.leaseId, { usage: { feature: "cpu_seconds", units: 2.5 } });
    expect((await server.db.prisma.usageCounter.findMany({ where: { subject: "u_lease", feature: "cpu_seconds" } })).map((c) => Number(c.used))).toEqual([2500]);
  });

  it("never lets 50 concurrent callers hold more than the limit", async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(server, "/v1/leases", key, { userId: "u_race", feature: "tasks", idempotencyKey: `r${i}` })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(47);
    expect(await server.db.prisma.lease.count({ where: { subject: "u_race" } })).toBe(3);
  });

  describe("bad input is refused and stores nothing", () => {
    const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
      ["a user no plan gives the feature", () => post(server, "/v1/leases", key, { userId: "u_nothing", feature: "tasks", idempotencyKey: "x" }), 402, "no_entitlement"],
      ["a feature that is no concurrency limit", () => take({ feature: "api_calls", idempotencyKey: "x" }), 400, "not_metered"],
      ["an unknown feature", () => take({ feature: "teleport", idempotencyKey: "x" }), 400, "unknown_feature"],
      ["an unknown user", () => post(server, "/v1/leases", key, { userId: "nobody", feature: "tasks", idempotencyKey: "x" }), 404, "user_not_found"],
      ["a time-to-live over the plan's", () => take({ idempotencyKey: "x", ttlSeconds: 301 }), 400, "invalid_parameter"],
      ["a time-to-live of zero", () => take({ idempotencyKey: "x", ttlSeconds: 0 }), 400, "invalid_parameter"],
      ["no idempotency key", () => take({}), 400, "invalid_parameter"],
      ["releasing an unknown lease", () => release("lse_nope"), 404, "lease_not_found"],
      ["a release with malformed usage", () => release("lse_nope", { usage: { feature: "cpu_seconds" } }), 400, "invalid_parameter"],
      ["a key without usage:write", () => post(server, "/v1/leases", server.readKey, { userId: "u_lease", feature: "tasks", idempotencyKey: "x" }), 403, "forbidden"],
    ];
    it.each(cases)("%s", async (_name, send, status, code) => {
      const before = await leaseEvents();
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await leaseEvents()).toBe(before);
    });
  });
});
