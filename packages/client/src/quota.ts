// The quota gate the Express and Next.js helpers share: ask Verity (`POST /v1/check`) whether the
// request's user may use `units` more of a feature, and turn the answer into what the helper does:
// let the request through, answer it (402/429 with Verity's error body, 401 without a user, 503
// when Verity gave no decision), or pass an error on (a misconfiguration: a wrong key, an unknown
// feature). Nothing is recorded: the handler records the work it did (recordUsage) once done.
import type { CheckResult, VerityClient } from "./client.js";
import { secondsUntil, VerityError, VerityUnavailableError } from "./errors.js";

export type QuotaGateOptions<Req> = {
  /** A client whose key has the `read` scope. */
  readonly client: Pick<VerityClient, "check">;
  readonly feature: string;
  /** The signed-in user's id (your user id or a provider customer id), or null: answered 401. */
  readonly userId: (req: Req) => string | null | undefined | Promise<string | null | undefined>;
  /** Units the request will use (default 1). */
  readonly units?: number | ((req: Req) => number | Promise<number>);
  /**
   * When Verity gives no decision (unreachable, timed out, 5xx): "closed" (default) answers 503
   * with Retry-After; "open" lets the request through, unchecked.
   */
  readonly onUnavailable?: "closed" | "open";
  /** How long to wait for the decision before treating Verity as unavailable (default 3000 ms). */
  readonly timeoutMs?: number;
};

/** What the gate decided: go on (with the check, or null when failed open), answer, or an error to pass on. */
export type QuotaDecision =
  | { readonly _tag: "Allowed"; readonly check: Extract<CheckResult, { readonly allowed: true }> | null }
  | { readonly _tag: "Refused"; readonly status: number; readonly body: unknown; readonly headers: Readonly<Record<string, string>> }
  | { readonly _tag: "Failed"; readonly error: unknown };

export const DEFAULT_TIMEOUT_MS = 3000;
/** What a 503 tells the caller to wait: Verity answers again within seconds of a restart. */
const UNAVAILABLE_RETRY_SECONDS = 5;

const refused = (status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}): QuotaDecision => ({
  _tag: "Refused",
  status,
  body: { error: { code, message } },
  headers,
});

/** The decision for one request. Never throws: every outcome is a QuotaDecision. */
export const decideQuota = async <Req>(req: Req, options: QuotaGateOptions<Req>, now: () => number = Date.now): Promise<QuotaDecision> => {
  const { feature } = options;
  let userId: string | null | undefined;
  let units: number;
  try {
    userId = await options.userId(req);
    units = typeof options.units === "function" ? await options.units(req) : (options.units ?? 1);
  } catch (error) {
    return { _tag: "Failed", error };
  }
  if (userId === null || userId === undefined || userId === "") return refused(401, "unauthorized", `sign in to use "${feature}"`);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`no decision within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    const check = await options.client.check({ userId, feature, units }, { signal: timeout.signal });
    if (check.allowed) return { _tag: "Allowed", check };
    const retryAfter = check.status === 429 && "resetsAt" in check.error ? secondsUntil(check.error.resetsAt, now()) : null;
    return { _tag: "Refused", status: check.status, body: { error: check.error }, headers: retryAfter === null ? {} : { "retry-after": String(retryAfter) } };
  } catch (error) {
    if (error instanceof VerityUnavailableError || timeout.signal.aborted) {
      if (options.onUnavailable === "open") return { _tag: "Allowed", check: null };
      return refused(503, "quota_unavailable", `could not check the quota of "${feature}"; retry shortly`, { "retry-after": String(UNAVAILABLE_RETRY_SECONDS) });
    }
    // A user Verity has not seen yet (no purchase so far) has no plan: answered as one without a plan.
    if (error instanceof VerityError && error.code === "user_not_found") return refused(402, "no_entitlement", `no live plan of "${userId}" grants "${feature}"`);
    return { _tag: "Failed", error };
  } finally {
    clearTimeout(timer);
  }
};
