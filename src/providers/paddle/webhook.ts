// Paddle Billing's webhook edge: `Paddle-Signature` verification and the notification envelope.
import type { WebhookScheme } from "../types.js";
import { decodePaddleEnvelope } from "./envelope.js";
import { verifyPaddleSignature } from "./verify.js";

export const paddleWebhook: WebhookScheme = {
  provider: "paddle",
  secretVariable: "PADDLE_WEBHOOK_SECRET",
  verify: ({ rawBody, header, secrets, now }) => verifyPaddleSignature({ rawBody, header: header("paddle-signature"), secrets, now }),
  envelope: decodePaddleEnvelope,
};
