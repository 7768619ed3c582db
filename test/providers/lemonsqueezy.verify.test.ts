// Unit tests of Lemon Squeezy signature verification: hex HMAC-SHA256 of the raw body, every
// configured secret tried, no timestamp (so nothing is ever stale), and the webhook scheme wiring.
import { createHmac } from "node:crypto";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { lemonsqueezyWebhook } from "../../src/providers/lemonsqueezy/webhook.js";
import { lemonSqueezySignature, verifyLemonSqueezySignature } from "../../src/providers/lemonsqueezy/verify.js";
import { webhookSchemes } from "../../src/providers/registry.js";
import { failureOf, headerLookup, NOT_UTF8, utf8RoundTrip, verifierWith } from "../support/signatures.js";

const SECRET = "ls_unit_signing_secret";
const OTHER_SECRET = "an_older_signing_secret";
const body = Buffer.from('{\n  "meta": {"event_name": "order_created"},\n  "data": {"type": "orders", "id": "1"}\n}', "utf8");

const verify = verifierWith(verifyLemonSqueezySignature, { rawBody: body, secrets: [SECRET] });

describe("verifyLemonSqueezySignature", () => {
  it("accepts the hex HMAC-SHA256 of the raw body under the signing secret", () => {
    const expected = createHmac("sha256", SECRET).update(body).digest("hex");
    expect(lemonSqueezySignature(body, SECRET)).toBe(expected);
    expect(verify(expected)).toEqual(Either.right(true));
  });

  it("signs strings and bytes alike", () => {
    expect(lemonSqueezySignature(body.toString("utf8"), SECRET)).toBe(lemonSqueezySignature(body, SECRET));
  });

  it("accepts upper-case hex and surrounding spaces", () => {
    expect(Either.isRight(verify(` ${lemonSqueezySignature(body, SECRET).toUpperCase()} `))).toBe(true);
  });

  it("rejects a signature made with another secret", () => {
    const failure = failureOf(verify(lemonSqueezySignature(body, OTHER_SECRET)));
    expect(failure.code).toBe("signature_mismatch");
    expect(failure.message).toContain("X-Signature");
    expect(failure.message).toContain("LEMONSQUEEZY_WEBHOOK_SECRET");
  });

  it("tries every configured secret (rotation), whichever position the signing one has", () => {
    const header = lemonSqueezySignature(body, SECRET);
    expect(Either.isRight(verify(header, { secrets: [OTHER_SECRET, SECRET] }))).toBe(true);
    expect(Either.isRight(verify(header, { secrets: [SECRET, OTHER_SECRET] }))).toBe(true);
    expect(Either.isRight(verify(lemonSqueezySignature(body, OTHER_SECRET), { secrets: [SECRET, OTHER_SECRET] }))).toBe(true);
    expect(failureOf(verify(header, { secrets: [OTHER_SECRET] })).code).toBe("signature_mismatch");
  });

  it("says when no secret is configured", () => {
    const failure = failureOf(verify(lemonSqueezySignature(body, SECRET), { secrets: [] }));
    expect(failure.code).toBe("signature_mismatch");
    expect(failure.message).toContain("LEMONSQUEEZY_WEBHOOK_SECRET");
  });

  it("rejects a tampered body and a body re-serialised with other whitespace", () => {
    const header = lemonSqueezySignature(body, SECRET);
    const tampered = Buffer.from(body.toString("utf8").replace('"1"', '"2"'), "utf8");
    const compact = Buffer.from(JSON.stringify(JSON.parse(body.toString("utf8"))), "utf8");
    expect(failureOf(verify(header, { rawBody: tampered })).code).toBe("signature_mismatch");
    expect(failureOf(verify(header, { rawBody: compact })).code).toBe("signature_mismatch");
  });

  it("reports a missing or empty header as missing_signature", () => {
    for (const header of [undefined, "", "   "]) {
      const failure = failureOf(verify(header));
      expect(failure.code).toBe("missing_signature");
      expect(failure.message).toContain("X-Signature");
    }
  });

  it.each([
    ["a truncated digest", "a".repeat(63)],
    ["a long digest", "a".repeat(65)],
    ["non-hex characters", "z".repeat(64)],
    ["a base64 digest (a known third-party mistake)", Buffer.from("x".repeat(32)).toString("base64")],
    ["a Stripe-style header", `t=1700000000,v1=${"a".repeat(64)}`],
    ["two signatures joined by a proxy", `${"a".repeat(64)},${"b".repeat(64)}`],
    ["a sha256= prefix", `sha256=${"a".repeat(64)}`],
  ])("reports %s as malformed_signature", (_name, header) => {
    const failure = failureOf(verify(header));
    expect(failure.code).toBe("malformed_signature");
    expect(failure.message).toContain("X-Signature");
  });

  it("signs raw bytes: non-ASCII text and its \\u escape are different bodies", () => {
    const literal = Buffer.from('{"name":"Zoë Ñandú 日本"}', "utf8");
    const escaped = Buffer.from('{"name":"Zo\\u00eb \\u00d1and\\u00fa \\u65e5\\u672c"}', "utf8");
    expect(Either.isRight(verify(lemonSqueezySignature(literal, SECRET), { rawBody: literal }))).toBe(true);
    expect(failureOf(verify(lemonSqueezySignature(escaped, SECRET), { rawBody: literal })).code).toBe("signature_mismatch");
  });

  it("verifies bytes that are not valid UTF-8 (no decode / re-encode round trip)", () => {
    const header = lemonSqueezySignature(NOT_UTF8, SECRET);
    expect(Either.isRight(verify(header, { rawBody: NOT_UTF8 }))).toBe(true);
    expect(failureOf(verify(header, { rawBody: utf8RoundTrip(NOT_UTF8) })).code).toBe("signature_mismatch");
  });
});

describe("lemonsqueezyWebhook", () => {
  const header = lemonSqueezySignature(body, SECRET);

  it("is registered and reads the X-Signature header by its lower-case name", () => {
    expect(webhookSchemes.lemonsqueezy).toBe(lemonsqueezyWebhook);
    expect(lemonsqueezyWebhook).toMatchObject({ provider: "lemonsqueezy", secretVariable: "LEMONSQUEEZY_WEBHOOK_SECRET" });
    expect(lemonsqueezyWebhook.verify({ rawBody: body, header: headerLookup({ "x-signature": header }), secrets: [SECRET], now: 0 })).toEqual(Either.right(true));
    const missing = lemonsqueezyWebhook.verify({ rawBody: body, header: headerLookup({ "stripe-signature": header }), secrets: [SECRET], now: 0 });
    expect(Either.isLeft(missing) && missing.left.code).toBe("missing_signature");
  });

  it("has no timestamp: an old replay still verifies whatever the receive time (idempotency deduplicates it)", () => {
    for (const now of [0, Date.UTC(2030, 0, 1), Number.MAX_SAFE_INTEGER]) {
      expect(lemonsqueezyWebhook.verify({ rawBody: body, header: headerLookup({ "x-signature": header }), secrets: [SECRET], now })).toEqual(Either.right(true));
    }
  });
});
