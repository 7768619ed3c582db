// What the signature tests share: a verifier with the test's defaults (so a case names only what it
// changes), the failure of a verification expected to fail, the "right secret passes, wrong secret
// is a mismatch" check every signed fixture gets, header lookups, and bytes that are not UTF-8.
import { Either } from "effect";
import { expect } from "vitest";
import type { HeaderLookup, VerifyFailure } from "../../src/providers/types.js";

type Verdict = Either.Either<true, VerifyFailure>;

/** `verify` with `defaults` for everything but the header; `overrides` replace single members. */
export const verifierWith =
  <Input extends { readonly header: string | undefined }>(verify: (input: Input) => Verdict, defaults: Omit<Input, "header">) =>
  (header: string | undefined, overrides: Partial<Omit<Input, "header">> = {}): Verdict =>
    verify({ ...defaults, ...overrides, header } as Input);

/** The failure of a verification expected to fail; a pass fails the test. */
export const failureOf = (result: Verdict): VerifyFailure => {
  if (Either.isRight(result)) throw new Error("expected verification to fail");
  return result.left;
};

/** A signed delivery verifies under its own secret and is a mismatch under another. */
export const expectSignedBy = (verifyUnder: (secrets: readonly string[]) => Verdict, secret: string, wrongSecret: string): void => {
  expect(verifyUnder([secret])).toEqual(Either.right(true));
  expect(failureOf(verifyUnder([wrongSecret])).code).toBe("signature_mismatch");
};

/** Request headers by lower-case name, as ingest hands them to a webhook scheme. */
export const headerLookup =
  (values: Readonly<Record<string, string>>): HeaderLookup =>
  (name) =>
    values[name];

/** Bytes that are not valid UTF-8: a signature over them must hold without any decoding. */
export const NOT_UTF8 = Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);

/** What a decode / re-encode round trip makes of bytes (invalid sequences become U+FFFD). */
export const utf8RoundTrip = (bytes: Uint8Array): Buffer => Buffer.from(Buffer.from(bytes).toString("utf8"), "utf8");
