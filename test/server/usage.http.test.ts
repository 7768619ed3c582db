// POST /v1/usage and /v1/check on the real server, SQLite and PostgreSQL: quotas that block and
// allow, idempotency keys (also across a restart), batches, every bad input refused with nothing
// recorded, and what entitlements report afterwards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "graphql-sse";
import { createApiKey } from "../../src/server/auth.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { post, subscribe, T0, USAGE_PRICES, usageCatalog, usageCounts, usageKey } from "../support/usage.js";

const NOW = (T0 + 5 * 86_400) * 1000; // 2026-11-15

describe.each(KINDS)("usage endpoints (%s)", (kind) => {
  let server: RunningServer;
  let key: string;
  beforeAll(async () => {
    server = await startServer(kind, usageCatalog, { now: NOW });
    key = await usageKey(server);
    await subscribe(server, "u_starter", USAGE_PRICES.starter);
    await subscribe(server, "u_free", null);
  });
  // The last test stops the server itself (a restart); stopping again only drops the database.
  afterAll(async () => server?.stop());

  const usage = (body: unknown, headers?: Record<string, string>) => post(server, "/v1/usage", key, body, headers);
  const entitlement = async (user: string, feature: string) => {
    const res = await fetch(`${server.url}/api/users/${user}/entitlements`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as { entitlements: { feature: string }[] }).entitlements.find((e) => e.feature === feature) as Record<string, unknown>;
  };

  it("records within the quota and answers how the meter stands", async () => {
    const res = await usage({ userId: "u_starter", feature: "api_calls", units: 40, idempotencyKey: "k1" }, { "x-request-id": "req-abc" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ feature: "api_calls", limit: 100, used: 40, remaining: 60, resetsAt: "2026-12-01T00:00:00.000Z", overage: 0 });
    expect(res.headers.get("x-request-id")).toBe("req-abc");
    expect(await entitlement("u_starter", "api_calls")).toMatchObject({ enabled: true, limit: 100, used: 40, remaining: 60, overage: 0 });
  });

  it("puts the key and the request id of each record on the live transition log", async () => {
    const rows = await server.db.prisma.transitionFeed.findMany({ where: { entity: "usage" }, orderBy: { seq: "asc" } });
    expect(rows.at(-1)).toMatchObject({ field: "used", from: "0", to: "40", requestId: "req-abc" });
    expect(rows.at(-1)!.keyId).toMatch(/\S/);
  });

  it("streams each record's transition live to a graphql-sse client, with its key and request id", async () => {
    const client = createClient({ url: `${server.url}/graphql/stream`, headers: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
    try {
      const stream = client.iterate<{ transitions: Record<string, unknown> }>({
        query: 'subscription { transitions(userId: "u_starter", entity: "usage") { entity field from to keyId requestId } }',
      });
      const first = (async () => {
        for await (const result of stream) return result.data!.transitions;
        return null;
      })();
      await new Promise((r) => setTimeout(r, 200));
      expect((await usage({ userId: "u_starter", feature: "api_calls", units: 2, idempotencyKey: "live" }, { "x-request-id": "req-live" })).status).toBe(200);
      // The stream starts at the feed's end when it opens: this record's transition is the first it sees.
      expect(await first).toMatchObject({ entity: "usage", field: "used", from: "40", to: "42", requestId: "req-live" });
    } finally {
      client.dispose();
    }
  });

  it("answers a repeated idempotency key with its first answer and counts it once", async () => {
    const before = await usageCounts(server);
    const again = await usage({ userId: "u_starter", feature: "api_calls", units: 40, idempotencyKey: "k1" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ used: 40, remaining: 60 });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await usageCounts(server)).toEqual(before);
  });

  it("refuses past a block quota with 429, records nothing, and says when it resets", async () => {
    expect((await usage({ userId: "u_starter", feature: "api_calls", units: 58, idempotencyKey: "k2" })).status).toBe(200);
    const before = await usageCounts(server);
    const res = await usage({ userId: "u_starter", feature: "api_calls", units: 1, idempotencyKey: "k3" });
    expect(res.status).toBe(429);
    expect(res.body.error).toMatchObject({ code: "quota_exceeded", limit: 100, used: 100, remaining: 0, resetsAt: "2026-12-01T00:00:00.000Z" });
    expect(res.body.error.message).toContain("2026-12-01");
    expect(await usageCounts(server)).toEqual(before);
    // The check says the same without recording.
    const checked = await post(server, "/v1/check", key, { userId: "u_starter", feature: "api_calls" });
    expect(checked.status).toBe(429);
    expect(checked.body.allowed).toBe(false);
    expect(await usageCounts(server)).toEqual(before);
  });

  it("answers 402 when no live plan grants the feature", async () => {
    const res = await usage({ userId: "u_free", feature: "api_calls", units: 1, idempotencyKey: "k1" });
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe("no_entitlement");
    const checked = await post(server, "/v1/check", key, { userId: "u_free", feature: "api_calls" });
    expect(checked).toMatchObject({ status: 402, body: { allowed: false, error: { code: "no_entitlement" } } });
  });

  it("meters decimals where the catalog declares them and reports overage past an allow limit", async () => {
    const a = await usage({ userId: "u_starter", feature: "cpu_seconds", units: 9.5, idempotencyKey: "c1" });
    expect(a.body).toEqual({ feature: "cpu_seconds", limit: 10, used: 9.5, remaining: 0.5, resetsAt: "2026-12-10T00:00:00.000Z", overage: 0 });
    const b = await usage({ userId: "u_starter", feature: "cpu_seconds", units: 0.75, idempotencyKey: "c2" });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ used: 10.25, remaining: 0, overage: 0.25 });
    expect(await entitlement("u_starter", "cpu_seconds")).toMatchObject({ used: 10.25, overage: 0.25 });
  });

  it("reports the meter over GraphQL too", async () => {
    const res = await post(server, "/graphql", key, { query: '{ entitlement(userId: "u_starter", feature: "cpu_seconds") { limit used remaining overage resetsAt } }' });
    expect(res.body.data.entitlement).toEqual({ limit: 10, used: 10.25, remaining: 0, overage: 0.25, resetsAt: "2026-12-10T00:00:00.000Z" });
  });

  it("checks without recording", async () => {
    const before = await usageCounts(server);
    const res = await post(server, "/v1/check", key, { userId: "u_starter", feature: "cpu_seconds", units: 2 });
    expect(res).toMatchObject({ status: 200, body: { allowed: true, used: 10.25 } });
    expect(await usageCounts(server)).toEqual(before);
  });

  it("answers a batch record by record in one request", async () => {
    const res = await usage({
      records: [
        { userId: "u_starter", feature: "cpu_seconds", units: 1, idempotencyKey: "b1" },
        { userId: "u_starter", feature: "api_calls", units: 1, idempotencyKey: "b2" },
        { userId: "u_free", feature: "api_calls", units: 1, idempotencyKey: "b3" },
        { userId: "u_starter", feature: "cpu_seconds", units: 1, idempotencyKey: "b1" },
        { userId: "u_starter", feature: "cpu_seconds", units: 0.0001, idempotencyKey: "b4" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([200, 429, 402, 200, 400]);
    expect(res.body.results[0]).toMatchObject({ used: 11.25 });
    expect(res.body.results[3]).toMatchObject({ used: 11.25, replayed: true });
    expect(res.body.results[4].error.message).toContain("at most 3 digits");
  });

  describe("bad input is refused and records nothing", () => {
    const cases: [string, unknown, number, string][] = [
      ["negative units", { userId: "u_starter", feature: "cpu_seconds", units: -1, idempotencyKey: "x" }, 400, "greater than 0"],
      ["zero units", { userId: "u_starter", feature: "cpu_seconds", units: 0, idempotencyKey: "x" }, 400, "greater than 0"],
      ["fractional units on a whole meter", { userId: "u_starter", feature: "api_calls", units: 1.5, idempotencyKey: "x" }, 400, "whole units"],
      ["too precise units", { userId: "u_starter", feature: "cpu_seconds", units: 1.0001, idempotencyKey: "x" }, 400, "at most 3 digits"],
      ["units as text", { userId: "u_starter", feature: "cpu_seconds", units: "1", idempotencyKey: "x" }, 400, "units"],
      ["an unknown feature", { userId: "u_starter", feature: "teleport", units: 1, idempotencyKey: "x" }, 400, "teleport"],
      ["an unknown user", { userId: "nobody", feature: "api_calls", units: 1, idempotencyKey: "x" }, 404, "nobody"],
      ["no idempotency key", { userId: "u_starter", feature: "api_calls", units: 1 }, 400, "idempotencyKey"],
      ["a blank idempotency key", { userId: "u_starter", feature: "api_calls", units: 1, idempotencyKey: "  " }, 400, "idempotencyKey"],
      ["a time in the future", { userId: "u_starter", feature: "api_calls", units: 1, idempotencyKey: "x", at: "2030-01-01T00:00:00Z" }, 400, "future"],
      ["a concurrency feature", { userId: "u_starter", feature: "tasks", units: 1, idempotencyKey: "x" }, 400, "lease"],
      ["a value feature", { userId: "u_starter", feature: "max_duration_seconds", units: 1, idempotencyKey: "x" }, 400, "not a meter"],
      ["a body that is not JSON", "{units: 1", 400, "not JSON"],
      ["a user id with a control character", { userId: "u_starter\u0000", feature: "api_calls", units: 1, idempotencyKey: "x" }, 400, "control characters"],
      ["a body nested 100,000 deep", `${"[".repeat(100_000)}${"]".repeat(100_000)}`, 400, "expected a JSON object"],
      ["a value nested 100,000 deep", `{"userId":${"[".repeat(100_000)}${"]".repeat(100_000)},"feature":"api_calls","units":1,"idempotencyKey":"x"}`, 400, "userId"],
      ["a batch over its limit", { records: Array.from({ length: 1001 }, (_, i) => ({ userId: "u_starter", feature: "api_calls", units: 1, idempotencyKey: `o${i}` })) }, 400, "records"],
    ];
    it.each(cases)("%s", async (_name, body, status, says) => {
      const before = await usageCounts(server);
      const res = await usage(body);
      expect(res.status).toBe(status);
      expect(res.body.error.message).toContain(says);
      expect(await usageCounts(server)).toEqual(before);
    });

    it("a body over 1 MiB (413)", async () => {
      const before = await usageCounts(server);
      const res = await usage({ userId: "u_starter", feature: "api_calls", units: 1, idempotencyKey: "x".repeat(1_100_000) });
      expect(res.status).toBe(413);
      expect(await usageCounts(server)).toEqual(before);
    });

    it("a missing key (401) and a key without usage:write (403)", async () => {
      const body = { userId: "u_starter", feature: "cpu_seconds", units: 1, idempotencyKey: "auth" };
      const before = await usageCounts(server);
      expect((await post(server, "/v1/usage", null, body)).status).toBe(401);
      const readOnly = (await createApiKey(server.db, ["read"], new Date())).key;
      const res = await post(server, "/v1/usage", readOnly, body);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain("usage:write");
      expect(await usageCounts(server)).toEqual(before);
    });
  });

  it("applies a plan change at once: the upgrade raises the limit and usage so far carries over", async () => {
    await subscribe(server, "u_upgrade", USAGE_PRICES.starter);
    expect((await usage({ userId: "u_upgrade", feature: "api_calls", units: 100, idempotencyKey: "u1" })).status).toBe(200);
    expect((await usage({ userId: "u_upgrade", feature: "api_calls", units: 1, idempotencyKey: "u2" })).status).toBe(429);
    await subscribe(server, "u_upgrade", USAGE_PRICES.scale, { created: T0 + 86_400, eventSuffix: "_up" });
    const res = await usage({ userId: "u_upgrade", feature: "api_calls", units: 1, idempotencyKey: "u2" });
    expect(res.body).toMatchObject({ limit: 1000, used: 101, remaining: 899 });
  });

  it("serializes 50 concurrent callers racing for the last units: the total never passes the limit", async () => {
    await subscribe(server, "u_race", USAGE_PRICES.starter);
    expect((await usage({ userId: "u_race", feature: "api_calls", units: 90, idempotencyKey: "base" })).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => usage({ userId: "u_race", feature: "api_calls", units: 1, idempotencyKey: `race${i}` })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(40);
    const counter = await server.db.prisma.usageCounter.findMany({ where: { subject: "u_race" } });
    expect(counter.map((c) => Number(c.used))).toEqual([100]);
    expect(await server.db.prisma.event.count({ where: { provider: "app", providerEventId: { startsWith: "usage:u_race:" } } })).toBe(11);
  });

  it("answers a key used before a restart with its first answer", async () => {
    const url = server.databaseUrl;
    await server.app.stop();
    const again = await startServer(kind, usageCatalog, { now: NOW, databaseUrl: url });
    try {
      const k = await usageKey(again);
      const res = await post(again, "/v1/usage", k, { userId: "u_starter", feature: "api_calls", units: 40, idempotencyKey: "k1" });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ feature: "api_calls", limit: 100, used: 40, remaining: 60, resetsAt: "2026-12-01T00:00:00.000Z", overage: 0 });
      expect(res.headers.get("idempotent-replayed")).toBe("true");
    } finally {
      await again.app.stop();
    }
  });
});
