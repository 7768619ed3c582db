// What a call throws. Every refusal Verity answers has one body, `{ "error": { "code", "message", … } }`
// (GraphQL's refusals carry the code in `extensions.code`), so one class carries the HTTP status,
// that code and message, and the rest of the error object as `details`. Two subclasses are the
// cases callers branch on: a usage decision that refused (QuotaError: 402/429, with when it
// resets) and no decision at all (VerityUnavailableError: no answer, or a 5xx).
import type { QuotaCode } from "./types.js";

/** A GraphQL error as it arrives on the wire. */
export type GraphQLErrorBody = { readonly message: string; readonly extensions?: { readonly code?: unknown } & Readonly<Record<string, unknown>> };

export type VerityErrorInit = {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** The error object's other members (a quota refusal's feature, limit, resetsAt…). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The answer's X-Request-Id (Verity's correlation id for its logs and audit trail). */
  readonly requestId?: string | null;
  readonly graphqlErrors?: readonly GraphQLErrorBody[];
  readonly cause?: unknown;
};

/** Verity refused a call (or answered with something that is not its answer). */
export class VerityError extends Error {
  /** The HTTP status; 0 when nothing answered. */
  readonly status: number;
  /** Verity's error code, e.g. `user_not_found`, `forbidden`, `invalid_parameter`. */
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly requestId: string | null;
  /** The GraphQL errors, for a GraphQL call. */
  readonly graphqlErrors: readonly GraphQLErrorBody[];

  constructor(init: VerityErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "VerityError";
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.requestId = init.requestId ?? null;
    this.graphqlErrors = init.graphqlErrors ?? [];
  }
}

/** Seconds from `now` until `resetsAt` (at least 1), or null when it is not known. */
export const secondsUntil = (resetsAt: string | null, now: number = Date.now()): number | null => {
  if (resetsAt === null) return null;
  const at = Date.parse(resetsAt);
  return Number.isNaN(at) ? null : Math.max(1, Math.ceil((at - now) / 1000));
};

/**
 * A usage decision refused: 402 (`no_entitlement`, `insufficient_credits`) or 429 (`quota_exceeded`,
 * `concurrency_exceeded`). Nothing was recorded and no slot was taken.
 */
export class QuotaError extends VerityError {
  declare readonly code: QuotaCode;
  /** The feature refused, when Verity names it. */
  readonly feature: string | null;
  /** When the quota resets or the first slot frees itself; null when not known or not a 429. */
  readonly resetsAt: string | null;

  constructor(init: VerityErrorInit & { readonly code: QuotaCode }) {
    super(init);
    this.name = "QuotaError";
    const { feature, resetsAt } = this.details;
    this.feature = typeof feature === "string" ? feature : null;
    this.resetsAt = typeof resetsAt === "string" ? resetsAt : null;
  }

  /** What a `Retry-After` header should say: seconds until `resetsAt`, or null. */
  retryAfterSeconds(now: number = Date.now()): number | null {
    return secondsUntil(this.resetsAt, now);
  }
}

/**
 * Verity gave no decision: the request failed or timed out (status 0, code `unreachable`), or Verity
 * answered 5xx (e.g. 503 `starting` while it catches up after a start). Retrying later may succeed.
 */
export class VerityUnavailableError extends VerityError {
  constructor(init: VerityErrorInit) {
    super(init);
    this.name = "VerityUnavailableError";
  }
}

export const QUOTA_CODES: readonly QuotaCode[] = ["no_entitlement", "insufficient_credits", "quota_exceeded", "concurrency_exceeded"];

export const isQuotaCode = (code: string): code is QuotaCode => (QUOTA_CODES as readonly string[]).includes(code);

/** The status a GraphQL error's code has over REST, for errors that arrive inside a 200 answer. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  unauthorized: 401,
  invalid_api_key: 401,
  forbidden: 403,
  user_not_found: 404,
  invalid_parameter: 400,
  query_too_complex: 400,
};

/**
 * GraphQL errors as a VerityError with the first error's code; its status is the HTTP one, or, for
 * errors inside a 200 answer (GraphQL's way), the status that code has over REST (404 for user_not_found).
 */
export const graphqlError = (errors: readonly GraphQLErrorBody[], httpStatus: number, requestId: string | null = null): VerityError => {
  const first = errors[0]?.extensions?.code;
  const code = typeof first === "string" ? first : "graphql_error";
  const status = httpStatus === 200 ? (STATUS_OF_CODE[code] ?? 400) : httpStatus;
  return new VerityError({ status, code, message: errors.map((e) => e.message).join("; "), graphqlErrors: errors, requestId });
};
