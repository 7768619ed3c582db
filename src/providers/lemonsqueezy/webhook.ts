// Lemon Squeezy's webhook edge: `X-Signature` verification and the body-derived envelope.
import type { WebhookScheme } from "../types.js";
import { decodeLemonSqueezyEnvelope } from "./envelope.js";
import { SECRET_VARIABLE, verifyLemonSqueezySignature } from "./verify.js";

export const lemonsqueezyWebhook: WebhookScheme = {
  provider: "lemonsqueezy",
  secretVariable: SECRET_VARIABLE,
  // No timestamp in the scheme: `now` has nothing to check (see verify.ts).
  verify: ({ rawBody, header, secrets }) => verifyLemonSqueezySignature({ rawBody, header: header("x-signature"), secrets }),
  envelope: decodeLemonSqueezyEnvelope,
};
