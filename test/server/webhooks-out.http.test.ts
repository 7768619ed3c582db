// Webhooks out on the real server, received by a real local endpoint that verifies every request
// with the Standard Webhooks reference library (`standardwebhooks`): each transition arrives signed,
// once delivered never again, in order per user; an endpoint that fails on purpose or goes away and
// comes back loses nothing (retried with the same webhook-id), and while one user's message waits,
// others' go on. A filter narrows what an endpoint receives; a rolled secret keeps verifying.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETRY_DELAYS } from "../../src/domain/webhooks-out.js";
import { rebuildProjections } from "../../src/projection/projector.js";
import { createApiKey } from "../../src/server/auth.js";
import { createEndpoint, listDeliveries, rollEndpointSecret } from "../../src/store/webhook-endpoints.js";
import { PRICES, testCatalog } from "../builders/histories.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";
import { post } from "../support/usage.js";

type Received = { readonly id: string; readonly type: string; readonly data: { seq: number; userId: string; entity: string; field: string } };

/** A local endpoint: verifies each request with the reference library, answers `failing()` or 204. */
const receiver = async (secret: () => string) => {
  const received: Received[] = [];
  const refused: string[] = [];
  let failWith: number | null = null;
  let port = 0;
  let server: Server | null = null;
  const listen = async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        try {
          const payload = new Webhook(secret()).verify(body, req.headers as Record<string, string>) as Omit<Received, "id">;
          if (failWith !== null) return void res.writeHead(failWith).end();
          received.push({ id: String(req.headers["webhook-id"]), ...payload });
          res.writeHead(204).end();
        } catch (e) {
          refused.push((e as Error).message);
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server!.address() as AddressInfo).port;
  };
  await listen();
  return {
    received,
    refused,
    get url() {
      return `http://127.0.0.1:${port}/hooks`;
    },
    fail: (status: number | null) => (failWith = status),
    down: () => new Promise<void>((resolve) => (server!.closeAllConnections(), server!.close(() => resolve()))),
    up: listen,
  };
};

describe.each(KINDS)("webhooks out (%s)", (kind) => {
  let server: RunningServer;
  let secret = "";
  let endpoint: Awaited<ReturnType<typeof receiver>>;
  const signed = () => ({ timestamp: Math.floor(server.clock.now / 1000) });
  const t0 = () => Math.floor(server.clock.now / 1000) - 3600;
  /** Runs rounds until `done` holds (each round is what the interval would run). */
  const until = async (done: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await done()); i++) {
      await server.app.webhooksOut.wake();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await done()).toBe(true);
  };
  const subscribe = async (n: string, at: number) => {
    await deliver(server.url, stripeEvent({ id: `evt_wo_c_${n}`, type: "customer.created", created: at, object: customer({ id: `cus_wo_${n}`, metadata: { user_id: `u_wo_${n}` } }) }), signed());
    await deliver(server.url, stripeEvent({ id: `evt_wo_s_${n}`, type: "customer.subscription.created", created: at + 1, object: subscription({ id: `sub_wo_${n}`, customer: `cus_wo_${n}`, status: "active", priceId: PRICES.proMonthly, periodStart: at, periodEnd: at + 30 * 86_400, shape: "basil" }) }), signed());
  };
  const cancel = (n: string, at: number) =>
    deliver(server.url, stripeEvent({ id: `evt_wo_d_${n}`, type: "customer.subscription.deleted", created: at, object: subscription({ id: `sub_wo_${n}`, customer: `cus_wo_${n}`, status: "canceled", priceId: PRICES.proMonthly, periodStart: at - 10, periodEnd: at + 30 * 86_400, canceledAt: at, endedAt: at, shape: "basil" }) }), signed());
  const feed = async () => (await server.db.prisma.transitionFeed.findMany({ orderBy: { seq: "asc" } })).map((r) => r.seq);
  const firstSeen = (userId: string) => [...new Map(endpoint.received.filter((m) => m.data.userId === userId).map((m) => [m.id, m.data.seq])).values()];

  beforeAll(async () => {
    server = await startServer(kind, testCatalog, { webhooksOutIntervalMs: 60_000 });
    endpoint = await receiver(() => secret);
    secret = (await createEndpoint(server.db, { url: endpoint.url, filter: null }, new Date(server.clock.now))).secret;
  });
  afterAll(async () => {
    await server?.stop();
    await endpoint?.down().catch(() => undefined);
  });

  it("delivers every transition, signed, once, in order per user, with the app's user id", async () => {
    await subscribe("a", t0());
    await subscribe("b", t0() + 10);
    const seqs = await feed();
    expect(seqs.length).toBeGreaterThan(4);
    await until(() => new Set(endpoint.received.map((m) => m.id)).size === seqs.length);
    expect(endpoint.refused).toEqual([]);
    expect(endpoint.received.map((m) => m.data.seq).sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(endpoint.received.map((m) => m.data.userId))).toEqual(new Set(["u_wo_a", "u_wo_b"]));
    for (const user of ["u_wo_a", "u_wo_b"]) expect(firstSeen(user)).toEqual([...firstSeen(user)].sort((a, b) => a - b));
    expect(endpoint.received.map((m) => m.type)).toContain("subscription.status");
    // Delivered: nothing more is sent.
    const count = endpoint.received.length;
    await server.app.webhooksOut.wake();
    expect(endpoint.received.length).toBe(count);
  });

  it("retries a failing endpoint with the same webhook-id, holding that user's later messages back, not other users'", async () => {
    endpoint.fail(503);
    const before = endpoint.received.length;
    await cancel("a", t0() + 100);
    await server.app.webhooksOut.wake();
    const failing = (await listDeliveries(server.db, { status: "pending" }, 100)).filter((d) => d.userId === "u_wo_a");
    expect(failing.length).toBeGreaterThan(1);
    // Only the oldest of the user's messages was tried.
    expect(failing.filter((d) => d.attempts > 0).map((d) => d.seq)).toEqual([Math.min(...failing.map((d) => d.seq))]);
    expect(failing.find((d) => d.attempts > 0)!.attemptRows.map((a) => a.status)).toEqual([503]);
    endpoint.fail(null);
    await subscribe("c", t0() + 200);
    // User c's messages go out; user a's wait for their retry time.
    await until(() => endpoint.received.some((m) => m.data.userId === "u_wo_c"));
    expect(endpoint.received.slice(before).some((m) => m.data.userId === "u_wo_a")).toBe(false);
    server.clock.now += RETRY_DELAYS[0]!;
    await until(async () => (await listDeliveries(server.db, { status: "pending" }, 100)).length === 0);
    expect(firstSeen("u_wo_a")).toEqual([...firstSeen("u_wo_a")].sort((a, b) => a - b));
    const retried = (await listDeliveries(server.db, { userId: "u_wo_a" }, 100)).find((d) => d.attempts === 2)!;
    expect(retried.attemptRows.map((a) => a.status)).toEqual([503, 204]);
    expect(endpoint.received.filter((m) => m.id === retried.id)).toHaveLength(1);
  });

  it("loses nothing while the endpoint is away, and delivers once it is back", async () => {
    await endpoint.down();
    await cancel("b", t0() + 300);
    await server.app.webhooksOut.wake();
    const waiting = await listDeliveries(server.db, { status: "pending" }, 100);
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.find((d) => d.attempts > 0)!.attemptRows[0]).toMatchObject({ status: 0, error: expect.stringMatching(/ECONNREFUSED/) });
    await endpoint.up();
    server.clock.now += RETRY_DELAYS[0]!;
    await until(async () => (await listDeliveries(server.db, { status: "pending" }, 100)).length === 0);
    expect(new Set(endpoint.received.map((m) => m.data.seq))).toEqual(new Set(await feed()));
  });

  it("sends only what a filter names, and a rolled secret's deliveries verify with the old secret and the new", async () => {
    const narrowed = await receiver(() => narrowSecret);
    let narrowSecret = (await createEndpoint(server.db, { url: narrowed.url, filter: "entity=subscription,field=status" }, new Date(server.clock.now))).secret;
    const old = secret;
    const rolled = await rollEndpointSecret(server.db, (await server.db.prisma.webhookEndpoint.findFirstOrThrow({ where: { url: endpoint.url } })).id, new Date(server.clock.now), 86_400_000);
    await subscribe("d", t0() + 400);
    await until(() => narrowed.received.length > 0 && endpoint.received.some((m) => m.data.userId === "u_wo_d"));
    expect(narrowed.received.map((m) => m.type)).toEqual(["subscription.status"]);
    expect(endpoint.refused).toEqual([]);
    // The same deliveries verify with the new secret alone, too.
    secret = rolled!.secret;
    await cancel("d", t0() + 500);
    await until(() => endpoint.received.filter((m) => m.data.userId === "u_wo_d").length > 2 && narrowed.received.length > 1);
    expect(endpoint.refused).toEqual([]);
    expect(old).not.toBe(rolled!.secret);
    narrowSecret = "whsec_" + Buffer.alloc(32).toString("base64");
    await narrowed.down();
  });

  it("manages endpoints over the admin API as the CLI does: created with its secret once, listed without it, rolled, deleted", async () => {
    const admin = (await createApiKey(server.db, ["admin"], new Date())).key;
    const call = async (method: string, path: string, body?: unknown, key = admin) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const other = await receiver(() => otherSecret);
    const created = await call("POST", "/api/admin/endpoints", { url: other.url, filter: "entity=subscription" });
    expect(created).toMatchObject({ status: 201, body: { endpoint: { url: other.url, filter: "entity=subscription" }, secret: expect.stringMatching(/^whsec_/) } });
    let otherSecret = created.body.secret as string;
    const id = created.body.endpoint.id as string;
    const listed = await call("GET", "/api/admin/endpoints");
    expect(listed.body.endpoints.find((e: any) => e.id === id)).toEqual({ id, url: other.url, filter: "entity=subscription", fedThrough: expect.any(Number), createdAt: expect.any(String) });
    expect(JSON.stringify(listed.body)).not.toContain("whsec_");
    await subscribe("e", t0() + 600);
    await until(() => other.received.length > 0);
    expect(other.refused).toEqual([]);
    const rolled = await call("POST", `/api/admin/endpoints/${id}/roll-secret`);
    expect(rolled).toMatchObject({ status: 200, body: { secret: expect.stringMatching(/^whsec_/), previousSecretUntil: expect.any(String) } });
    otherSecret = rolled.body.secret;
    expect(await call("DELETE", `/api/admin/endpoints/${id}`)).toEqual({ status: 200, body: { deleted: id } });
    expect(await call("DELETE", `/api/admin/endpoints/${id}`)).toMatchObject({ status: 404, body: { error: { code: "endpoint_not_found" } } });
    const broken = await fetch(`${server.url}/api/admin/endpoints`, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: "{ not json" });
    expect({ status: broken.status, code: ((await broken.json()) as any).error.code }).toEqual({ status: 400, code: "invalid_json" });
    expect(await call("POST", "/api/admin/endpoints", { url: "ftp://x" })).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter", message: expect.stringContaining("must be an http or https URL") } } });
    expect(await call("POST", "/api/admin/endpoints", { url: "https://x", filter: "plan=pro" })).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining("filter") } } });
    expect(await call("GET", "/api/admin/endpoints", undefined, server.readKey)).toMatchObject({ status: 403 });
    await other.down();
  });

  it("sends usage-threshold crossings (80% and 100% of a limit) as usage.threshold messages", async () => {
    const watcher = await receiver(() => watcherSecret);
    const watcherSecret = (await createEndpoint(server.db, { url: watcher.url, filter: "entity=usage,field=threshold" }, new Date(server.clock.now))).secret;
    await subscribe("f", t0() + 700);
    const key = (await createApiKey(server.db, ["usage:write"], new Date())).key;
    // The test catalog's pro plan: 10,000 api_calls a month.
    for (const [units, n] of [[7_000, 1], [1_500, 2], [1_500, 3]] as const) {
      expect((await post(server, "/v1/usage", key, { userId: "u_wo_f", feature: "api_calls", units, idempotencyKey: `wo-f-${n}` })).status).toBe(200);
    }
    await until(() => watcher.received.length >= 2);
    expect(watcher.received.map((m) => [m.type, m.data.userId, (m.data as any).to])).toEqual([
      ["usage.threshold", "u_wo_f", "80"],
      ["usage.threshold", "u_wo_f", "100"],
    ]);
    await watcher.down();
  });

  it("sends nothing again when the projections are rebuilt from the event store (replay gives the same log)", async () => {
    // Every endpoint is fed through the end of the log first.
    await server.app.webhooksOut.wake();
    const feedEnd = (await server.db.prisma.transitionFeed.findFirst({ orderBy: { seq: "desc" } }))!.seq;
    expect((await server.db.prisma.webhookEndpoint.findMany()).map((e) => e.cursor)).toEqual((await server.db.prisma.webhookEndpoint.findMany()).map(() => feedEnd));
    const before = await server.db.prisma.webhookDelivery.findMany({ select: { id: true } });
    const deliveredBefore = new Set(endpoint.received.map((m) => m.id));
    const received = endpoint.received.length;
    await rebuildProjections(server.db, testCatalog);
    await server.app.webhooksOut.wake();
    await server.app.webhooksOut.wake();
    expect((await server.db.prisma.webhookDelivery.findMany({ select: { id: true } })).map((d) => d.id).sort()).toEqual(before.map((d) => d.id).sort());
    // What arrives now is only what was still owed, never a message delivered before.
    expect(endpoint.received.slice(received).filter((m) => deliveredBefore.has(m.id))).toEqual([]);
  });

  it("shows deliveries and their attempts over GraphQL to an admin key only", async () => {
    const admin = (await createApiKey(server.db, ["admin"], new Date())).key;
    const ask = async (key: string) =>
      (await (await fetch(`${server.url}/graphql`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ query: `{ webhookEndpoints { id url fedThrough } webhookDeliveries(userId: "u_wo_a", first: 20) { id status type attempts { status error } } }` }) })).json()) as any;
    const answer = await ask(admin);
    expect(answer.errors).toBeUndefined();
    expect(answer.data.webhookEndpoints.map((e: any) => e.url)).toContain(endpoint.url);
    const retried = answer.data.webhookDeliveries.find((d: any) => d.attempts.length === 2);
    expect(retried).toMatchObject({ status: "delivered", attempts: [{ status: 503, error: "answered 503" }, { status: 204, error: null }] });
    expect((await ask(server.readKey)).errors[0].extensions.code).toBe("forbidden");
  });
});

describe("webhooks out, a slow endpoint", () => {
  it("holds up no other endpoint: rounds go on while its request hangs", async () => {
    const server = await startServer("sqlite", testCatalog, { webhooksOutIntervalMs: 50 });
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    let fastSecret = "";
    let stopped = false;
    const fast = await receiver(() => fastSecret);
    try {
      await createEndpoint(server.db, { url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/slow`, filter: null }, new Date(server.clock.now));
      fastSecret = (await createEndpoint(server.db, { url: fast.url, filter: null }, new Date(server.clock.now))).secret;
      const t = Math.floor(server.clock.now / 1000) - 60;
      await deliver(server.url, stripeEvent({ id: "evt_slow_c", type: "customer.created", created: t, object: customer({ id: "cus_slow", metadata: { user_id: "u_slow" } }) }), { timestamp: Math.floor(server.clock.now / 1000) });
      const feed = await server.db.prisma.transitionFeed.count();
      // The hanging endpoint keeps its request open for its whole 10 s timeout; the other one gets everything well before.
      const started = Date.now();
      for (let i = 0; i < 400 && new Set(fast.received.map((m) => m.id)).size < feed; i++) await new Promise((r) => setTimeout(r, 20));
      expect(new Set(fast.received.map((m) => m.id)).size).toBe(feed);
      expect(Date.now() - started).toBeLessThan(8_000);
      // Stopping does not wait for the hanging request, nor count it as an attempt.
      const stopping = Date.now();
      await server.stop();
      stopped = true;
      expect(Date.now() - stopping).toBeLessThan(5_000);
    } finally {
      if (!stopped) await server.stop();
      hanging.closeAllConnections();
      hanging.close();
      await fast.down();
    }
  }, 30_000);
});
