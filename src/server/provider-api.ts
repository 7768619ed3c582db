// The one place Verity calls providers' APIs: the reads providers declare (ApiNeeds in
// src/providers), performed with the API access the operator configured. Answers are stored as
// events by ingest, so nothing downstream ever calls a provider.
import { Either } from "effect";
import type { Provider } from "../domain/provider.js";
import type { ApiNeeds, ApiRead, Fetched } from "../providers/types.js";

/** A provider's API as configured: its secret key, base URL (a local stand-in in tests) and timeout. */
export type ApiAccess = { readonly secretKey: string; readonly baseUrl: string; readonly timeoutMs: number };

export type ProviderApis = Readonly<Partial<Record<Provider, ApiAccess>>>;

/** Performs a declared read: the answer's bytes and parsed body, or why there is none. */
export const performRead = async (needs: ApiNeeds, access: ApiAccess, read: ApiRead): Promise<Either.Either<Fetched, string>> => {
  const url = `${access.baseUrl.replace(/\/$/, "")}${read.path}`;
  try {
    const res = await fetch(url, { headers: needs.authorization(access.secretKey), signal: AbortSignal.timeout(access.timeoutMs) });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (!res.ok) return Either.left(`the API answered ${res.status} for ${url}: ${bytes.toString("utf8").slice(0, 200)}`);
    return Either.right({ bytes, payload: JSON.parse(bytes.toString("utf8")) as unknown });
  } catch (e) {
    return Either.left(`request to ${url} failed: ${(e as Error).message}`);
  }
};
