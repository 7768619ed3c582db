// Verity's Stripe signature scheme cross-checked against Stripe's own Node package: a header the
// package generates verifies here, one Verity makes (`verity simulate`) verifies in the package,
// and each refuses what the other refuses, over generated bodies (odd unicode, whitespace) and secrets.
import { Either } from "effect";
import fc from "fast-check";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeSignatureHeader, verifyStripeSignature } from "../../src/providers/stripe/verify.js";

const stripe = new Stripe("sk_test_cross_check");
const arbSecret = fc.stringMatching(/^whsec_[A-Za-z0-9]{8,40}$/);
const arbBody = fc.oneof(fc.json(), fc.string({ unit: "grapheme" }).map((s) => JSON.stringify({ id: "evt_x", object: "event", note: s }, null, 2)));
const NOW = 1_750_000_000;

const packageAccepts = (body: string, header: string, secret: string): boolean => {
  try {
    stripe.webhooks.constructEvent(body, header, secret, 300, undefined, NOW);
    return true;
  } catch (e) {
    if (e instanceof SyntaxError) return true; // signature fine, the body is not an event object
    return false;
  }
};

describe("Stripe signatures, cross-checked with the stripe package", () => {
  it("a header from stripe.webhooks.generateTestHeaderString verifies in Verity", () => {
    fc.assert(
      fc.property(arbBody, arbSecret, (body, secret) => {
        const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: NOW });
        expect(verifyStripeSignature({ rawBody: Buffer.from(body, "utf8"), header, secrets: [secret], now: NOW * 1000 })).toEqual(Either.right(true));
      }),
    );
  });

  it("a header Verity makes verifies in the package; a wrong secret or a changed byte fails in both", () => {
    fc.assert(
      fc.property(arbBody, arbSecret, arbSecret, (body, secret, other) => {
        const header = stripeSignatureHeader(Buffer.from(body, "utf8"), secret, NOW);
        expect(packageAccepts(body, header, secret)).toBe(true);
        if (other !== secret) {
          expect(packageAccepts(body, header, other)).toBe(false);
          expect(Either.isLeft(verifyStripeSignature({ rawBody: Buffer.from(body, "utf8"), header, secrets: [other], now: NOW * 1000 }))).toBe(true);
        }
        const changed = `${body} `;
        expect(packageAccepts(changed, header, secret)).toBe(false);
        expect(Either.isLeft(verifyStripeSignature({ rawBody: Buffer.from(changed, "utf8"), header, secrets: [secret], now: NOW * 1000 }))).toBe(true);
      }),
    );
  });
});
