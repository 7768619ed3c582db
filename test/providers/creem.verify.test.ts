// Unit tests of Creem signature verification: hex HMAC-SHA256 of the raw body, no timestamp,
// rotation over every configured secret, raw bytes, and the scheme as the webhook edge exposes it.
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { creemSignatureHeader, verifyCreemSignature } from "../../src/providers/creem/verify.js";
import { creemWebhook } from "../../src/providers/creem/webhook.js";
import { webhookSchemes } from "../../src/providers/registry.js";
import { failureOf, headerLookup, NOT_UTF8, utf8RoundTrip, verifierWith } from "../support/signatures.js";

const SECRET = "whsec_unit_test_secret";
const OTHER_SECRET = "whsec_some_other_secret";
const body = Buffer.from('{\n  "id": "evt_unit",\n  "eventType": "checkout.completed",\n  "created_at": 1700000000000,\n  "object": {}\n}', "utf8");

const verify = verifierWith(verifyCreemSignature, { rawBody: body, secrets: [SECRET] });

describe("verifyCreemSignature", () => {
  it("accepts the lowercase hex HMAC-SHA256 of the raw body keyed by the whole secret", () => {
    const header = creemSignatureHeader(body, SECRET);
    expect(header).toMatch(/^[0-9a-f]{64}$/);
    expect(verify(header)).toEqual(Either.right(true));
  });

  it("signs strings and bytes alike", () => {
    expect(creemSignatureHeader(body.toString("utf8"), SECRET)).toBe(creemSignatureHeader(body, SECRET));
  });

  it("rejects a signature made with another secret", () => {
    const failure = failureOf(verify(creemSignatureHeader(body, OTHER_SECRET)));
    expect(failure.code).toBe("signature_mismatch");
    expect(failure.message).toContain("CREEM_WEBHOOK_SECRET");
    expect(failure.message).toContain("creem-signature");
  });

  it("keys the HMAC with the secret as written (the whsec_ prefix is part of it)", () => {
    expect(failureOf(verify(creemSignatureHeader(body, SECRET.replace(/^whsec_/, "")))).code).toBe("signature_mismatch");
  });

  it("tries every configured secret (rotation), in any position", () => {
    const header = creemSignatureHeader(body, SECRET);
    expect(verify(header, { secrets: [OTHER_SECRET, SECRET] })).toEqual(Either.right(true));
    expect(verify(header, { secrets: [SECRET, OTHER_SECRET] })).toEqual(Either.right(true));
    expect(failureOf(verify(header, { secrets: [OTHER_SECRET] })).code).toBe("signature_mismatch");
  });

  it("says when no secret is configured", () => {
    const failure = failureOf(verify(creemSignatureHeader(body, SECRET), { secrets: [] }));
    expect(failure.code).toBe("signature_mismatch");
    expect(failure.message).toContain("no Creem webhook secret is configured (CREEM_WEBHOOK_SECRET)");
  });

  it("reports a missing or blank header as missing_signature", () => {
    for (const header of [undefined, "", "   "]) {
      const failure = failureOf(verify(header));
      expect(failure.code).toBe("missing_signature");
      expect(failure.message).toContain("creem-signature");
    }
  });

  it.each([
    ["a short digest", "abc123"],
    ["a non-hex digest", "z".repeat(64)],
    ["a 65-digit digest", "a".repeat(65)],
    ["a Stripe-style header", `t=1700000000,v1=${"a".repeat(64)}`],
    ["a base64 digest", Buffer.alloc(32, 7).toString("base64")],
    ["a prefixed digest", `sha256=${"a".repeat(64)}`],
  ])("reports %s as malformed_signature", (_name, header) => {
    const failure = failureOf(verify(header));
    expect(failure.code).toBe("malformed_signature");
    expect(failure.message).toMatch(/^creem-signature must be a 64-digit hex HMAC-SHA256 digest/);
  });

  it("accepts surrounding spaces and upper-case hex (the same 32 bytes)", () => {
    const header = creemSignatureHeader(body, SECRET);
    expect(verify(` ${header} `)).toEqual(Either.right(true));
    expect(verify(header.toUpperCase())).toEqual(Either.right(true));
  });

  it("accepts a header repeated by a proxy when one of its values matches", () => {
    const good = creemSignatureHeader(body, SECRET);
    expect(verify(`${"0".repeat(64)},${good}`)).toEqual(Either.right(true));
    expect(failureOf(verify(`${good},garbage`)).code).toBe("malformed_signature");
  });

  it("rejects a tampered body and a body re-serialised with other whitespace", () => {
    const header = creemSignatureHeader(body, SECRET);
    const tampered = Buffer.from(body.toString("utf8").replace("evt_unit", "evt_unix"), "utf8");
    const compact = Buffer.from(JSON.stringify(JSON.parse(body.toString("utf8"))), "utf8");
    expect(failureOf(verify(header, { rawBody: tampered })).code).toBe("signature_mismatch");
    expect(failureOf(verify(header, { rawBody: compact })).code).toBe("signature_mismatch");
    expect(failureOf(verify(header, { rawBody: Buffer.concat([body, Buffer.from("\n")]) })).code).toBe("signature_mismatch");
  });

  it("verifies bytes that are not valid UTF-8 (no decode / re-encode round trip)", () => {
    const header = creemSignatureHeader(NOT_UTF8, SECRET);
    expect(verify(header, { rawBody: NOT_UTF8 })).toEqual(Either.right(true));
    expect(failureOf(verify(header, { rawBody: utf8RoundTrip(NOT_UTF8) })).code).toBe("signature_mismatch");
  });
});

describe("creemWebhook (the edge ingest uses)", () => {
  it("is registered for creem with CREEM_WEBHOOK_SECRET", () => {
    expect(webhookSchemes.creem).toBe(creemWebhook);
    expect(creemWebhook).toMatchObject({ provider: "creem", secretVariable: "CREEM_WEBHOOK_SECRET" });
  });

  it("reads the lower-case creem-signature header", () => {
    const signature = creemSignatureHeader(body, SECRET);
    expect(creemWebhook.verify({ rawBody: body, header: headerLookup({ "creem-signature": signature }), secrets: [SECRET], now: 0 })).toEqual(Either.right(true));
    const other = creemWebhook.verify({ rawBody: body, header: headerLookup({ "x-signature": signature }), secrets: [SECRET], now: 0 });
    expect(Either.isLeft(other) && other.left.code).toBe("missing_signature");
  });

  it("has no timestamp, so a delivery is never stale: the receive time plays no part", () => {
    const header = headerLookup({ "creem-signature": creemSignatureHeader(body, SECRET) });
    for (const now of [0, 1_700_000_000_000, 4_102_444_800_000]) {
      expect(creemWebhook.verify({ rawBody: body, header, secrets: [SECRET], now })).toEqual(Either.right(true));
    }
  });
});
