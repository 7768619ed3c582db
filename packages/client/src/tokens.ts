// Entitlement tokens, verified offline: an app, plugin or edge function checks a token Verity
// signed (`POST /v1/tokens`; EdDSA, issuer "verity") against the keys Verity publishes at
// /.well-known/jwks.json, with no call to Verity on its hot path. The key set is fetched once per URL
// and kept (jose's remote key set: refetched when a token names a key it does not hold, so a key
// rotation needs no coordination). A key set you ship (`jwks`) verifies with no network at all.
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { TokenFeature } from "./types.js";

export type { TokenFeature } from "./types.js";

/** The `iss` of every token Verity signs. */
export const TOKEN_ISSUER = "verity";

/** What a verified token states. */
export type EntitlementClaims = {
  readonly iss: typeof TOKEN_ISSUER;
  /** Your user id (or Verity's, for a user it knows by a customer id only). */
  readonly sub: string;
  readonly aud: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  /** Seconds since the epoch: the end of its lifetime, or when the first feature it states stops being granted. */
  readonly exp: number;
  /** Every feature enabled when it was issued; a snapshot (usage after issue is not in it). */
  readonly ent: Readonly<Record<string, TokenFeature>>;
};

export type VerifyTokenOptions = {
  /** The audience the token must be for (what the issuing call asked for). */
  readonly audience: string | readonly string[];
  /** Verity's URL: keys are read from <url>/.well-known/jwks.json. */
  readonly url?: string;
  /** The key set's URL, when it is served elsewhere (a CDN, your backend). */
  readonly jwksUrl?: string;
  /** A key set you ship with the app: verifies with no network. */
  readonly jwks?: JSONWebKeySet;
  /** Seconds of clock skew to tolerate (default 0). */
  readonly clockToleranceSeconds?: number;
  /** Verify as of this instant (default now). */
  readonly currentDate?: Date;
};

/** Why a token was refused. */
export type TokenFailure = "expired" | "audience" | "issuer" | "signature" | "claims" | "malformed" | "keys_unavailable";

export class TokenError extends Error {
  readonly reason: TokenFailure;

  constructor(reason: TokenFailure, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TokenError";
    this.reason = reason;
  }
}

/** One remote key set per URL for the life of the process: jose caches and refreshes it. */
const remoteSets = new Map<string, JWTVerifyGetKey>();

const keysOf = (options: VerifyTokenOptions): JWTVerifyGetKey => {
  if (options.jwks !== undefined) return createLocalJWKSet(options.jwks);
  const base = options.url === undefined ? undefined : options.url.endsWith("/") ? options.url : `${options.url}/`;
  const url = options.jwksUrl ?? (base === undefined ? undefined : new URL(".well-known/jwks.json", base).href);
  if (url === undefined) throw new TypeError("verifyEntitlementToken: give url (Verity's), jwksUrl or jwks");
  let set = remoteSets.get(url);
  if (set === undefined) remoteSets.set(url, (set = createRemoteJWKSet(new URL(url))));
  return set;
};

const failureOf = (e: unknown): TokenFailure => {
  if (e instanceof errors.JWTExpired) return "expired";
  if (e instanceof errors.JWTClaimValidationFailed) return e.claim === "aud" ? "audience" : e.claim === "iss" ? "issuer" : "claims";
  if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) return "signature";
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return "malformed";
  // The key set could not be fetched or read (network, timeout, not a key set).
  return "keys_unavailable";
};

const isFeature = (v: unknown): v is TokenFeature =>
  typeof v === "object" && v !== null && Object.values(v).every((n) => typeof n === "number");

/** The claims, when they have the shape Verity signs. */
const claimsOf = (payload: Readonly<Record<string, unknown>>): EntitlementClaims | null => {
  const { iss, sub, aud, iat, exp, ent } = payload;
  if (iss !== TOKEN_ISSUER || typeof sub !== "string" || typeof aud !== "string" || typeof iat !== "number" || typeof exp !== "number") return null;
  if (typeof ent !== "object" || ent === null || !Object.values(ent).every(isFeature)) return null;
  return { iss, sub, aud, iat, exp, ent: ent as Readonly<Record<string, TokenFeature>> };
};

/**
 * The claims of a token Verity signed for `audience`, verified (signature, issuer, audience,
 * expiry). Throws TokenError with the reason otherwise.
 */
export const verifyEntitlementToken = async (token: string, options: VerifyTokenOptions): Promise<EntitlementClaims> => {
  const keys = keysOf(options);
  let payload: Readonly<Record<string, unknown>>;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: TOKEN_ISSUER,
      audience: typeof options.audience === "string" ? options.audience : [...options.audience],
      algorithms: ["EdDSA"],
      ...(options.clockToleranceSeconds === undefined ? {} : { clockTolerance: options.clockToleranceSeconds }),
      ...(options.currentDate === undefined ? {} : { currentDate: options.currentDate }),
    }));
  } catch (e) {
    throw new TokenError(failureOf(e), e instanceof Error ? e.message : String(e), e);
  }
  const claims = claimsOf(payload);
  if (claims === null) throw new TokenError("claims", "the token verifies but does not state what Verity signs (sub, aud, iat, exp, ent)");
  return claims;
};

/** What the token states of `feature`, or null when it does not grant it. */
export const featureOf = (claims: EntitlementClaims, feature: string): TokenFeature | null =>
  Object.prototype.hasOwnProperty.call(claims.ent, feature) ? (claims.ent[feature] ?? null) : null;

/**
 * Whether the token grants `feature` at `at` (default now): stated in it and not expired. Checking
 * the expiry again here keeps claims held after verification from granting past their end.
 */
export const hasFeature = (claims: EntitlementClaims, feature: string, at: Date | number = Date.now()): boolean =>
  claims.exp * 1000 > (at instanceof Date ? at.getTime() : at) && featureOf(claims, feature) !== null;
