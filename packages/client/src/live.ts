// Live transitions: Subscription.transitions over GraphQL over Server-Sent Events (graphql-sse, at
// <url>/graphql/stream), typed by the generated LiveTransitionsDocument.
//
// When the connection drops (a deploy, a network blip, a laptop waking up) the stream reconnects by
// itself and subscribes again with `after` set to the cursor of the last transition it yielded, so
// nothing is missed or repeated. graphql-sse's own retries are off: they would resend the first
// `after`. A refusal (a wrong key, a missing scope, an unknown user) is thrown, not retried.
import { createClient, NetworkError } from "graphql-sse";
import { graphqlError, type GraphQLErrorBody } from "./errors.js";
import { LiveTransitionsDocument, type LiveTransitionsSubscription } from "./generated/graphql.js";
import { refusalError, type Transport } from "./http.js";

export type LiveTransition = LiveTransitionsSubscription["transitions"];

/** Which transitions: every filter is optional. */
export type LiveFilter = {
  /** Your user id or a provider customer id; Verity must know the user (else `user_not_found`). */
  readonly userId?: string;
  /** e.g. `subscription`, `entitlement`, `usage`. */
  readonly entity?: string;
  /** e.g. `status`, `enabled`. */
  readonly field?: string;
  /** The cursor of the last transition you handled: resume after it. Default: from now. */
  readonly after?: string;
};

export type LiveOptions = {
  /** Ends the stream: the iterator returns. */
  readonly signal?: AbortSignal;
  /** Milliseconds before reconnect attempt n (0, 1, …); default 1 s doubling up to 30 s. */
  readonly backoff?: (attempt: number) => number;
  /** Called each time the stream is (re)connected: transitions from then on will arrive. */
  readonly onConnected?: () => void;
};

const QUERY = LiveTransitionsDocument.toString();

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => (clearTimeout(timer), resolve());
    const timer = setTimeout(() => (signal?.removeEventListener("abort", done), resolve()), ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** Transitions matching `filter` as they happen, until `signal` aborts or the loop breaks. */
export async function* liveTransitions(transport: Transport, filter: LiveFilter = {}, options: LiveOptions = {}): AsyncGenerator<LiveTransition, void, undefined> {
  const { signal, backoff = (n: number) => Math.min(1000 * 2 ** n, 30_000), onConnected } = options;
  const client = createClient({
    url: transport.endpoint("graphql/stream"),
    headers: () => transport.headers(),
    fetchFn: transport.fetch,
    retryAttempts: 0,
  });
  const stop = () => client.dispose();
  // A function, not a narrowed property read: the signal aborts while the loop awaits.
  const aborted = () => signal?.aborted === true;
  signal?.addEventListener("abort", stop, { once: true });
  let after = filter.after ?? null;
  let attempt = 0;
  try {
    while (!aborted()) {
      try {
        const results = client.iterate<LiveTransitionsSubscription>({ query: QUERY, variables: { ...filter, after } }, { connected: () => onConnected?.() });
        for await (const result of results) {
          // Results already received when the signal aborted are not handed out: aborting ends the stream now.
          if (aborted()) return;
          if (result.errors !== undefined && result.errors.length > 0) throw graphqlError(result.errors as readonly GraphQLErrorBody[], 200);
          if (result.data == null) continue;
          attempt = 0;
          after = result.data.transitions.cursor;
          yield result.data.transitions;
        }
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        // A 4xx (a wrong key, a malformed request) will not get better by retrying; a 5xx or no answer may.
        const response = e.response;
        if (response !== undefined && response.status >= 400 && response.status < 500) {
          throw refusalError(response.status, await response.json().catch(() => null), response.headers.get("x-request-id"));
        }
      }
      // The stream ended (the server closed it) or the connection failed: wait, then resume after `after`.
      await sleep(backoff(attempt++), signal);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    client.dispose();
  }
}
