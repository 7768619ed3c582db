// @verity/client/tokens against tokens a real Verity issued: verified offline against the key set
// Verity publishes (fetched once per URL and kept), or one the app ships; refused with a reason
// for another audience, after expiry, forged, signed by another key or issuer, or malformed.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerityClient } from "@verity/client";
import { hasFeature, featureOf, TokenError, verifyEntitlementToken, type EntitlementClaims } from "@verity/client/tokens";
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, type World } from "./world.js";

const reasonOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => expect.fail("expected the token to be refused"),
    (e: unknown) => (e instanceof TokenError ? e.reason : `not a TokenError: ${String(e)}`),
  );

describe("entitlement token verification (@verity/client/tokens)", () => {
  let world: World;
  let token: string;
  let jwks: JSONWebKeySet;
  /** Serves Verity's key set elsewhere, counting how often it is asked. */
  let mirror: Server;
  let mirrorHits = 0;
  let mirrorUrl: string;

  beforeAll(async () => {
    world = await startWorld();
    const client = createVerityClient({ url: world.server.url, apiKey: world.tokensKey });
    ({ token } = await client.issueToken({ userId: "u_pro", audience: "shop.example.com", ttlSeconds: 600 }));
    jwks = (await (await fetch(`${world.server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    mirror = createServer((_req, res) => {
      mirrorHits++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => mirror.listen(0, "127.0.0.1", r));
    mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((r) => mirror?.close(r));
    await world?.stop();
  });

  it("verifies a token Verity issued and states its features, typed", async () => {
    const claims: EntitlementClaims = await verifyEntitlementToken(token, { url: world.server.url, audience: "shop.example.com" });
    expect(claims).toMatchObject({ iss: "verity", sub: "u_pro", aud: "shop.example.com" });
    expect(claims.exp - claims.iat).toBe(600);
    expect(featureOf(claims, "api_calls")).toEqual({ limit: 3, remaining: 3, resetsAt: expect.any(Number) });
    expect(featureOf(claims, "max_duration_seconds")).toEqual({ value: 300 });
    expect(hasFeature(claims, "export")).toBe(true);
    expect(hasFeature(claims, "sso")).toBe(false);
    expect(hasFeature(claims, "toString")).toBe(false);
    // Held past its end, the claims grant nothing.
    expect(hasFeature(claims, "export", new Date(claims.exp * 1000))).toBe(false);
    // One of several audiences, and a key set shipped with the app (no network).
    expect((await verifyEntitlementToken(token, { jwks, audience: ["other.example.com", "shop.example.com"] })).sub).toBe("u_pro");
  });

  it("fetches a remote key set once per URL and keeps it", async () => {
    for (let i = 0; i < 3; i++) await verifyEntitlementToken(token, { jwksUrl: mirrorUrl, audience: "shop.example.com" });
    expect(mirrorHits).toBe(1);
  });

  it("refuses another audience, an expired token, a forged one, another signer, another issuer, garbage", async () => {
    const options = { url: world.server.url, audience: "shop.example.com" };
    expect(await reasonOf(verifyEntitlementToken(token, { ...options, audience: "evil.example.com" }))).toBe("audience");
    expect(await reasonOf(verifyEntitlementToken(token, { ...options, currentDate: new Date(world.server.clock.now + 601_000) }))).toBe("expired");
    // Within the clock tolerance it still verifies.
    expect((await verifyEntitlementToken(token, { ...options, currentDate: new Date(world.server.clock.now + 601_000), clockToleranceSeconds: 60 })).sub).toBe("u_pro");

    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, ent: { sso: {} } })).toString("base64url")}.${signature}`;
    expect(await reasonOf(verifyEntitlementToken(forged, options))).toBe("signature");

    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const sign = (iss: string, kid: string) => new SignJWT({ ent: { sso: {} } }).setProtectedHeader({ alg: "EdDSA", kid }).setIssuer(iss).setSubject("u_pro").setAudience("shop.example.com").setIssuedAt().setExpirationTime("5m").sign(privateKey);
    // Signed by a key Verity never published, even under Verity's own key id.
    expect(await reasonOf(verifyEntitlementToken(await sign("verity", jwks.keys[0]!.kid!), options))).toBe("signature");
    expect(await reasonOf(verifyEntitlementToken(await sign("verity", "vk_other"), options))).toBe("signature");
    const theirs = { keys: [{ ...(await exportJWK(publicKey)), kid: "theirs", alg: "EdDSA" }] };
    expect(await reasonOf(verifyEntitlementToken(await sign("someone-else", "theirs"), { jwks: theirs, audience: "shop.example.com" }))).toBe("issuer");
    expect(await reasonOf(verifyEntitlementToken("not.a.token", options))).toBe("malformed");
  });

  it("says when the key set cannot be had, and needs to be told where it is", async () => {
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, "127.0.0.1", r));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((r) => gone.close(r));
    expect(await reasonOf(verifyEntitlementToken(token, { url: `http://127.0.0.1:${port}`, audience: "shop.example.com" }))).toBe("keys_unavailable");
    await expect(verifyEntitlementToken(token, { audience: "shop.example.com" })).rejects.toThrow(/give url/);
  });
});
