// Express (and Connect, and plain node:http) middleware: a route passes only when Verity says the
// request's user may use the feature now (`POST /v1/check`); otherwise it is answered 402/429 with
// Verity's error body (429 with Retry-After until the quota resets), 401 without a user, 503 when
// Verity gave no decision (or passed through with `onUnavailable: "open"`). A misconfiguration (a
// wrong key, an unknown feature) goes to `next(error)`, to your error handler. Structural types
// only: no dependency on express or its types.
import type { CheckResult } from "./client.js";
import { decideQuota, type QuotaGateOptions } from "./quota.js";

export type { QuotaGateOptions } from "./quota.js";

/** What the middleware reads of a request by default: Node's IncomingMessage, Express's Request. */
export type NodeRequestLike = { readonly headers: Readonly<Record<string, string | readonly string[] | undefined>> };

/** What it writes to: Node's ServerResponse, Express's Response. */
export type NodeResponseLike = {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(chunk: string): unknown;
  /** Express's res.locals: the allowed check is left there as `verityCheck`. */
  locals?: Record<string, unknown>;
};

export type NextFunctionLike = (error?: unknown) => void;

/** The check that let the request through, as the middleware leaves it in `res.locals.verityCheck` (null when failed open). */
export type VerityCheckLocal = Extract<CheckResult, { readonly allowed: true }> | null;

/**
 * `app.post("/api/export", requireQuota({ client, feature: "api_calls", userId: (req) => req.user?.id ?? null }), handler)`.
 * Pass the request type when `userId` reads more than headers: `requireQuota<express.Request>({ … })`.
 */
export const requireQuota =
  <Req extends object = NodeRequestLike>(options: QuotaGateOptions<Req>) =>
  async (req: Req, res: NodeResponseLike, next: NextFunctionLike): Promise<void> => {
    const decision = await decideQuota(req, options);
    switch (decision._tag) {
      case "Allowed":
        if (res.locals !== undefined) res.locals.verityCheck = decision.check;
        return next();
      case "Refused": {
        res.statusCode = decision.status;
        res.setHeader("content-type", "application/json; charset=utf-8");
        for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
        res.end(JSON.stringify(decision.body));
        return;
      }
      case "Failed":
        return next(decision.error);
      default: {
        const unreachable: never = decision;
        return unreachable;
      }
    }
  };
