// What every provider's webhook signature check shares: what it reads, the failure value, header
// `key=value` items, HMAC-SHA256 keyed by the secret as written, and the constant-time "does any
// candidate match any expected digest" test. What is signed, how the header is laid out and how old
// a delivery may be stay in each provider's verify.ts.
// Edge only: it uses node:crypto, so no normalizer may import it (normalizers stay pure).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Instant } from "../domain/time.js";
import type { VerifyFailure } from "./types.js";

/** What a signature check reads: the body's bytes as received, the signature header, every configured secret. */
export type SignedDelivery = {
  readonly rawBody: Uint8Array;
  readonly header: string | undefined;
  readonly secrets: readonly string[];
};

/** A delivery under a scheme that signs a timestamp: also when it arrived and how old a genuine one may be. */
export type TimestampedDelivery = SignedDelivery & {
  readonly now: Instant;
  readonly toleranceSeconds?: number;
};

/** A hex HMAC-SHA256 digest, either case. */
export const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

export const verifyFailure = (code: VerifyFailure["code"], message: string): VerifyFailure => ({ _tag: "VerifyFailure", code, message });

/**
 * HMAC-SHA256 of the chunks one after the other (strings as UTF-8, bytes as they are), keyed by the
 * whole secret string as UTF-8: every provider keys with the secret as written, prefix included.
 */
export const hmacSha256 = (secret: string, ...chunks: readonly (string | Uint8Array)[]): Buffer => {
  const mac = createHmac("sha256", Buffer.from(secret, "utf8"));
  for (const chunk of chunks) mac.update(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
  return mac.digest();
};

/** A header's `key=value` items, split on `separator` and each on its first "="; an item without "=" has an empty value. */
export const headerItems = (header: string, separator: string): { readonly key: string; readonly value: string }[] =>
  header.split(separator).map((item) => {
    const eq = item.indexOf("=");
    return eq === -1 ? { key: item.trim(), value: "" } : { key: item.slice(0, eq).trim(), value: item.slice(eq + 1).trim() };
  });

/** Constant time once the lengths agree (a length says nothing about the secret). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

/**
 * Compares every candidate with every expected digest (one per configured secret), without
 * stopping early at a match, so timing does not tell which secret or which candidate matched.
 */
export const anyMatches = (expected: readonly Uint8Array[], candidates: readonly Uint8Array[]): boolean =>
  expected.reduce((found, digest) => candidates.reduce((hit, candidate) => sameBytes(digest, candidate) || hit, found), false);

const utf8 = (value: string): Buffer => Buffer.from(value, "utf8");

/**
 * anyMatches for hex digests as written: compared as text, so case counts and a header value need
 * not be hex at all to be refused (it simply matches nothing).
 */
export const anyTextMatches = (expected: readonly string[], candidates: readonly string[]): boolean =>
  anyMatches(expected.map(utf8), candidates.map(utf8));
