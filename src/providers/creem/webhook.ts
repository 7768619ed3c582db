// Creem's webhook edge: `creem-signature` verification and the event envelope. The scheme has no
// timestamp, so the receive time (`now`) plays no part and no delivery is ever stale.
import type { WebhookScheme } from "../types.js";
import { decodeCreemEnvelope } from "./envelope.js";
import { CREEM_SECRET_VARIABLE, CREEM_SIGNATURE_HEADER, verifyCreemSignature } from "./verify.js";

export const creemWebhook: WebhookScheme = {
  provider: "creem",
  secretVariable: CREEM_SECRET_VARIABLE,
  verify: ({ rawBody, header, secrets }) => verifyCreemSignature({ rawBody, header: header(CREEM_SIGNATURE_HEADER), secrets }),
  envelope: decodeCreemEnvelope,
};
