// Unit tests of Paddle signature verification: header parsing, the 5 s tolerance, rotation (every
// h1 against every secret), raw bytes, and the webhook scheme as ingest calls it.
import { createHmac } from "node:crypto";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { paddleSignatureHeader, verifyPaddleSignature } from "../../src/providers/paddle/verify.js";
import { paddleWebhook } from "../../src/providers/paddle/webhook.js";
import { failureOf, headerLookup, NOT_UTF8, utf8RoundTrip, verifierWith } from "../support/signatures.js";

const SECRET = "pdl_ntfset_01unittest_secretAAAAAAAAAAAAAAAAAAAAAAAA";
const OTHER_SECRET = "pdl_ntfset_01unittest_secretBBBBBBBBBBBBBBBBBBBBBBBB";
const T = 1_700_000_000;
const body = Buffer.from('{"event_id":"evt_unit","event_type":"customer.created","occurred_at":"2023-11-14T22:13:20.000000Z","data":{}}', "utf8");

const verify = verifierWith(verifyPaddleSignature, { rawBody: body, secrets: [SECRET], now: T * 1000 });

const h1Of = (header: string): string => header.split(";h1=")[1]!;

describe("verifyPaddleSignature", () => {
  it("accepts a header made by paddleSignatureHeader at the same instant", () => {
    expect(verify(paddleSignatureHeader(body, SECRET, T))).toEqual(Either.right(true));
  });

  it("signs `${ts}:${body}` (colon), not Stripe's `${t}.${body}`", () => {
    const header = paddleSignatureHeader(body, SECRET, T);
    expect(header).toMatch(/^ts=1700000000;h1=[0-9a-f]{64}$/);
    const colon = createHmac("sha256", SECRET).update(`${T}:${body.toString("utf8")}`).digest("hex");
    const dot = createHmac("sha256", SECRET).update(`${T}.${body.toString("utf8")}`).digest("hex");
    expect(h1Of(header)).toBe(colon);
    expect(failureOf(verify(`ts=${T};h1=${dot}`)).code).toBe("signature_mismatch");
  });

  it("signs strings and bytes alike", () => {
    expect(paddleSignatureHeader(body.toString("utf8"), SECRET, T)).toBe(paddleSignatureHeader(body, SECRET, T));
  });

  it("rejects when now > ts + 5 s, to the millisecond, and accepts up to that instant", () => {
    const header = paddleSignatureHeader(body, SECRET, T - 5);
    expect(verify(header, { now: T * 1000 })).toEqual(Either.right(true));
    const failure = failureOf(verify(header, { now: T * 1000 + 1 }));
    expect(failure.code).toBe("stale_timestamp");
    expect(failure.message).toBe(`Paddle-Signature timestamp ${T - 5} is 5.001 s old; tolerance is 5 s`);
    expect(failureOf(verify(paddleSignatureHeader(body, SECRET, T - 3600))).code).toBe("stale_timestamp");
  });

  it("honours a custom tolerance", () => {
    const header = paddleSignatureHeader(body, SECRET, T - 60);
    expect(failureOf(verify(header)).code).toBe("stale_timestamp");
    expect(verify(header, { toleranceSeconds: 60 })).toEqual(Either.right(true));
    expect(failureOf(verify(header, { toleranceSeconds: 59 })).message).toContain("tolerance is 59 s");
  });

  it("accepts a timestamp in the future (only age is limited)", () => {
    expect(verify(paddleSignatureHeader(body, SECRET, T + 3600))).toEqual(Either.right(true));
  });

  it("accepts any matching h1 during secret rotation, whichever position it has", () => {
    const good = h1Of(paddleSignatureHeader(body, SECRET, T));
    const old = h1Of(paddleSignatureHeader(body, OTHER_SECRET, T));
    expect(verify(`ts=${T};h1=${old};h1=${good}`)).toEqual(Either.right(true));
    expect(verify(`ts=${T};h1=${good};h1=${old}`)).toEqual(Either.right(true));
    // The Node SDK keeps only the last h1: this one would fail there, and must pass here.
    expect(verify(`ts=${T};h1=${good};h1=not-hex`)).toEqual(Either.right(true));
  });

  it("tries every configured secret", () => {
    const header = paddleSignatureHeader(body, SECRET, T);
    expect(verify(header, { secrets: [OTHER_SECRET, SECRET] })).toEqual(Either.right(true));
    expect(failureOf(verify(header, { secrets: [OTHER_SECRET] })).code).toBe("signature_mismatch");
  });

  it("rejects a signature made with the wrong secret, naming the header and the variable", () => {
    const failure = failureOf(verify(paddleSignatureHeader(body, OTHER_SECRET, T)));
    expect(failure.code).toBe("signature_mismatch");
    expect(failure.message).toContain("Paddle-Signature");
    expect(failure.message).toContain("PADDLE_WEBHOOK_SECRET");
  });

  it("reports a missing or empty header as missing_signature", () => {
    for (const header of [undefined, "", "   "]) {
      const failure = failureOf(verify(header));
      expect(failure.code).toBe("missing_signature");
      expect(failure.message).toContain("Paddle-Signature");
    }
  });

  it.each([
    ["no timestamp", `h1=${"a".repeat(64)}`],
    ["no h1", `ts=${T}`],
    ["an empty h1", `ts=${T};h1=`],
    ["a non-integer timestamp", `ts=17e8;h1=${"a".repeat(64)}`],
    ["a fractional timestamp", `ts=1700000000.5;h1=${"a".repeat(64)}`],
    ["a negative timestamp", `ts=-1;h1=${"a".repeat(64)}`],
    ["two timestamps", `ts=${T};ts=${T + 1};h1=${"a".repeat(64)}`],
    ["an unknown key (as the PHP and Python SDKs refuse)", `ts=${T};h1=${"a".repeat(64)};h2=${"b".repeat(64)}`],
    ["Stripe's format", `t=${T},v1=${"a".repeat(64)}`],
    ["comma separators", `ts=${T},h1=${"a".repeat(64)}`],
    ["garbage", "not a paddle header"],
  ])("reports %s as malformed_signature", (_name, header) => {
    const failure = failureOf(verify(header));
    expect(failure.code).toBe("malformed_signature");
    expect(failure.message).toMatch(/Paddle-Signature/);
  });

  it("names the unknown key", () => {
    expect(failureOf(verify(`ts=${T};h1=ab;v1=cd`)).message).toContain('unknown part "v1"');
  });

  it("rejects a tampered body and a body re-serialised with other whitespace", () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(body.toString("utf8")), null, 2), "utf8");
    const header = paddleSignatureHeader(body, SECRET, T);
    const tampered = Buffer.from(body.toString("utf8").replace("evt_unit", "evt_unix"), "utf8");
    const withNewline = Buffer.concat([body, Buffer.from("\n")]);
    expect(failureOf(verify(header, { rawBody: tampered })).code).toBe("signature_mismatch");
    expect(failureOf(verify(header, { rawBody: pretty })).code).toBe("signature_mismatch");
    expect(failureOf(verify(header, { rawBody: withNewline })).code).toBe("signature_mismatch");
  });

  it("rejects a signature whose timestamp was changed (the ts is signed)", () => {
    const h1 = h1Of(paddleSignatureHeader(body, SECRET, T));
    expect(failureOf(verify(`ts=${T + 1};h1=${h1}`)).code).toBe("signature_mismatch");
  });

  it("checks the signature before the age, so a forged old delivery is a mismatch", () => {
    expect(failureOf(verify(paddleSignatureHeader(body, OTHER_SECRET, T - 10_000))).code).toBe("signature_mismatch");
  });

  it("says when no secret is configured", () => {
    const failure = failureOf(verify(paddleSignatureHeader(body, SECRET, T), { secrets: [] }));
    expect(failure.code).toBe("signature_mismatch");
    expect(failure.message).toContain("PADDLE_WEBHOOK_SECRET");
  });

  it("signs raw bytes: non-ASCII text and its \\u escape are different bodies", () => {
    const literal = Buffer.from('{"name":"ÜÄÅåÖ"}', "utf8");
    const escaped = Buffer.from('{"name":"\\u00dc\\u00c4\\u00c5\\u00e5\\u00d6"}', "utf8");
    expect(JSON.parse(literal.toString("utf8"))).toEqual(JSON.parse(escaped.toString("utf8")));
    expect(verify(paddleSignatureHeader(escaped, SECRET, T), { rawBody: escaped })).toEqual(Either.right(true));
    expect(failureOf(verify(paddleSignatureHeader(escaped, SECRET, T), { rawBody: literal })).code).toBe("signature_mismatch");
  });

  it("verifies bytes that are not valid UTF-8 (no decode / re-encode round trip)", () => {
    const header = paddleSignatureHeader(NOT_UTF8, SECRET, T);
    expect(verify(header, { rawBody: NOT_UTF8 })).toEqual(Either.right(true));
    expect(failureOf(verify(header, { rawBody: utf8RoundTrip(NOT_UTF8) })).code).toBe("signature_mismatch");
  });

  it("tolerates spaces around header parts", () => {
    const good = h1Of(paddleSignatureHeader(body, SECRET, T));
    expect(verify(` ts=${T} ; h1=${good} `)).toEqual(Either.right(true));
  });
});

describe("paddleWebhook", () => {
  it("reads the lower-cased paddle-signature header and names its secret variable", () => {
    const header = paddleSignatureHeader(body, SECRET, T);
    expect(paddleWebhook).toMatchObject({ provider: "paddle", secretVariable: "PADDLE_WEBHOOK_SECRET" });
    expect(paddleWebhook.verify({ rawBody: body, header: headerLookup({ "paddle-signature": header }), secrets: [SECRET], now: T * 1000 })).toEqual(Either.right(true));
    const missing = paddleWebhook.verify({ rawBody: body, header: headerLookup({}), secrets: [SECRET], now: T * 1000 });
    expect(Either.isLeft(missing) && missing.left.code).toBe("missing_signature");
  });
});
