// The one place the client talks HTTP: fetch (injectable), Verity's URL (a path prefix is kept, so a
// proxy that mounts Verity under /verity works), the key and extra headers, and every refusal turned
// into the error class its caller branches on (errors.ts).
import { isQuotaCode, QuotaError, VerityError, VerityUnavailableError, type VerityErrorInit } from "./errors.js";

/** Headers sent with every call: fixed, or computed per call (a session's CSRF token, a fresh auth). */
export type HeadersOption = Readonly<Record<string, string>> | (() => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>);

export type VerityClientOptions = {
  /**
   * Where Verity listens, e.g. `http://localhost:4000`, or your backend's route that proxies to it
   * (`https://app.example.com/verity`, or `/verity` in a browser: resolved against the page).
   */
  readonly url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. Leave it out where a proxy adds the key. */
  readonly apiKey?: string;
  readonly headers?: HeadersOption;
  /** Default: the global fetch (browsers, Node 20+). */
  readonly fetch?: typeof globalThis.fetch;
};

/** Per call: abort it, or send your correlation id (Verity logs it and stores it with usage records). */
export type RequestOptions = {
  readonly signal?: AbortSignal;
  readonly requestId?: string;
};

export type Answered<T> = { readonly status: number; readonly body: T; readonly headers: Headers };

export type Transport = {
  /** The absolute URL of a path below Verity's URL (no leading slash). */
  readonly endpoint: (path: string) => string;
  /** The headers every request carries (key, extra headers), without content-type. */
  readonly headers: (options?: RequestOptions) => Promise<Record<string, string>>;
  readonly fetch: typeof globalThis.fetch;
  /**
   * Sends a JSON request and reads the JSON answer. 2xx, and the statuses `answers` accepts, are
   * returned; every other status is thrown as the matching VerityError.
   */
  readonly send: <T>(method: "GET" | "POST", path: string, body: unknown, options: RequestOptions | undefined, answers?: (status: number) => boolean) => Promise<Answered<T>>;
};

const baseOf = (url: string): URL => {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(url.endsWith("/") ? url : `${url}/`, page);
  } catch {
    throw new TypeError(`createVerityClient: url must be an absolute URL (or, in a browser, a path), got ${JSON.stringify(url)}`);
  }
};

type ErrorObject = { readonly code?: unknown; readonly message?: unknown } & Readonly<Record<string, unknown>>;

/** The error a refused answer is thrown as: a quota refusal, no decision (5xx), or any other refusal. */
export const refusalError = (status: number, body: unknown, requestId: string | null): VerityError => {
  const error = (body as { error?: ErrorObject } | null)?.error;
  const known = typeof error === "object" && error !== null && typeof error.code === "string";
  const { code: _code, message: _message, ...details } = known ? error : {};
  const init: VerityErrorInit = {
    status,
    code: known ? (error.code as string) : status >= 500 ? "unavailable" : "invalid_answer",
    message: known && typeof error.message === "string" ? error.message : `Verity answered ${status} without its error body`,
    details,
    requestId,
  };
  if (status >= 500) return new VerityUnavailableError(init);
  if ((status === 402 || status === 429) && isQuotaCode(init.code)) return new QuotaError({ ...init, code: init.code });
  return new VerityError(init);
};

/** A failed request (network, DNS, refused connection, our own timeout) as "no decision"; a caller's own abort stays an abort. */
export const unreachable = (url: string, cause: unknown, signal: AbortSignal | undefined): unknown => {
  if (signal?.aborted === true) return signal.reason ?? cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new VerityUnavailableError({ status: 0, code: "unreachable", message: `Verity did not answer at ${url}: ${why}`, cause });
};

export const createTransport = (options: VerityClientOptions): Transport => {
  const base = baseOf(options.url);
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const endpoint = (path: string): string => new URL(path, base).href;

  const headers = async (call?: RequestOptions): Promise<Record<string, string>> => {
    const extra = typeof options.headers === "function" ? await options.headers() : (options.headers ?? {});
    return {
      accept: "application/json",
      ...extra,
      ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
      ...(call?.requestId === undefined ? {} : { "x-request-id": call.requestId }),
    };
  };

  const send = async <T>(method: "GET" | "POST", path: string, body: unknown, call: RequestOptions | undefined, answers: (status: number) => boolean = () => false): Promise<Answered<T>> => {
    const url = endpoint(path);
    const init: RequestInit = {
      method,
      headers: { ...(await headers(call)), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(call?.signal === undefined ? {} : { signal: call.signal }),
    };
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, init);
      text = await res.text();
    } catch (e) {
      throw unreachable(url, e, call?.signal);
    }
    const requestId = res.headers.get("x-request-id");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Not Verity's answer (a proxy's HTML page, a truncated body): no decision when it claims success or fails.
      const init = { status: res.status, code: res.status >= 500 ? "unavailable" : "invalid_answer", message: `${url} answered ${res.status} without JSON: ${text.slice(0, 120)}`, requestId };
      throw res.ok || res.status >= 500 ? new VerityUnavailableError(init) : new VerityError(init);
    }
    if (res.ok || answers(res.status)) return { status: res.status, body: json as T, headers: res.headers };
    throw refusalError(res.status, json, requestId);
  };

  return { endpoint, headers, fetch: doFetch, send };
};
