// Unit tests of Stripe signature verification: header parsing, tolerance, rotation and raw bytes.
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { stripeSignatureHeader, verifyStripeSignature } from "../../src/providers/stripe/verify.js";
import { failureOf, NOT_UTF8, utf8RoundTrip, verifierWith } from "../support/signatures.js";

const SECRET = "whsec_unit_test_secret";
const OTHER_SECRET = "whsec_some_other_secret";
const T = 1_700_000_000;
const body = Buffer.from('{\n  "id": "evt_unit",\n  "object": "event"\n}', "utf8");

const verify = verifierWith(verifyStripeSignature, { rawBody: body, secrets: [SECRET], now: T * 1000 });

const v1Of = (header: string): string => header.split(",v1=")[1]!;

describe("verifyStripeSignature", () => {
  it("accepts a header made by stripeSignatureHeader at the same instant", () => {
    expect(verify(stripeSignatureHeader(body, SECRET, T))).toEqual(Either.right(true));
  });

  it("signs strings and bytes alike", () => {
    expect(stripeSignatureHeader(body.toString("utf8"), SECRET, T)).toBe(stripeSignatureHeader(body, SECRET, T));
  });

  it("rejects a timestamp older than the tolerance with an operator-readable message", () => {
    const failure = failureOf(verify(stripeSignatureHeader(body, SECRET, T - 1234)));
    expect(failure.code).toBe("stale_timestamp");
    expect(failure.message).toBe(`timestamp ${T - 1234} is 1234 s old; tolerance is 300 s`);
  });

  it("accepts a timestamp exactly at the tolerance and honours a custom tolerance", () => {
    expect(Either.isRight(verify(stripeSignatureHeader(body, SECRET, T - 300)))).toBe(true);
    expect(failureOf(verify(stripeSignatureHeader(body, SECRET, T - 301))).code).toBe("stale_timestamp");
    expect(failureOf(verify(stripeSignatureHeader(body, SECRET, T - 11), { toleranceSeconds: 10 })).message).toContain("tolerance is 10 s");
  });

  it("floors the receive time to whole seconds", () => {
    expect(Either.isRight(verify(stripeSignatureHeader(body, SECRET, T - 300), { now: T * 1000 + 999 }))).toBe(true);
  });

  it("accepts a timestamp in the future (only age is limited)", () => {
    expect(verify(stripeSignatureHeader(body, SECRET, T + 3600))).toEqual(Either.right(true));
  });

  it("accepts any matching v1 during secret rotation, whichever position it has", () => {
    const good = v1Of(stripeSignatureHeader(body, SECRET, T));
    const old = v1Of(stripeSignatureHeader(body, OTHER_SECRET, T));
    expect(Either.isRight(verify(`t=${T},v1=${old},v1=${good}`))).toBe(true);
    expect(Either.isRight(verify(`t=${T},v1=${good},v1=${old}`))).toBe(true);
  });

  it("tries every configured secret", () => {
    const header = stripeSignatureHeader(body, SECRET, T);
    expect(Either.isRight(verify(header, { secrets: [OTHER_SECRET, SECRET] }))).toBe(true);
    expect(failureOf(verify(header, { secrets: [OTHER_SECRET] })).code).toBe("signature_mismatch");
  });

  it("ignores v0 signatures, even a valid one", () => {
    const good = v1Of(stripeSignatureHeader(body, SECRET, T));
    expect(failureOf(verify(`t=${T},v0=${good}`)).code).toBe("malformed_signature");
    expect(failureOf(verify(`t=${T},v0=${good},v1=${"0".repeat(64)}`)).code).toBe("signature_mismatch");
    expect(Either.isRight(verify(`t=${T},v1=${good},v0=garbage`))).toBe(true);
  });

  it("reports a missing or empty header as missing_signature", () => {
    expect(failureOf(verify(undefined)).code).toBe("missing_signature");
    expect(failureOf(verify("")).code).toBe("missing_signature");
    expect(failureOf(verify("   ")).code).toBe("missing_signature");
  });

  it.each([
    ["no timestamp", `v1=${"a".repeat(64)}`],
    ["no v1", `t=${T}`],
    ["an empty v1", `t=${T},v1=`],
    ["a non-integer timestamp", `t=17e8,v1=${"a".repeat(64)}`],
    ["a fractional timestamp", `t=1700000000.5,v1=${"a".repeat(64)}`],
    ["a negative timestamp", `t=-1,v1=${"a".repeat(64)}`],
    ["two timestamps", `t=${T},t=${T + 1},v1=${"a".repeat(64)}`],
    ["garbage", "not a stripe header"],
  ])("reports %s as malformed_signature", (_name, header) => {
    const failure = failureOf(verify(header));
    expect(failure.code).toBe("malformed_signature");
    expect(failure.message).toMatch(/Stripe-Signature/);
  });

  it("rejects a tampered body and a body re-serialised with other whitespace", () => {
    const header = stripeSignatureHeader(body, SECRET, T);
    const tampered = Buffer.from(body.toString("utf8").replace("evt_unit", "evt_unix"), "utf8");
    const compact = Buffer.from(JSON.stringify(JSON.parse(body.toString("utf8"))), "utf8");
    expect(failureOf(verify(header, { rawBody: tampered })).code).toBe("signature_mismatch");
    expect(failureOf(verify(header, { rawBody: compact })).code).toBe("signature_mismatch");
  });

  it("checks the signature before the age, so a forged old delivery is a mismatch", () => {
    expect(failureOf(verify(stripeSignatureHeader(body, OTHER_SECRET, T - 10_000))).code).toBe("signature_mismatch");
  });

  it("says when no secret is configured", () => {
    const failure = failureOf(verify(stripeSignatureHeader(body, SECRET, T), { secrets: [] }));
    expect(failure.code).toBe("signature_mismatch");
    expect(failure.message).toContain("STRIPE_WEBHOOK_SECRET");
  });

  it("signs raw bytes: non-ASCII text and its \\u escape are different bodies", () => {
    const literal = Buffer.from('{"name":"Zoë Ñandú 日本"}', "utf8");
    const escaped = Buffer.from('{"name":"Zo\\u00eb \\u00d1and\\u00fa \\u65e5\\u672c"}', "utf8");
    expect(JSON.parse(literal.toString("utf8"))).toEqual(JSON.parse(escaped.toString("utf8")));
    expect(Either.isRight(verify(stripeSignatureHeader(literal, SECRET, T), { rawBody: literal }))).toBe(true);
    expect(Either.isRight(verify(stripeSignatureHeader(escaped, SECRET, T), { rawBody: escaped }))).toBe(true);
    expect(failureOf(verify(stripeSignatureHeader(escaped, SECRET, T), { rawBody: literal })).code).toBe("signature_mismatch");
  });

  it("verifies bytes that are not valid UTF-8 (no decode / re-encode round trip)", () => {
    const header = stripeSignatureHeader(NOT_UTF8, SECRET, T);
    expect(Either.isRight(verify(header, { rawBody: NOT_UTF8 }))).toBe(true);
    expect(failureOf(verify(header, { rawBody: utf8RoundTrip(NOT_UTF8) })).code).toBe("signature_mismatch");
  });

  it("tolerates spaces around header items", () => {
    const good = v1Of(stripeSignatureHeader(body, SECRET, T));
    expect(Either.isRight(verify(` t=${T} , v1=${good} `))).toBe(true);
  });
});
