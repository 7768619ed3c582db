// What `verity sync` reads of a provider's objects, whatever the provider: a subscription as drift
// compares it, with the object itself (the JSON to store as a snapshot), and a JSON GET that says
// which provider answered what when it fails.

/** A subscription as the provider has it now: what drift compares, and the object as read (JSON). */
export type RemoteSubscription = {
  readonly id: string;
  readonly customer: string | null;
  readonly status: string;
  readonly priceIds: readonly string[];
  /** Seconds. */
  readonly periodEnd: number | null;
  readonly body: string;
};

/** A failed read of a provider's API, with what it answered. */
export class ProviderApiError extends Error {}

/** GET a JSON document; a non-2xx answer or a body that is not JSON is a ProviderApiError naming the URL. */
export const getJson = async (name: string, url: string, headers: Record<string, string>, detail: (body: unknown) => string | null): Promise<unknown> => {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new ProviderApiError(`${name}'s API did not answer at ${url}: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok) throw new ProviderApiError(`${name} answered ${res.status} for ${url}: ${(body === undefined ? null : detail(body)) ?? JSON.stringify(body ?? null).slice(0, 200)}`);
  if (body === undefined) throw new ProviderApiError(`${name}'s answer for ${url} is not JSON`);
  return body;
};
