// Stripe's webhook edge: `Stripe-Signature` verification and the event envelope.
import type { WebhookScheme } from "../types.js";
import { decodeStripeEnvelope } from "./envelope.js";
import { verifyStripeSignature } from "./verify.js";

export const stripeWebhook: WebhookScheme = {
  provider: "stripe",
  secretVariable: "STRIPE_WEBHOOK_SECRET",
  verify: ({ rawBody, header, secrets, now }) => verifyStripeSignature({ rawBody, header: header("stripe-signature"), secrets, now }),
  envelope: decodeStripeEnvelope,
};
