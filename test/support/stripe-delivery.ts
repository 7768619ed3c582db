// Sends builder-made Stripe events to a running Verity the way Stripe does: signed, as bytes.
import { stripeSignatureHeader } from "../../src/providers/stripe/verify.js";
import { toRawBody, type StripeEvent } from "../builders/stripe.js";
import { projectedAfter } from "./projected.js";

export const TEST_SECRET = "whsec_verity_test_secret";

export const deliver = async (
  baseUrl: string,
  event: StripeEvent | Uint8Array,
  /** `settle: false` returns as soon as Verity answers, without waiting for the projection. */
  options: { secret?: string; timestamp?: number; header?: string | null; settle?: boolean } = {},
): Promise<Response> => {
  const body = event instanceof Uint8Array ? event : toRawBody(event);
  const t = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = options.header === undefined ? stripeSignatureHeader(body, options.secret ?? TEST_SECRET, t) : options.header;
  if (signature !== null) headers["stripe-signature"] = signature;
  const res = await fetch(`${baseUrl}/webhooks/stripe`, { method: "POST", headers, body: Buffer.from(body) });
  return options.settle === false ? res : projectedAfter(baseUrl, res);
};
