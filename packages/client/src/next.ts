// Next.js (App Router route handlers and middleware.ts) and any runtime of Web Request/Response
// (Hono, Remix, Cloudflare Workers, Deno): the same quota gate as the Express helper. A refusal is
// a Response (402/429 with Verity's error body and, for 429, Retry-After; 401 without a user; 503
// when Verity gave no decision, unless `onUnavailable: "open"`); a misconfiguration (a wrong key, an
// unknown feature) is thrown, so Next.js answers 500 and logs it. No dependency on next.
import type { CheckResult } from "./client.js";
import { decideQuota, type QuotaGateOptions } from "./quota.js";

export type { QuotaGateOptions } from "./quota.js";

/** The check that let the request through (null when failed open). */
export type AllowedCheck = Extract<CheckResult, { readonly allowed: true }> | null;

/** The refusal to answer with, or the check that lets the request go on. */
const gate = async <R extends Request>(request: R, options: QuotaGateOptions<R>): Promise<{ readonly refusal: Response } | { readonly check: AllowedCheck }> => {
  const decision = await decideQuota(request, options);
  switch (decision._tag) {
    case "Allowed":
      return { check: decision.check };
    case "Refused":
      return { refusal: new Response(JSON.stringify(decision.body), { status: decision.status, headers: { "content-type": "application/json; charset=utf-8", ...decision.headers } }) };
    case "Failed":
      throw decision.error;
    default: {
      const unreachable: never = decision;
      return unreachable;
    }
  }
};

/**
 * The refusal to answer `request` with, or null when it may go on. For middleware.ts:
 * `return (await quotaResponse(request, options)) ?? NextResponse.next();`
 */
export const quotaResponse = async <R extends Request = Request>(request: R, options: QuotaGateOptions<R>): Promise<Response | null> => {
  const gated = await gate(request, options);
  return "refusal" in gated ? gated.refusal : null;
};

/**
 * A route handler that runs only when the quota allows: `export const POST = withQuota(handler, options)`.
 * The handler receives the allowed check as a third argument.
 */
export const withQuota =
  <Ctx, R extends Request = Request>(handler: (request: R, context: Ctx, check: AllowedCheck) => Response | Promise<Response>, options: QuotaGateOptions<R>) =>
  async (request: R, context: Ctx): Promise<Response> => {
    const gated = await gate(request, options);
    return "refusal" in gated ? gated.refusal : handler(request, context, gated.check);
  };
