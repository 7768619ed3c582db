// Activation codes and refresh tokens on the real server, as an app and a client plugin use them: a
// code issued for a user, exchanged once for a token pair bound to a domain, refreshed with rotation,
// a reused refresh token revoking the chain, a canceled plan emptying the next token, a revocation by
// the app; every refusal changes nothing; and the log alone gives back the same codes and
// activations (replay, verify, rebuild).
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replay } from "../../src/offline/replay.js";
import { verify } from "../../src/offline/verify.js";
import { activationSnapshot } from "../../src/offline/activations.js";
import { rebuildProjections } from "../../src/projection/projector.js";
import { createApiKey } from "../../src/server/auth.js";
import { storedActivations } from "../../src/store/activations.js";
import { readFeed } from "../../src/store/feed.js";
import { PRICES, testCatalog } from "../builders/histories.js";
import { charge, checkoutSession, customer, stripeEvent, subscription } from "../builders/stripe.js";
import { exportLines } from "../offline/support.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";
import { post } from "../support/usage.js";

const DAY = 86_400;
const DOMAIN = "shop.example.com";

describe.each(KINDS)("activation codes and refresh tokens (%s)", (kind) => {
  let server: RunningServer;
  let key: string;
  let readKey: string;
  const signed = () => ({ timestamp: Math.floor(server.clock.now / 1000) });
  const keys = async () => createLocalJWKSet((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet);
  const appEvents = () => server.db.prisma.event.count({ where: { provider: "app" } });
  const newCode = async (userId = "u_ac", extra: object = {}) => {
    const issued = await post(server, "/v1/activation-codes", key, { userId, ...extra });
    expect(issued.status).toBe(200);
    return issued.body.code as string;
  };
  const activate = (code: string, domain = DOMAIN) => post(server, "/v1/activate", null, { code, domain });
  const refresh = (refreshToken: string, domain = DOMAIN) => post(server, "/v1/refresh", null, { refreshToken, domain });
  const subscribe = async (user: string, cus: string, sub: string) => {
    const t = Math.floor(server.clock.now / 1000) - 60;
    await deliver(server.url, stripeEvent({ id: `evt_${cus}`, type: "customer.created", created: t, object: customer({ id: cus, metadata: { user_id: user } }) }), signed());
    await deliver(server.url, stripeEvent({ id: `evt_${sub}`, type: "customer.subscription.created", created: t, object: subscription({ id: sub, customer: cus, status: "active", priceId: PRICES.proMonthly, periodStart: t, periodEnd: t + 30 * DAY, shape: "basil" }) }), signed());
  };

  beforeAll(async () => {
    server = await startServer(kind, testCatalog);
    key = (await createApiKey(server.db, ["tokens:write"], new Date())).key;
    readKey = (await createApiKey(server.db, ["read"], new Date())).key;
    await subscribe("u_ac", "cus_ac", "sub_ac");
    await subscribe("u_ac2", "cus_ac2", "sub_ac2");
  });
  afterAll(async () => server?.stop());

  it("exchanges a code once, however it is typed, for an access token bound to the domain and a refresh token", async () => {
    const code = await newCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    // Typed by a person: lower case, spaces instead of hyphens.
    const pair = await activate(code.toLowerCase().replaceAll("-", " "), "Shop.Example.com");
    expect(pair.status).toBe(200);
    expect(pair.body).toMatchObject({ activationId: expect.stringMatching(/^act_/), userId: "u_ac", domain: DOMAIN, tokenType: "Bearer", refreshToken: expect.stringMatching(/^vrt_[A-Za-z0-9_-]{43}$/) });
    const { payload } = await jwtVerify(pair.body.accessToken, await keys(), { issuer: "verity", audience: DOMAIN, currentDate: new Date(server.clock.now) });
    expect(payload).toMatchObject({ sub: "u_ac", sid: pair.body.activationId });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.ent).toEqual(pair.body.entitlements);
    expect(Object.keys(payload.ent as object).sort()).toEqual(["api_calls", "export"]);
    // A code works once.
    const before = await appEvents();
    const again = await activate(code);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("activation_code_used");
    expect(await appEvents()).toBe(before);
  });

  it("gives one activation to one of twenty clients racing with the same code", async () => {
    const code = await newCode();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => activate(code, `site${i}.example.com`)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === "activation_code_used")).toBe(true);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
  });

  it("refuses an unknown code, an expired one and a malformed request, storing nothing", async () => {
    const code = await newCode("u_ac", { ttlSeconds: 60 });
    const before = await appEvents();
    const unknown = await activate("AAAAA-BBBBB-CCCCC-DDDDD");
    expect([unknown.status, unknown.body.error.code]).toEqual([400, "activation_code_invalid"]);
    const badDomain = await activate(code, "shop example.com");
    expect([badDomain.status, badDomain.body.error.code]).toEqual([400, "invalid_parameter"]);
    expect(badDomain.body.error.message).toMatch(/domain/);
    const notJson = await post(server, "/v1/activate", null, "{code:");
    expect([notJson.status, notJson.body.error.code]).toEqual([400, "invalid_json"]);
    const extra = await post(server, "/v1/activate", null, { code, domain: DOMAIN, userId: "u_other" });
    expect(extra.status).toBe(400);
    server.clock.now += 61_000;
    const expired = await activate(code);
    expect([expired.status, expired.body.error.code]).toEqual([410, "activation_code_expired"]);
    expect(await appEvents()).toBe(before);
  });

  it("issues codes only with tokens:write, for a known user, within the limits", async () => {
    const before = await appEvents();
    expect((await post(server, "/v1/activation-codes", null, { userId: "u_ac" })).status).toBe(401);
    expect((await post(server, "/v1/activation-codes", readKey, { userId: "u_ac" })).status).toBe(403);
    expect((await post(server, "/v1/activation-codes", key, { userId: "u_nobody" })).body.error.code).toBe("user_not_found");
    const tooLong = await post(server, "/v1/activation-codes", key, { userId: "u_ac", ttlSeconds: 86_401 });
    expect([tooLong.status, tooLong.body.error.message]).toEqual([400, expect.stringMatching(/ttlSeconds/)]);
    expect((await post(server, "/v1/activation-codes", key, { userId: "u_ac", tokenTtlSeconds: 0 })).status).toBe(400);
    expect(await appEvents()).toBe(before);
  });

  it("rotates the refresh token; a rotated one coming back revokes the whole activation", async () => {
    const first = (await activate(await newCode())).body;
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.activationId).toBe(first.activationId);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    await jwtVerify(second.body.accessToken, await keys(), { audience: DOMAIN, currentDate: new Date(server.clock.now) });
    // Another domain presenting it is refused and rotates nothing.
    const elsewhere = await refresh(second.body.refreshToken, "evil.example.net");
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([403, "domain_mismatch"]);
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);
    // The first token, stolen and used now: the chain is revoked, also for the legitimate holder.
    const reused = await refresh(first.refreshToken);
    expect([reused.status, reused.body.error.code]).toEqual([401, "refresh_token_reused"]);
    const legit = await refresh(third.body.refreshToken);
    expect([legit.status, legit.body.error.code]).toEqual([401, "activation_revoked"]);
    const listed = await fetch(`${server.url}/api/users/u_ac/activations`, { headers: { authorization: `Bearer ${readKey}` } });
    const activation = ((await listed.json()) as { activations: { id: string }[] }).activations.find((a) => a.id === first.activationId);
    expect(activation).toMatchObject({ status: "revoked", revokedReason: "reuse", rotations: 2, domain: DOMAIN });
    // GraphQL mirrors the REST list.
    const gql = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${readKey}` },
      body: JSON.stringify({ query: `{ user(id: "u_ac") { activations { id domain status revokedReason rotations lastRefreshedAt } } }` }),
    });
    const listedByGraphql = ((await gql.json()) as { data: { user: { activations: { id: string }[] } } }).data.user.activations.find((a) => a.id === first.activationId);
    expect(listedByGraphql).toEqual({ id: first.activationId, domain: DOMAIN, status: "revoked", revokedReason: "reuse", rotations: 2, lastRefreshedAt: expect.any(String) });
    // The transitions an app's webhook endpoint receives.
    const feed = (await readFeed(server.db, 0, 1000, { entity: "activation" })).filter((r) => r.entityId === first.activationId);
    expect(feed.map((r) => [r.from, r.to])).toEqual([
      [null, "active"],
      ["active", "revoked"],
    ]);
    expect((await refresh("vrt_never-issued")).body.error.code).toBe("refresh_token_invalid");
  });

  it("answers a refresh retried within a minute (its answer was lost) with the same refresh token, writing nothing; later it is a reuse", async () => {
    const first = (await activate(await newCode(), "retry.example.com")).body;
    const rotated = await refresh(first.refreshToken, "retry.example.com");
    expect(rotated.status).toBe(200);
    const events = await appEvents();
    server.clock.now += 30_000;
    const again = await refresh(first.refreshToken, "retry.example.com");
    expect(again.status).toBe(200);
    expect(again.body.refreshToken).toBe(rotated.body.refreshToken);
    expect(await appEvents()).toBe(events);
    // The retried answer's token works, once.
    const next = await refresh(again.body.refreshToken, "retry.example.com");
    expect(next.status).toBe(200);
    // The first token is no longer the latest rotation's: a copy, so the activation is revoked.
    const late = await refresh(first.refreshToken, "retry.example.com");
    expect([late.status, late.body.error.code]).toEqual([401, "refresh_token_reused"]);

    // And a retry after the grace is a reuse too.
    const other = (await activate(await newCode(), "retry2.example.com")).body;
    expect((await refresh(other.refreshToken, "retry2.example.com")).status).toBe(200);
    server.clock.now += 61_000;
    const stale = await refresh(other.refreshToken, "retry2.example.com");
    expect([stale.status, stale.body.error.code]).toEqual([401, "refresh_token_reused"]);
  });

  it("stops granting what a canceled plan no longer grants: the next refresh states no feature", async () => {
    const pair = (await activate(await newCode("u_ac2"))).body;
    expect(Object.keys(pair.entitlements)).toContain("export");
    const t = Math.floor(server.clock.now / 1000);
    await deliver(server.url, stripeEvent({ id: "evt_ac2_del", type: "customer.subscription.deleted", created: t, object: subscription({ id: "sub_ac2", customer: "cus_ac2", status: "canceled", priceId: PRICES.proMonthly, periodStart: t - 60, periodEnd: t + 30 * DAY, shape: "basil" }) }), signed());
    await server.app.settle();
    const next = await refresh(pair.refreshToken);
    expect(next.status).toBe(200);
    expect(next.body.entitlements).toEqual({});
    const { payload } = await jwtVerify(next.body.accessToken, await keys(), { audience: DOMAIN, currentDate: new Date(server.clock.now) });
    expect(payload.ent).toEqual({});
  });

  it("stops granting what a refunded purchase granted: the next refresh after the refund no longer states it", async () => {
    const t = Math.floor(server.clock.now / 1000) - 120;
    await deliver(server.url, stripeEvent({ id: "evt_ac3_cus", type: "customer.created", created: t, object: customer({ id: "cus_ac3", metadata: { user_id: "u_ac3" } }) }), signed());
    await deliver(
      server.url,
      stripeEvent({ id: "evt_ac3_paid", type: "checkout.session.completed", created: t + 1, object: checkoutSession({ id: "cs_ac3", mode: "payment", customer: "cus_ac3", clientReferenceId: "u_ac3", paymentIntent: "pi_ac3", amountTotal: 19900, currency: "usd", metadata: { price_id: PRICES.lifetime, user_id: "u_ac3" }, created: t + 1 }) }),
      signed(),
    );
    const pair = (await activate(await newCode("u_ac3"))).body;
    expect(Object.keys(pair.entitlements).sort()).toEqual(["api_calls", "export"]);
    await deliver(server.url, stripeEvent({ id: "evt_ac3_refund", type: "charge.refunded", created: t + 60, object: charge({ id: "ch_ac3", customer: "cus_ac3", paymentIntent: "pi_ac3", amount: 19900, amountRefunded: 19900, currency: "usd", created: t + 60 }) }), signed());
    await server.app.settle();
    const next = await refresh(pair.refreshToken);
    expect([next.status, next.body.entitlements]).toEqual([200, {}]);
  });

  it("expires a refresh token unused for 30 days; the activation then lists as expired", async () => {
    const pair = (await activate(await newCode(), "idle.example.com")).body;
    server.clock.now += 30 * DAY * 1000 + 1000;
    const before = await appEvents();
    const late = await refresh(pair.refreshToken, "idle.example.com");
    expect([late.status, late.body.error.code]).toEqual([401, "refresh_token_expired"]);
    expect(await appEvents()).toBe(before);
    const listed = (await (await fetch(`${server.url}/api/users/u_ac/activations`, { headers: { authorization: `Bearer ${readKey}` } })).json()) as { activations: { id: string; status: string }[] };
    expect(listed.activations.find((a) => a.id === pair.activationId)?.status).toBe("expired");
  });

  it("keeps the keyless routes' bodies small and their refusals short", async () => {
    const huge = await post(server, "/v1/activate", null, { code: "x", domain: "a".repeat(10_000) });
    expect([huge.status, huge.body.error.code]).toEqual([413, "payload_too_large"]);
    const long = await post(server, "/v1/refresh", null, { refreshToken: "vrt_x", domain: "é".repeat(1_000) });
    expect(long.status).toBe(400);
    expect(long.body.error.message.length).toBeLessThan(1_000);
    // A letter that lower-cases to ASCII (the Kelvin sign) is no way around the ASCII rule.
    expect((await activate(await newCode(), "\u212Aexample.com")).status).toBe(400);
  });

  it("lets the app revoke an activation: no refresh after, the revocation answered again the same", async () => {
    const pair = (await activate(await newCode(), "plugin.example.org")).body;
    const revoked = await post(server, `/v1/activations/${pair.activationId}/revoke`, key, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: pair.activationId, status: "revoked", revokedReason: "revoked", domain: "plugin.example.org" });
    const twice = await post(server, `/v1/activations/${pair.activationId}/revoke`, key, {});
    expect(twice.body.revokedAt).toBe(revoked.body.revokedAt);
    expect((await refresh(pair.refreshToken, "plugin.example.org")).body.error.code).toBe("activation_revoked");
    expect((await post(server, "/v1/activations/act_nothing/revoke", key, {})).status).toBe(404);
    expect((await post(server, `/v1/activations/${pair.activationId}/revoke`, readKey, {})).status).toBe(403);
  });

  it("keeps nothing in the log or the tables that could activate: only hashes of the secrets", async () => {
    const code = await newCode();
    const pair = (await activate(code)).body;
    const bodies = (await server.db.prisma.event.findMany({ where: { provider: "app" } })).map((e) => Buffer.from(e.rawBody).toString("utf8")).join("\n");
    expect(bodies).not.toContain(code);
    expect(bodies).not.toContain(code.replaceAll("-", ""));
    expect(bodies).not.toContain(pair.refreshToken);
  });

  it("replays and rebuilds to the same codes and activations; verify finds none differ", async () => {
    await server.app.settle();
    const stored = await storedActivations(server.db);
    const live = activationSnapshot(stored.codes.values(), stored.activations.values());
    expect(live.activations.length).toBeGreaterThanOrEqual(5);
    const replayed = await replay(await exportLines(server.db), testCatalog, { at: server.clock.now });
    expect(replayed.activations).toEqual(live);
    expect((await verify(server.db, testCatalog, { at: server.clock.now })).differences).toEqual([]);
    await rebuildProjections(server.db, testCatalog);
    const rebuilt = await storedActivations(server.db);
    expect(activationSnapshot(rebuilt.codes.values(), rebuilt.activations.values())).toEqual(live);
    // A row altered behind Verity's back is found.
    await server.db.prisma.activation.updateMany({ where: { id: live.activations[0]!.id }, data: { rotations: 99 } });
    const found = (await verify(server.db, testCatalog, { at: server.clock.now })).differences;
    expect(found).toEqual([expect.objectContaining({ entity: "activation", id: `activation ${live.activations[0]!.id}`, field: "rotations" })]);
  });

  // Last: it removes the signing keys.
  it("takes a retry whose answer cannot be made again (its signing key is gone) for a reuse", async () => {
    const first = (await activate(await newCode(), "lostkey.example.com")).body;
    expect((await refresh(first.refreshToken, "lostkey.example.com")).status).toBe(200);
    await server.db.prisma.signingKey.deleteMany({});
    const retry = await refresh(first.refreshToken, "lostkey.example.com");
    expect([retry.status, retry.body.error.code]).toEqual([401, "refresh_token_reused"]);
    const listed = (await (await fetch(`${server.url}/api/users/u_ac/activations`, { headers: { authorization: `Bearer ${readKey}` } })).json()) as { activations: { id: string; status: string; revokedReason: string | null }[] };
    expect(listed.activations.find((a) => a.id === first.activationId)).toMatchObject({ status: "revoked", revokedReason: "reuse" });
  });
});
