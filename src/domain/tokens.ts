// Entitlement tokens (POST /v1/tokens): what a short-lived signed token states about a user at the
// instant it is issued, so an app or plugin can decide offline. Pure: the entitlements and grants in,
// the claims out; signing happens at the edge (server/tokens.ts).
import { isGrantLive, type EntitlementView, type Grant } from "./entitlements.js";
import type { Instant } from "./time.js";

/** What the token says of one enabled feature; members that do not apply are left out. */
export type TokenFeature = {
  readonly limit?: number;
  readonly remaining?: number;
  /** Seconds since the epoch, as JWT times are. */
  readonly resetsAt?: number;
  readonly value?: number;
};

export type TokenClaims = {
  readonly sub: string;
  readonly aud: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
  /** Every feature enabled when it was issued, by name. */
  readonly ent: Readonly<Record<string, TokenFeature>>;
  /** The activation it was issued to, for tokens an activation refreshes. */
  readonly sid?: string;
};

/** The longest a token may live, and its default lifetime. */
export const MAX_TOKEN_SECONDS = 86_400;
export const DEFAULT_TOKEN_SECONDS = 900;

const seconds = (t: Instant): number => Math.floor(t / 1000);

/**
 * Until when a feature stays enabled, as far as its live grants say: the latest end among them
 * (null: no end is known). A feature granted by a subscription ending tomorrow and by a lifetime
 * purchase stays enabled after tomorrow.
 */
export const featureEnd = (grants: readonly Grant[], feature: string, t: Instant): Instant | null => {
  let end: Instant | null = -Infinity;
  for (const g of grants) {
    if (g.feature !== feature || !isGrantLive(g, t)) continue;
    if (g.validUntil === null) return null;
    end = Math.max(end, g.validUntil);
  }
  return end === -Infinity ? t : end;
};

/**
 * The claims of a token issued at `now` for `lifetime` seconds. It expires at the end of its
 * lifetime or when the first feature it states stops being granted, whichever comes first: a token
 * never states a feature past its end, and never lives longer than asked.
 */
export const tokenClaims = (input: {
  readonly subject: string;
  readonly audience: string;
  readonly entitlements: readonly EntitlementView[];
  readonly grants: readonly Grant[];
  readonly now: Instant;
  readonly lifetimeSeconds: number;
  readonly activationId?: string;
}): TokenClaims => {
  const { now } = input;
  const enabled = input.entitlements.filter((e) => e.enabled);
  let exp = seconds(now) + input.lifetimeSeconds;
  for (const e of enabled) {
    const end = featureEnd(input.grants, e.feature, now);
    if (end !== null) exp = Math.min(exp, seconds(end));
  }
  const ent = Object.fromEntries(
    enabled.map((e): [string, TokenFeature] => [
      e.feature,
      {
        ...(e.limit === null ? {} : { limit: e.limit }),
        ...(e.remaining === null ? {} : { remaining: e.remaining }),
        ...(e.resetsAt === null ? {} : { resetsAt: seconds(e.resetsAt) }),
        ...(e.value === null ? {} : { value: e.value }),
      },
    ]),
  );
  return { sub: input.subject, aud: input.audience, iat: seconds(now), exp: Math.max(exp, seconds(now)), ent, ...(input.activationId === undefined ? {} : { sid: input.activationId }) };
};
