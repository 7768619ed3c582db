// The one place Verity calls providers' APIs: the reads providers declare (ApiNeeds in
// src/providers), performed with the API access the operator configured. Answers are stored as
// events by ingest, so nothing downstream ever calls a provider.
import { Data, Effect } from "effect";
import type { Provider } from "../domain/provider.js";
import type { ApiNeeds, ApiRead, Fetched } from "../providers/types.js";

/** A provider's API as configured: its secret key, base URL (a local stand-in in tests) and timeout. */
export type ApiAccess = { readonly secretKey: string; readonly baseUrl: string; readonly timeoutMs: number };

export type ProviderApis = Readonly<Partial<Record<Provider, ApiAccess>>>;

/** A read that got no usable answer: the provider unreachable, too slow, or answering an error. */
export class ProviderApiFailed extends Data.TaggedError("ProviderApiFailed")<{ readonly message: string }> {}

/** Performs a declared read: the answer's bytes and parsed body. */
export const performRead = (needs: ApiNeeds, access: ApiAccess, read: ApiRead): Effect.Effect<Fetched, ProviderApiFailed> => {
  const url = `${access.baseUrl.replace(/\/$/, "")}${read.path}`;
  const failed = (why: string) => new ProviderApiFailed({ message: `request to ${url} failed: ${why}` });
  return Effect.gen(function* () {
    const res = yield* Effect.tryPromise({
      try: (signal) => fetch(url, { headers: needs.authorization(access.secretKey), signal: AbortSignal.any([signal, AbortSignal.timeout(access.timeoutMs)]) }),
      catch: (e) => failed((e as Error).message),
    });
    const bytes = yield* Effect.tryPromise({ try: async () => Buffer.from(await res.arrayBuffer()), catch: (e) => failed((e as Error).message) });
    if (!res.ok) return yield* new ProviderApiFailed({ message: `the API answered ${res.status} for ${url}: ${bytes.toString("utf8").slice(0, 200)}` });
    const payload = yield* Effect.try({ try: () => JSON.parse(bytes.toString("utf8")) as unknown, catch: (e) => failed(`the answer is not JSON: ${(e as Error).message}`) });
    return { bytes, payload };
  });
};
