// React: useEntitlement(userId, feature) answers whether a user may use a feature and stays live:
// it fetches the entitlement, subscribes to the user's transitions over graphql-sse and fetches
// again on each (and on every (re)connection, so nothing between a fetch and the stream is lost).
// The subscription ends when the component unmounts or its user, feature or client changes. A user
// Verity does not know yet (no purchase seen) is not an error: the entitlement is null and the hook
// looks again every `unknownUserRetryMs` until the user appears, then goes live.
//
// In a browser, point the client at your own backend (which proxies to Verity and adds the key) or
// give it a key with the `read` scope only: never a key that can write.
import { createContext, createElement, useCallback, useContext, useEffect, useRef, useState, type ReactElement, type ReactNode } from "react";
import type { GraphQLEntitlement, VerityClient } from "./client.js";
import { VerityError } from "./errors.js";

const VerityContext = createContext<VerityClient | null>(null);

/** Makes `client` the one useEntitlement uses below it. */
export const VerityProvider = ({ client, children }: { readonly client: VerityClient; readonly children?: ReactNode }): ReactElement =>
  createElement(VerityContext.Provider, { value: client }, children);

/** The client of the nearest VerityProvider. */
export const useVerityClient = (): VerityClient => {
  const client = useContext(VerityContext);
  if (client === null) throw new Error("no Verity client: render inside <VerityProvider client={…}> or pass { client }");
  return client;
};

export type UseEntitlementOptions = {
  /** Default: the VerityProvider's. */
  readonly client?: VerityClient;
  /** Follow the user's transitions (default true); false fetches once. */
  readonly live?: boolean;
  /** While Verity does not know the user, how often to look again (default 5000 ms). */
  readonly unknownUserRetryMs?: number;
  /** Milliseconds before reconnect attempt n of the live stream (default 1 s doubling up to 30 s). */
  readonly backoff?: (attempt: number) => number;
};

export type EntitlementState = {
  /** True until the first answer for this user and feature. */
  readonly loading: boolean;
  /** Why it could not be read (a wrong key, a missing scope, Verity unreachable); the last answer stays. */
  readonly error: Error | null;
  /** The feature as Verity states it; null while loading, without a user, or for a user Verity does not know. */
  readonly entitlement: GraphQLEntitlement | null;
  /** `entitlement?.enabled`, false until known. */
  readonly enabled: boolean;
  /** Fetches again now. */
  readonly refetch: () => void;
};

/** What was read, and for which user and feature (a change of either starts afresh). */
type Loaded = Pick<EntitlementState, "loading" | "error" | "entitlement"> & { readonly key: string | null };

const isUnknownUser = (e: unknown): boolean => e instanceof VerityError && e.code === "user_not_found";
const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = () => (clearTimeout(timer), resolve());
    const timer = setTimeout(() => (signal.removeEventListener("abort", done), resolve()), ms);
    signal.addEventListener("abort", done, { once: true });
  });

/** `run` at most once at a time: a call while it runs makes it run once more after. */
const coalesced = (run: () => Promise<void>): (() => Promise<void>) => {
  let running: Promise<void> | null = null;
  let again = false;
  const call = (): Promise<void> => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await run();
      } while (again);
    })().finally(() => (running = null));
    return running;
  };
  return call;
};

/** Follows the user's transitions, refreshing on each, until `signal` aborts or Verity refuses. */
const follow = async (client: VerityClient, userId: string, refresh: () => Promise<void>, signal: AbortSignal, options: { readonly retryMs: number; readonly backoff: ((attempt: number) => number) | undefined; readonly fail: (e: unknown) => void }): Promise<void> => {
  while (!signal.aborted) {
    try {
      const stream = client.live({ userId }, { signal, onConnected: () => void refresh(), ...(options.backoff === undefined ? {} : { backoff: options.backoff }) });
      for await (const _ of stream) void refresh();
      return;
    } catch (e) {
      if (signal.aborted) return;
      if (!isUnknownUser(e)) return options.fail(e);
      // Not known yet: look again later (the first purchase's webhooks make the user known).
      await refresh();
      await sleep(options.retryMs, signal);
    }
  }
};

/** Whether `userId` may use `feature`, live. A null or undefined user answers not enabled without asking. */
export const useEntitlement = (userId: string | null | undefined, feature: string, options: UseEntitlementOptions = {}): EntitlementState => {
  const fromContext = useContext(VerityContext);
  const client = options.client ?? fromContext;
  if (client === null) throw new Error("useEntitlement: pass { client } or render inside <VerityProvider client={…}>");
  const live = options.live ?? true;
  const retryMs = options.unknownUserRetryMs ?? 5000;
  // The backoff function may be a new closure on every render: read it through a ref, not as a dependency.
  const backoff = useRef(options.backoff);
  backoff.current = options.backoff;
  const key = userId ? JSON.stringify([userId, feature]) : null;
  const [state, setState] = useState<Loaded>({ key, loading: key !== null, error: null, entitlement: null });
  const [round, setRound] = useState(0);
  const refetch = useCallback(() => setRound((n) => n + 1), []);

  useEffect(() => {
    if (!userId || key === null) {
      setState({ key: null, loading: false, error: null, entitlement: null });
      return;
    }
    const aborter = new AbortController();
    const { signal } = aborter;
    // A refetch keeps what is shown; another user or feature starts from loading.
    setState((s) => (s.key === key ? s : { key, loading: true, error: null, entitlement: null }));
    const refresh = coalesced(async () => {
      try {
        const entitlement = await client.entitlement(userId, feature, { signal });
        if (!signal.aborted) setState({ key, loading: false, error: null, entitlement });
      } catch (e) {
        if (signal.aborted) return;
        setState((s) => (isUnknownUser(e) ? { key, loading: false, error: null, entitlement: null } : { ...s, key, loading: false, error: asError(e) }));
      }
    });
    const fail = (e: unknown) => setState((s) => ({ ...s, key, loading: false, error: asError(e) }));
    // Fetched at once (an answer, or why there is none, without waiting for the stream), and again
    // on every (re)connection and transition while live.
    void refresh();
    if (live) void follow(client, userId, refresh, signal, { retryMs, backoff: backoff.current, fail });
    return () => aborter.abort();
  }, [client, key, live, retryMs, round]);

  // Between a change of user or feature and its effect, what is held belongs to the previous one.
  const current = state.key === key ? state : { key, loading: key !== null, error: null, entitlement: null };
  return { loading: current.loading, error: current.error, entitlement: current.entitlement, enabled: current.entitlement?.enabled === true, refetch };
};
