// Entitlement tokens on the real server, verified as an app or plugin would, offline, with `jose`
// against the key set Verity publishes: what the token states, for whom and which audience, until
// when; a forged or retargeted token fails; bad requests are refused and issue nothing.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { makeSigningKey } from "../../src/server/tokens.js";
import { addSigningKey } from "../../src/store/signing-keys.js";
import { PRICES, testCatalog } from "../builders/histories.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";
import { post } from "../support/usage.js";

const DAY = 86_400;

describe.each(KINDS)("entitlement tokens (%s)", (kind) => {
  let server: RunningServer;
  let key: string;
  const signed = () => ({ timestamp: Math.floor(server.clock.now / 1000) });
  const jwks = async () => (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  beforeAll(async () => {
    server = await startServer(kind, testCatalog);
    key = (await createApiKey(server.db, ["tokens:write"], new Date())).key;
    const t = Math.floor(server.clock.now / 1000) - 60;
    await deliver(server.url, stripeEvent({ id: "evt_tk_c", type: "customer.created", created: t, object: customer({ id: "cus_tk", metadata: { user_id: "u_tk" } }) }), signed());
    await deliver(server.url, stripeEvent({ id: "evt_tk_s", type: "customer.subscription.created", created: t, object: subscription({ id: "sub_tk", customer: "cus_tk", status: "active", priceId: PRICES.proMonthly, periodStart: t, periodEnd: t + 30 * DAY, shape: "basil" }) }), signed());
    // Set to cancel in ten minutes: a token must not state its features past then.
    await deliver(server.url, stripeEvent({ id: "evt_tk_e_c", type: "customer.created", created: t, object: customer({ id: "cus_tk_end", metadata: { user_id: "u_tk_end" } }) }), signed());
    await deliver(server.url, stripeEvent({ id: "evt_tk_e_s", type: "customer.subscription.created", created: t, object: subscription({ id: "sub_tk_end", customer: "cus_tk_end", status: "active", priceId: PRICES.proMonthly, periodStart: t, periodEnd: t + 30 * DAY, cancelAt: t + 660, shape: "basil" }) }), signed());
  });
  afterAll(async () => server?.stop());

  it("issues a token an app verifies offline with the published keys, stating the entitlements now", async () => {
    const issued = await post(server, "/v1/tokens", key, { userId: "u_tk", audience: "shop.example.com" });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ userId: "u_tk", audience: "shop.example.com", keyId: expect.stringMatching(/^vk_/) });
    const set = await jwks();
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig", kid: issued.body.keyId });
    expect(set.keys[0]).not.toHaveProperty("d");
    const { payload, protectedHeader } = await jwtVerify(issued.body.token, createLocalJWKSet(set), { issuer: "verity", audience: "shop.example.com", currentDate: new Date(server.clock.now) });
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid: issued.body.keyId });
    expect(payload.sub).toBe("u_tk");
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(new Date(payload.exp! * 1000).toISOString()).toBe(issued.body.expiresAt);
    expect(payload.ent).toEqual({ export: {}, api_calls: { limit: 10000, remaining: 10000, resetsAt: expect.any(Number) } });
    expect(issued.body.entitlements).toEqual(payload.ent);
  });

  it("fails verification for another audience, after expiry, or once tampered with", async () => {
    const { token } = (await post(server, "/v1/tokens", key, { userId: "cus_tk", audience: "a.example.com", ttlSeconds: 60 })).body;
    const keys = createLocalJWKSet(await jwks());
    const at = new Date(server.clock.now);
    await expect(jwtVerify(token, keys, { audience: "b.example.com", currentDate: at })).rejects.toThrow(/aud/);
    await expect(jwtVerify(token, keys, { audience: "a.example.com", currentDate: new Date(server.clock.now + 61_000) })).rejects.toThrow(/exp/);
    const [h, p, s] = token.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, ent: { ...claims.ent, team_seats: { value: 999 } } })).toString("base64url")}.${s}`;
    await expect(jwtVerify(forged, keys, { audience: "a.example.com", currentDate: at })).rejects.toThrow(/signature/);
  });

  it("never states a feature past its end: a subscription ending in ten minutes gives a token that expires then", async () => {
    const issued = (await post(server, "/v1/tokens", key, { userId: "u_tk_end", audience: "a.example.com", ttlSeconds: 3600 })).body;
    const { payload } = await jwtVerify(issued.token, createLocalJWKSet(await jwks()), { audience: "a.example.com", currentDate: new Date(server.clock.now) });
    expect(payload.exp).toBe(Math.floor(server.clock.now / 1000) - 60 + 660);
    expect(Object.keys(payload.ent as object).sort()).toEqual(["api_calls", "export"]);
  });

  it("after a rotation, signs with the new key within a minute while tokens signed before still verify", async () => {
    const before = (await post(server, "/v1/tokens", key, { userId: "u_tk", audience: "a.example.com" })).body;
    const rotated = await makeSigningKey();
    await addSigningKey(server.db, rotated, new Date(server.clock.now + 1000));
    server.clock.now += 61_000;
    const after = (await post(server, "/v1/tokens", key, { userId: "u_tk", audience: "a.example.com" })).body;
    expect(after.keyId).toBe(rotated.id);
    const set = await jwks();
    expect(set.keys.map((k) => k.kid)).toEqual([rotated.id, before.keyId]);
    const keys = createLocalJWKSet(set);
    await jwtVerify(after.token, keys, { audience: "a.example.com", currentDate: new Date(server.clock.now) });
    await jwtVerify(before.token, keys, { audience: "a.example.com", currentDate: new Date(server.clock.now - 61_000) });
  });

  it("signs with one key across processes on one database", async () => {
    const second = await startServer(kind, testCatalog, { databaseUrl: server.databaseUrl });
    try {
      const other = (await (await fetch(`${second.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      expect(other).toEqual(await jwks());
      const issued = await post(second, "/v1/tokens", key, { userId: "u_tk", audience: "a.example.com" });
      expect(decodeProtectedHeader(issued.body.token).kid).toBe(other.keys[0]!.kid);
    } finally {
      await second.stop();
    }
  });

  it("refuses a missing scope, an unknown user and a bad body, issuing nothing", async () => {
    expect(await post(server, "/v1/tokens", null, { userId: "u_tk", audience: "a" })).toMatchObject({ status: 401 });
    expect(await post(server, "/v1/tokens", server.readKey, { userId: "u_tk", audience: "a" })).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await post(server, "/v1/tokens", key, { userId: "u_nobody", audience: "a" })).toMatchObject({ status: 404, body: { error: { code: "user_not_found" } } });
    expect(await post(server, "/v1/tokens", key, { userId: "u_tk" })).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter", message: expect.stringContaining("audience") } } });
    expect(await post(server, "/v1/tokens", key, { userId: "u_tk", audience: "a", ttlSeconds: 86_401 })).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining("ttlSeconds") } } });
    expect(await post(server, "/v1/tokens", key, "not json")).toMatchObject({ status: 400 });
    const get = await fetch(`${server.url}/v1/tokens`, { headers: { authorization: `Bearer ${key}` } });
    expect(get.status).toBe(405);
  });
});
