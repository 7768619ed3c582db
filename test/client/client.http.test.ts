// @verity/client (the built package, imported by name as an app would) against a real Verity server
// fed signed Stripe webhooks: every call answers what the server holds, typed; refusals arrive as
// the error class a caller branches on (VerityError with status and code, QuotaError for 402/429
// with when it resets, VerityUnavailableError when nothing answered); check answers a refusal as
// `allowed: false`; live transitions arrive as a webhook causes them.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerityClient, QuotaError, VerityError, VerityUnavailableError, type LiveTransition, type TypedDocument, type VerityClient } from "@verity/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserDocument } from "../../examples/client/generated/graphql.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { deliver } from "../support/stripe-delivery.js";
import { buyLifetime, knownUser, startWorld, subscribePro, type World } from "./world.js";

const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.fail("expected a rejection"), (e: unknown) => e);

describe("@verity/client against a real server", () => {
  let world: World;
  let reader: VerityClient;
  let writer: VerityClient;
  beforeAll(async () => {
    world = await startWorld({ proUsers: ["u_meter", "u_lease", "u_credits"] });
    reader = createVerityClient({ url: world.server.url, apiKey: world.readKey });
    writer = createVerityClient({ url: world.server.url, apiKey: world.usageKey });
  });
  afterAll(async () => world?.stop());

  it("reads entitlements (REST) and one entitlement (GraphQL, typed from schema.graphql)", async () => {
    const all = await reader.entitlements("u_pro");
    expect(all.userId).toBe("u_pro");
    expect(all.entitlements.filter((e) => e.enabled).map((e) => [e.feature, e.source])).toEqual([
      ["ai_image", "pro"],
      ["api_calls", "pro"],
      ["cpu_seconds", "pro"],
      ["export", "pro"],
      ["max_duration_seconds", "pro"],
      ["tasks", "pro"],
    ]);
    expect(all.entitlements.find((e) => e.feature === "max_duration_seconds")?.value).toBe(300);
    // A customer id finds the same user; a user without a plan has every feature off.
    expect((await reader.entitlements("cus_u_pro")).userId).toBe("u_pro");
    expect((await reader.entitlements("u_free")).entitlements.every((e) => !e.enabled)).toBe(true);

    const one = await reader.entitlement("u_pro", "api_calls");
    expect(one).toEqual({ feature: "api_calls", enabled: true, source: "pro", limit: 3, used: 0, remaining: 3, resetsAt: expect.any(String), overage: 0, value: null });
    expect((await reader.entitlement("u_free", "export")).enabled).toBe(false);
  });

  it("throws VerityError 404 user_not_found for a user Verity does not know, over REST and GraphQL", async () => {
    for (const call of [reader.entitlements("nobody"), reader.subscription("nobody"), reader.credits("nobody"), reader.entitlement("nobody", "export")]) {
      const e = await caught(call);
      expect(e).toBeInstanceOf(VerityError);
      expect(e).toMatchObject({ status: 404, code: "user_not_found", message: 'no user is known by the id "nobody"' });
    }
  });

  it("reads the subscription, the credits ledger (paged) and the plans (translated)", async () => {
    const sub = await reader.subscription("u_pro");
    expect(sub.subscription).toMatchObject({ provider: "stripe", id: "sub_u_pro", plan: "pro", status: "active", cancelAtPeriodEnd: false });
    expect(sub.subscriptions).toHaveLength(1);
    expect((await reader.subscription("u_free")).subscription).toBeNull();

    const credits = await reader.credits("u_pro");
    expect(credits).toMatchObject({ userId: "u_pro", balances: { subscription: 100, oneTime: 0 }, next: null });
    expect(credits.ledger.map((e) => [e.kind, e.bucket, e.amount, e.balanceAfter])).toEqual([["grant", "subscription", 100, 100]]);
    const page = await reader.credits("u_pro", { limit: 1 });
    expect(page.ledger).toHaveLength(1);

    const plans = await reader.plans();
    expect(plans.plans.map((p) => [p.code, p.name])).toEqual([["pro", "Pro"], ["lifetime", "Lifetime"], ["pack", "Credit pack"]]);
    expect(plans.plans[0]!.features.find((f) => f.feature === "tasks")).toEqual({ feature: "tasks", kind: "concurrent", concurrent: 1, leaseSeconds: 60 });
    const de = await reader.plans({ locale: "de-AT" });
    expect(de.plans[0]).toMatchObject({ name: "Profi", locale: "de" });
    expect(await caught(reader.plans({ locale: "not a tag" }))).toMatchObject({ status: 400, code: "invalid_parameter" });
  });

  it("verifies a checkout: pending until the provider's event arrived, then for whom and what it grants", async () => {
    expect(await reader.checkout("stripe", "cs_client_once")).toEqual({ provider: "stripe", id: "cs_client_once", status: "pending", userId: null, paid: false, order: null, subscriptions: [], entitlements: [] });
    await knownUser(world.server, "u_buyer", world.now - 30);
    await buyLifetime(world.server, "u_buyer", "cs_client_once", world.now - 20);
    const done = await reader.checkout("stripe", "cs_client_once");
    expect(done).toMatchObject({ status: "completed", userId: "u_buyer", paid: true, order: { id: "cs_client_once", plan: "lifetime", status: "paid", amount: 19900, currency: "usd" } });
    expect(done.entitlements.map((e) => [e.feature, e.source])).toEqual([["export", "lifetime"]]);
  });

  it("checks without recording: allowed, or allowed:false with the status and Verity's reason for 402 and 429", async () => {
    const allowed = await reader.check({ userId: "u_meter", feature: "api_calls", units: 3 });
    expect(allowed).toMatchObject({ status: 200, allowed: true, feature: "api_calls", limit: 3, used: 0, remaining: 3 });
    const noPlan = await reader.check({ userId: "u_free", feature: "api_calls" });
    expect(noPlan).toMatchObject({ status: 402, allowed: false, error: { code: "no_entitlement" } });
    const tooMany = await reader.check({ userId: "u_meter", feature: "api_calls", units: 4 });
    expect(tooMany).toMatchObject({ status: 429, allowed: false, error: { code: "quota_exceeded", feature: "api_calls", limit: 3, used: 0, resetsAt: expect.any(String) } });
    // Refusals that are mistakes, not decisions, are thrown.
    expect(await caught(reader.check({ userId: "u_meter", feature: "nope" }))).toMatchObject({ status: 400, code: "unknown_feature" });
    expect(await caught(reader.check({ userId: "nobody", feature: "api_calls" }))).toMatchObject({ status: 404, code: "user_not_found" });
  });

  it("records usage idempotently and throws QuotaError (nothing recorded) once the quota is spent", async () => {
    const first = await writer.recordUsage({ userId: "u_meter", feature: "api_calls", units: 2, idempotencyKey: "req-1" });
    expect(first).toMatchObject({ feature: "api_calls", limit: 3, used: 2, remaining: 1, overage: 0, replayed: false });
    const again = await writer.recordUsage({ userId: "u_meter", feature: "api_calls", units: 2, idempotencyKey: "req-1" });
    expect(again).toMatchObject({ used: 2, replayed: true });
    const spent = await caught(writer.recordUsage({ userId: "u_meter", feature: "api_calls", units: 2, idempotencyKey: "req-2", at: new Date(world.server.clock.now) }));
    expect(spent).toBeInstanceOf(QuotaError);
    const quota = spent as QuotaError;
    expect(quota).toMatchObject({ status: 429, code: "quota_exceeded", feature: "api_calls", details: { limit: 3, used: 2, remaining: 1 } });
    expect(quota.resetsAt).toBe(first.resetsAt);
    expect(quota.retryAfterSeconds(Date.parse(first.resetsAt!) - 10_500)).toBe(11);
    expect((await reader.entitlement("u_meter", "api_calls")).used).toBe(2);

    const noPlan = await caught(writer.recordUsage({ userId: "u_free", feature: "api_calls", units: 1, idempotencyKey: "req-3" }));
    expect(noPlan).toBeInstanceOf(QuotaError);
    expect(noPlan).toMatchObject({ status: 402, code: "no_entitlement", resetsAt: null });
    expect(await caught(writer.recordUsage({ userId: "u_meter", feature: "api_calls", units: 0.5, idempotencyKey: "req-4" }))).toMatchObject({ status: 400, code: "invalid_parameter" });
  });

  it("debits credits for a credit-priced feature and answers 402 insufficient_credits when short", async () => {
    const used = await writer.recordUsage({ userId: "u_credits", feature: "ai_image", units: 2, idempotencyKey: "img-1" });
    expect(used.credits).toEqual({ subscription: 90, oneTime: 0 });
    expect(await writer.check({ userId: "u_credits", feature: "ai_image", units: 1 })).toMatchObject({ status: 200, allowed: true, cost: 5, credits: { subscription: 90, oneTime: 0 } });
    const short = await caught(writer.recordUsage({ userId: "u_credits", feature: "ai_image", units: 19, idempotencyKey: "img-2" }));
    expect(short).toMatchObject({ status: 402, code: "insufficient_credits", feature: "ai_image", details: { cost: 95, credits: { subscription: 90, oneTime: 0 } } });
    const ledger = await reader.credits("u_credits");
    expect(ledger.ledger.map((e) => [e.kind, e.amount, e.cause])).toEqual([["grant", 100, "stripe:in_u_credits"], ["debit", -10, "app:usage:u_credits:img-1"]]);
  });

  it("records a batch, each record answered with its own status", async () => {
    const { results } = await writer.recordUsageBatch([
      { userId: "u_meter", feature: "cpu_seconds", units: 1.25, idempotencyKey: "b-1" },
      { userId: "u_meter", feature: "api_calls", units: 5, idempotencyKey: "b-2" },
      { userId: "u_free", feature: "cpu_seconds", units: 1, idempotencyKey: "b-3" },
      { userId: "u_meter", feature: "cpu_seconds", units: 1.25, idempotencyKey: "b-1" },
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 429, 402, 200]);
    expect(results[0]).toMatchObject({ status: 200, feature: "cpu_seconds", used: 1.25, limit: 10 });
    expect(results[1]).toMatchObject({ error: { code: "quota_exceeded" } });
    expect(results[3]).toMatchObject({ status: 200, replayed: true, used: 1.25 });
    expect(await caught(writer.recordUsageBatch([]))).toMatchObject({ status: 400, code: "invalid_parameter" });
  });

  it("takes and releases leases: QuotaError 429 concurrency_exceeded while the slot is held, the work's usage recorded on release", async () => {
    const lease = await writer.acquireLease({ userId: "u_lease", feature: "tasks", idempotencyKey: "job-1", ttlSeconds: 30 });
    expect(lease).toMatchObject({ leaseId: expect.stringMatching(/^lse_/), active: 1, limit: 1, feature: "tasks", replayed: false });
    expect((await writer.acquireLease({ userId: "u_lease", feature: "tasks", idempotencyKey: "job-1" })).replayed).toBe(true);
    const held = await caught(writer.acquireLease({ userId: "u_lease", feature: "tasks", idempotencyKey: "job-2" }));
    expect(held).toBeInstanceOf(QuotaError);
    expect(held).toMatchObject({ status: 429, code: "concurrency_exceeded", feature: "tasks", resetsAt: lease.expiresAt, details: { limit: 1, active: 1 } });

    const released = await writer.releaseLease(lease.leaseId, { usage: { feature: "cpu_seconds", units: 2.5 } });
    expect(released).toMatchObject({ leaseId: lease.leaseId, feature: "tasks", expired: false, usage: { status: 200, feature: "cpu_seconds", used: 2.5 } });
    expect(await writer.releaseLease(lease.leaseId)).toMatchObject({ leaseId: lease.leaseId, releasedAt: released.releasedAt });
    expect((await writer.acquireLease({ userId: "u_lease", feature: "tasks", idempotencyKey: "job-2" })).active).toBe(1);
    expect(await caught(writer.releaseLease("lse_nope"))).toMatchObject({ status: 404, code: "lease_not_found" });
  });

  it("issues an entitlement token with a tokens:write key", async () => {
    const tokens = createVerityClient({ url: world.server.url, apiKey: world.tokensKey });
    const issued = await tokens.issueToken({ userId: "cus_u_pro", audience: "shop.example.com", ttlSeconds: 60 });
    expect(issued).toMatchObject({ userId: "u_pro", audience: "shop.example.com", keyId: expect.stringMatching(/^vk_/), token: expect.stringMatching(/^ey/) });
    expect(Date.parse(issued.expiresAt) - world.server.clock.now).toBeLessThanOrEqual(60_000);
    expect(issued.entitlements.max_duration_seconds).toEqual({ value: 300 });
    expect(await caught(tokens.issueToken({ userId: "u_pro", audience: "a", ttlSeconds: 86_401 }))).toMatchObject({ status: 400, code: "invalid_parameter" });
  });

  it("activates a client with a one-time code, refreshes with rotation, and revokes", async () => {
    const app = createVerityClient({ url: world.server.url, apiKey: world.tokensKey });
    // The plugin's side holds no key.
    const plugin = createVerityClient({ url: world.server.url });
    const { code } = await app.issueActivationCode({ userId: "u_pro", tokenTtlSeconds: 120 });
    const pair = await plugin.activate({ code, domain: "shop.example.com" });
    expect(pair).toMatchObject({ userId: "u_pro", domain: "shop.example.com", tokenType: "Bearer", entitlements: { export: {} } });
    expect(Date.parse(pair.expiresAt) - world.server.clock.now).toBeLessThanOrEqual(120_000);
    expect(await caught(plugin.activate({ code, domain: "shop.example.com" }))).toMatchObject({ status: 409, code: "activation_code_used" });
    const next = await plugin.refresh({ refreshToken: pair.refreshToken, domain: "shop.example.com" });
    expect(next.activationId).toBe(pair.activationId);
    expect((await reader.activations("u_pro")).activations[0]).toMatchObject({ id: pair.activationId, rotations: 1, status: "active" });
    expect(await app.revokeActivation(pair.activationId)).toMatchObject({ id: pair.activationId, status: "revoked", revokedReason: "revoked" });
    expect(await caught(plugin.refresh({ refreshToken: next.refreshToken, domain: "shop.example.com" }))).toMatchObject({ status: 401, code: "activation_revoked" });
  });

  it("throws 401 and 403 refusals with Verity's codes, and carries the request id both ways", async () => {
    expect(await caught(createVerityClient({ url: world.server.url }).entitlements("u_pro"))).toMatchObject({ status: 401, code: "unauthorized" });
    const wrong = await caught(createVerityClient({ url: world.server.url, apiKey: "vty_wrong" }).entitlement("u_pro", "export"));
    expect(wrong).toMatchObject({ status: 401, code: "invalid_api_key" });
    const forbidden = await caught(reader.recordUsage({ userId: "u_pro", feature: "api_calls", units: 1, idempotencyKey: "r-1" }, { requestId: "req-abc" }));
    expect(forbidden).toBeInstanceOf(VerityError);
    expect(forbidden).not.toBeInstanceOf(QuotaError);
    expect(forbidden).toMatchObject({ status: 403, code: "forbidden", message: 'this API key lacks the "usage:write" scope', requestId: "req-abc" });
    // Extra headers go along (here: a header function, as a session-bound proxy would want).
    const seen: string[] = [];
    const spying = createVerityClient({ url: world.server.url, apiKey: world.readKey, headers: () => ({ "x-app": "yes" }), fetch: (input, init) => (seen.push(new Headers(init?.headers).get("x-app") ?? ""), fetch(input, init)) });
    await spying.plans();
    expect(seen).toEqual(["yes"]);
  });

  it("throws VerityUnavailableError when nothing answers or Verity answers 5xx, and a caller's abort as an abort", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await caught(createVerityClient({ url: `http://127.0.0.1:${port}`, apiKey: world.readKey }).entitlements("u_pro"));
    expect(down).toBeInstanceOf(VerityUnavailableError);
    expect(down).toMatchObject({ status: 0, code: "unreachable" });

    const starting = createVerityClient({ url: "http://verity.test", fetch: async () => new Response(JSON.stringify({ error: { code: "starting", message: "catching up" } }), { status: 503 }) });
    expect(await caught(starting.check({ userId: "u", feature: "f" }))).toMatchObject({ name: "VerityUnavailableError", status: 503, code: "starting" });
    const html = createVerityClient({ url: "http://verity.test", fetch: async () => new Response("<html>proxy says hi</html>", { status: 200 }) });
    expect(await caught(html.plans())).toMatchObject({ name: "VerityUnavailableError", code: "invalid_answer" });

    const aborter = new AbortController();
    aborter.abort(new Error("the caller gave up"));
    expect(await caught(reader.plans({}, { signal: aborter.signal }))).toMatchObject({ message: "the caller gave up" });
  });

  it("keeps a path prefix in the URL (a proxy that mounts Verity under /verity)", async () => {
    const paths: string[] = [];
    const proxied = createVerityClient({ url: "https://app.example.com/verity", fetch: async (input) => (paths.push(String(input)), new Response(JSON.stringify({ plans: [] }))) });
    await proxied.plans({ locale: "pt-BR" });
    await proxied.credits("user/1", { limit: 5, after: "abc" });
    expect(paths).toEqual(["https://app.example.com/verity/api/plans?locale=pt-BR", "https://app.example.com/verity/api/users/user%2F1/credits?limit=5&after=abc"]);
  });

  it("runs any typed GraphQL document: a DocumentNode from your own codegen, or a typed string", async () => {
    const { user } = await reader.graphql(UserDocument, { id: "cus_u_pro" });
    expect(user?.subscription?.plan).toBe("pro");
    const projected = "{ projectedThrough }" as TypedDocument<{ readonly projectedThrough: number }, Record<string, never>>;
    expect((await reader.graphql(projected, {})).projectedThrough).toBeGreaterThan(0);
    expect(await caught(reader.graphql("{ nope }" as TypedDocument<unknown, Record<string, never>>, {}))).toMatchObject({ status: 400, code: "GRAPHQL_VALIDATION_FAILED" });
  });

  it("streams a transition a webhook causes, live, and refuses an unknown user", async () => {
    await knownUser(world.server, "u_live", world.now - 10);
    const aborter = new AbortController();
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    const stream = reader.live({ userId: "u_live", entity: "subscription" }, { signal: aborter.signal, onConnected: () => connected() });
    const first = stream.next();
    await ready;
    await subscribePro(world.server, "u_live", world.now - 5);
    const { value } = await first;
    const t = value as LiveTransition;
    expect(t).toMatchObject({ userId: "u_live", entity: "subscription", entityId: "stripe:sub_u_live", cause: "stripe:evt_sub_u_live", cursor: expect.any(String) });
    aborter.abort();
    expect(await stream.next()).toEqual({ done: true, value: undefined });

    const refused = await caught(reader.live({ userId: "nobody" }).next());
    expect(refused).toBeInstanceOf(VerityError);
    expect(refused).toMatchObject({ status: 404, code: "user_not_found" });
    const badKey = await caught(createVerityClient({ url: world.server.url, apiKey: "vty_wrong" }).live({}).next());
    expect(badKey).toMatchObject({ status: 401, code: "invalid_api_key" });
  });

  it("resumes after the server cuts the connection, with nothing missed or repeated", async () => {
    const email = (id: string, address: string) =>
      deliver(world.server.url, stripeEvent({ id, type: "customer.updated", created: world.now, object: customer({ id: "cus_u_pro", email: address, metadata: { user_id: "u_pro" } }) }), { timestamp: Math.floor(world.server.clock.now / 1000) });
    const aborter = new AbortController();
    let connections = 0;
    const stream = reader.live({ userId: "u_pro", field: "email" }, { signal: aborter.signal, backoff: () => 50, onConnected: () => connections++ });
    const got: LiveTransition[] = [];
    const next = async () => got.push((await stream.next()).value as LiveTransition);
    const first = next();
    await expect.poll(() => connections).toBe(1);
    await email("evt_email_1", "one@example.com");
    await first;
    world.server.app.server.closeAllConnections();
    // Let this process's HTTP pool see its keep-alive sockets closed before it sends again.
    await new Promise((r) => setTimeout(r, 50));
    await email("evt_email_2", "two@example.com");
    await next();
    aborter.abort();
    expect(got.map((t) => [t.to, t.cause])).toEqual([
      ["one@example.com", "stripe:evt_email_1"],
      ["two@example.com", "stripe:evt_email_2"],
    ]);
    expect(connections).toBe(2);
  });
});
