// Live transitions for the example client: Subscription.transitions over GraphQL over Server-Sent
// Events with the graphql-sse client (Verity serves it at <url>/graphql/stream), typed by the
// generated LiveTransitionsDocument (./live-transitions.graphql).
//
// liveTransitions() yields each transition as it happens. When the connection drops (a deploy, a
// network blip, a laptop waking up) it reconnects by itself and subscribes again with `after` set to
// the cursor of the last transition it yielded, so nothing is missed or repeated. To resume across
// restarts of your own process as well, store the cursor of each transition you handle and pass it
// as `after` the next time.
import { print } from "graphql";
import { createClient, NetworkError } from "graphql-sse";
import { VerityRequestError, type GraphQLErrorBody, type VerityClientOptions } from "./client.js";
import { LiveTransitionsDocument, type LiveTransitionsSubscription, type LiveTransitionsSubscriptionVariables } from "./generated/graphql.js";

export type LiveTransition = LiveTransitionsSubscription["transitions"];

export type LiveOptions = {
  /** Ends the stream (the generator returns). */
  readonly signal?: AbortSignal;
  /** Milliseconds to wait before reconnect attempt n (0, 1, …); default 1 s doubling up to 30 s. */
  readonly backoff?: (attempt: number) => number;
};

const QUERY = print(LiveTransitionsDocument);

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Verity's answer to a refused stream request (e.g. 401 for a wrong key) as a VerityRequestError. */
const refusal = async (response: Response): Promise<VerityRequestError> => {
  const body = (await response.json().catch(() => ({}))) as { errors?: GraphQLErrorBody[] };
  const errors = body.errors ?? [{ message: `Verity answered ${response.status}`, extensions: {} }];
  return new VerityRequestError(errors.map((e) => e.message).join("; "), response.status, errors);
};

/**
 * Transitions matching `variables` (userId, entity, field: all optional) from `variables.after`, or
 * from now. Throws VerityRequestError when Verity refuses the subscription (bad key, unknown user,
 * a cursor it did not issue); network failures and server restarts are retried, not thrown.
 */
export async function* liveTransitions(
  options: VerityClientOptions,
  variables: LiveTransitionsSubscriptionVariables = {},
  { signal, backoff = (n) => Math.min(1000 * 2 ** n, 30_000) }: LiveOptions = {},
): AsyncGenerator<LiveTransition, void, undefined> {
  const client = createClient({
    url: new URL("/graphql/stream", options.url).href,
    headers: { authorization: `Bearer ${options.apiKey}` },
    fetchFn: options.fetch,
    // Reconnecting is done below: graphql-sse's own retries would send the first `after` again.
    retryAttempts: 0,
  });
  const stop = () => client.dispose();
  signal?.addEventListener("abort", stop, { once: true });
  let after = variables.after ?? null;
  let attempt = 0;
  try {
    while (signal?.aborted !== true) {
      try {
        for await (const result of client.iterate<LiveTransitionsSubscription>({ query: QUERY, variables: { ...variables, after } })) {
          if (result.errors !== undefined && result.errors.length > 0) {
            // Plain JSON on the wire: keep each error's message and string code.
            const errors: GraphQLErrorBody[] = result.errors.map(({ message, extensions }) => ({ message, extensions: typeof extensions?.code === "string" ? { code: extensions.code } : {} }));
            throw new VerityRequestError(errors.map((e) => e.message).join("; "), 200, errors);
          }
          if (result.data == null) continue;
          attempt = 0;
          after = result.data.transitions.cursor;
          yield result.data.transitions;
        }
      } catch (e) {
        // A 4xx (a wrong key, a malformed request) will not get better by retrying.
        const status = e instanceof NetworkError ? e.response?.status : undefined;
        if (e instanceof NetworkError && e.response && status !== undefined && status >= 400 && status < 500) throw await refusal(e.response);
        if (!(e instanceof NetworkError)) throw e;
      }
      // The stream ended (server closed it) or the connection failed: wait, then resume after `after`.
      await sleep(backoff(attempt++), signal);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    client.dispose();
  }
}
