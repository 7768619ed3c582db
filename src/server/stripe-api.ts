// The one call Verity makes to Stripe's API: a checkout session's line items, when a one-time
// purchase's event does not say what was bought. The base URL is configurable for tests.
import { Either } from "effect";

export type StripeApi = { readonly secretKey: string; readonly baseUrl: string; readonly timeoutMs: number };

export type Fetched = { readonly bytes: Buffer; readonly payload: unknown };

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
