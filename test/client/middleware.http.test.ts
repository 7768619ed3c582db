// The quota gates of @verity/client against a real Verity: Express's requireQuota in a real Express
// app on a real HTTP server, and the Next.js helpers (withQuota, quotaResponse) on Web Request and
// Response. Each lets an allowed request through, answers 402/429 with Verity's error body (429
// with Retry-After until the quota resets), 401 without a user, 503 when Verity gives no decision
// (or lets it through with onUnavailable: "open"), and passes a misconfiguration on as an error.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerityClient, VerityError, type VerityClient } from "@verity/client";
import { requireQuota, type QuotaGateOptions } from "@verity/client/express";
import { quotaResponse, withQuota } from "@verity/client/next";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, type World } from "./world.js";

/** A Verity URL where nothing listens. */
const closedUrl = async (): Promise<string> => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
};

/** A fetch that never answers (until aborted): Verity hanging. */
const hanging: typeof fetch = (_input, init) =>
  new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason), { once: true }));

/** What Retry-After should say for a quota that resets at `resetsAt`, give or take a few seconds of test time. */
const expectRetryAfter = (header: string | null, resetsAt: string) => {
  const seconds = Number(header);
  const expected = Math.ceil((Date.parse(resetsAt) - Date.now()) / 1000);
  expect(seconds).toBeGreaterThan(expected - 30);
  expect(seconds).toBeLessThanOrEqual(expected + 1);
};

describe("quota middleware", () => {
  let world: World;
  let client: VerityClient;
  let down: VerityClient;
  beforeAll(async () => {
    world = await startWorld();
    client = createVerityClient({ url: world.server.url, apiKey: world.readKey });
    down = createVerityClient({ url: await closedUrl(), apiKey: world.readKey });
  });
  afterAll(async () => world?.stop());

  describe("Express (requireQuota)", () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      const app = express();
      const gate = (options: Partial<QuotaGateOptions<express.Request>> = {}) =>
        requireQuota<express.Request>({ client, feature: "api_calls", userId: (req) => req.get("x-user") ?? null, units: (req) => Number(req.query.units ?? 1), ...options });
      const handler: express.RequestHandler = (_req, res) => {
        res.json({ ok: true, remaining: (res.locals.verityCheck as { remaining?: number } | null)?.remaining ?? null });
      };
      app.post("/api/run", gate(), handler);
      app.post("/api/run-down", gate({ client: down }), handler);
      app.post("/api/run-down-open", gate({ client: down, onUnavailable: "open" }), handler);
      app.post("/api/run-hanging", gate({ client: createVerityClient({ url: world.server.url, fetch: hanging }), timeoutMs: 200 }), handler);
      app.post("/api/run-typo", gate({ feature: "api_cals" }), handler);
      app.use(((error, _req, res, _next) => {
        res.status(500).json({ handledBy: "app", code: error instanceof VerityError ? error.code : "other" });
      }) as express.ErrorRequestHandler);
      server = app.listen(0, "127.0.0.1");
      await new Promise((r) => server.once("listening", r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => new Promise((r) => server?.close(r)));

    const run = async (path: string, user: string | null) => {
      const res = await fetch(`${base}${path}`, { method: "POST", headers: user === null ? {} : { "x-user": user } });
      return { status: res.status, body: (await res.json()) as any, retryAfter: res.headers.get("retry-after") };
    };

    it("lets an allowed request through, with the check in res.locals", async () => {
      expect(await run("/api/run", "u_pro")).toMatchObject({ status: 200, body: { ok: true, remaining: 3 } });
    });

    it("answers 402 for a user without the feature, and for one Verity does not know yet", async () => {
      const free = await run("/api/run", "u_free");
      expect(free).toMatchObject({ status: 402, body: { error: { code: "no_entitlement", message: 'no live plan of "u_free" grants "api_calls"' } } });
      expect(free.body).not.toHaveProperty("allowed");
      expect(await run("/api/run", "u_stranger")).toMatchObject({ status: 402, body: { error: { code: "no_entitlement" } } });
    });

    it("answers 429 with Verity's error body and Retry-After until the quota resets", async () => {
      const spent = await run("/api/run?units=4", "u_pro");
      expect(spent).toMatchObject({ status: 429, body: { error: { code: "quota_exceeded", feature: "api_calls", limit: 3, used: 0, remaining: 3 } } });
      expectRetryAfter(spent.retryAfter, spent.body.error.resetsAt);
    });

    it("answers 401 without a user", async () => {
      expect(await run("/api/run", null)).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    });

    it("fails closed (503) when Verity is down or hangs, or open when asked", async () => {
      expect(await run("/api/run-down", "u_pro")).toMatchObject({ status: 503, retryAfter: "5", body: { error: { code: "quota_unavailable" } } });
      const started = Date.now();
      expect(await run("/api/run-hanging", "u_pro")).toMatchObject({ status: 503, body: { error: { code: "quota_unavailable" } } });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await run("/api/run-down-open", "u_pro")).toMatchObject({ status: 200, body: { ok: true, remaining: null } });
    });

    it("passes a misconfiguration to the app's error handler", async () => {
      expect(await run("/api/run-typo", "u_pro")).toMatchObject({ status: 500, body: { handledBy: "app", code: "unknown_feature" } });
    });
  });

  describe("Next.js (withQuota, quotaResponse) on Web Request/Response", () => {
    type Ctx = { readonly params: Promise<Record<string, string>> };
    const ctx: Ctx = { params: Promise.resolve({}) };
    const options = (more: Partial<QuotaGateOptions<Request>> = {}): QuotaGateOptions<Request> => ({
      client,
      feature: "api_calls",
      userId: (req) => req.headers.get("x-user"),
      units: (req) => Number(new URL(req.url).searchParams.get("units") ?? 1),
      ...more,
    });
    const request = (user: string | null, query = "") => new Request(`http://app.test/api/run${query}`, { method: "POST", headers: user === null ? {} : { "x-user": user } });
    // Made once the server runs (options() reads its client), as a route module's `export const POST` would be.
    let POST: (request: Request, context: Ctx) => Promise<Response>;
    beforeAll(() => {
      POST = withQuota(async (_req: Request, context: Ctx, check) => Response.json({ ok: true, params: await context.params, remaining: check?.remaining ?? null }), options());
    });

    it("runs the handler when allowed, with its context and the check", async () => {
      const res = await POST(request("u_pro"), ctx);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, params: {}, remaining: 3 });
    });

    it("answers 402, 429 with Retry-After, and 401 without calling the handler", async () => {
      const free = await POST(request("u_free"), ctx);
      expect([free.status, await free.json()]).toEqual([402, { error: { code: "no_entitlement", message: 'no live plan of "u_free" grants "api_calls"' } }]);
      const spent = await POST(request("u_pro", "?units=4"), ctx);
      expect(spent.status).toBe(429);
      expect(spent.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await spent.json()) as { error: { code: string; resetsAt: string } };
      expect(body.error.code).toBe("quota_exceeded");
      expectRetryAfter(spent.headers.get("retry-after"), body.error.resetsAt);
      expect((await POST(request(null), ctx)).status).toBe(401);
    });

    it("fails closed (503) or open when Verity is down, and throws a misconfiguration", async () => {
      const closed = withQuota(async () => Response.json({ ok: true }), options({ client: down }));
      const res = await closed(request("u_pro"), ctx);
      expect([res.status, res.headers.get("retry-after")]).toEqual([503, "5"]);
      const open = withQuota(async () => Response.json({ ok: true }), options({ client: down, onUnavailable: "open" }));
      expect((await open(request("u_pro"), ctx)).status).toBe(200);
      const typo = withQuota(async () => Response.json({ ok: true }), options({ feature: "api_cals" }));
      await expect(typo(request("u_pro"), ctx)).rejects.toMatchObject({ name: "VerityError", status: 400, code: "unknown_feature" });
    });

    it("answers middleware.ts with a refusal or null", async () => {
      expect(await quotaResponse(request("u_pro"), options())).toBeNull();
      expect((await quotaResponse(request("u_free"), options()))?.status).toBe(402);
    });
  });
});
