// The one call Verity makes to Stripe's API: a checkout session's line items, when a one-time
// purchase's event does not say what was bought. The answer is stored as an event of its own
// (LINE_ITEMS_EVENT_TYPE), so replay never calls Stripe. The base URL is configurable for tests.
import { Either } from "effect";
import type { Enrichment, Fetched } from "../types.js";
import { checkoutNeedingLineItems, LINE_ITEMS_EVENT_TYPE, lineItemsEventId } from "./checkout.js";

export type StripeApi = { readonly secretKey: string; readonly baseUrl: string; readonly timeoutMs: number };

export const fetchCheckoutLineItems = async (api: StripeApi, sessionId: string): Promise<Either.Either<Fetched, string>> => {
  const url = `${api.baseUrl.replace(/\/$/, "")}/v1/checkout/sessions/${encodeURIComponent(sessionId)}/line_items?limit=100`;
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${api.secretKey}` },
      signal: AbortSignal.timeout(api.timeoutMs),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (!res.ok) return Either.left(`Stripe answered ${res.status} for ${url}: ${bytes.toString("utf8").slice(0, 200)}`);
    const payload = JSON.parse(bytes.toString("utf8")) as unknown;
    return Either.right({ bytes, payload });
  } catch (e) {
    return Either.left(`request to ${url} failed: ${(e as Error).message}`);
  }
};

/** Line items for one-time checkouts whose event does not carry them (needs STRIPE_SECRET_KEY). */
export const stripeLineItems = (api: StripeApi | null): Enrichment => ({
  eventTypes: ["checkout.session.completed"],
  needs: (payload) => {
    const sessionId = checkoutNeedingLineItems(payload);
    return sessionId === null ? null : { eventId: lineItemsEventId(sessionId), type: LINE_ITEMS_EVENT_TYPE, subject: sessionId };
  },
  fetch: api === null ? null : (sessionId) => fetchCheckoutLineItems(api, sessionId),
  unavailable: "checkout without price metadata and no STRIPE_SECRET_KEY: its plan stays unknown",
});
