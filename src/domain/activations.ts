// Activation codes and refresh tokens, the pure rules. An app issues a one-time code for a user; a
// client (a plugin on a customer's site) exchanges it once, with its domain, for an activation: a
// refresh token bound to that domain, which it trades for short-lived entitlement tokens. Each
// refresh rotates the refresh token; a rotated one presented again means it leaked, so the whole
// activation is revoked. The log holds one event per issue, exchange, rotation and revocation; codes
// and activations are what those events fold to. Secrets never enter the log: only their SHA-256.
import type { Instant } from "./time.js";

export type CodeIssued = {
  readonly codeHash: string;
  readonly subject: string;
  readonly userId: string;
  readonly at: Instant;
  readonly expiresAt: Instant;
  /** The lifetime of the access tokens its activation will get. */
  readonly tokenSeconds: number;
  readonly keyId: string;
  readonly requestId: string;
};

export type CodeRedeemed = {
  readonly codeHash: string;
  readonly activationId: string;
  readonly domain: string;
  readonly refreshHash: string;
  readonly refreshExpiresAt: Instant;
  readonly at: Instant;
  readonly requestId: string;
};

export type RefreshRotated = {
  readonly activationId: string;
  readonly fromHash: string;
  readonly refreshHash: string;
  readonly refreshExpiresAt: Instant;
  readonly at: Instant;
  readonly requestId: string;
};

export type RevocationReason = "reuse" | "revoked";

export type ActivationRevoked = {
  readonly activationId: string;
  readonly at: Instant;
  readonly reason: RevocationReason;
  /** The API key that revoked it; null when a reused refresh token did. */
  readonly keyId: string | null;
  readonly requestId: string;
};

export type ActivationFact =
  | { readonly _tag: "CodeIssued"; readonly fact: CodeIssued }
  | { readonly _tag: "CodeRedeemed"; readonly fact: CodeRedeemed }
  | { readonly _tag: "RefreshRotated"; readonly fact: RefreshRotated }
  | { readonly _tag: "ActivationRevoked"; readonly fact: ActivationRevoked };

export type ActivationCode = {
  readonly hash: string;
  readonly subject: string;
  readonly userId: string;
  readonly issuedAt: Instant;
  readonly expiresAt: Instant;
  readonly tokenSeconds: number;
  readonly redeemedAt: Instant | null;
  readonly activationId: string | null;
};

export type Activation = {
  readonly id: string;
  readonly subject: string;
  readonly userId: string;
  readonly domain: string;
  readonly codeHash: string;
  readonly createdAt: Instant;
  readonly tokenSeconds: number;
  /** The only refresh token that may be used now. */
  readonly refreshHash: string;
  readonly refreshExpiresAt: Instant;
  readonly lastRefreshedAt: Instant | null;
  readonly rotations: number;
  readonly revokedAt: Instant | null;
  readonly revokedReason: RevocationReason | null;
};

/** How long a refresh token stays usable: each refresh gives the new one this long again. */
export const REFRESH_SECONDS = 30 * 86_400;
/**
 * How long after a rotation the token it spent may come back and get that rotation's answer again,
 * instead of counting as a reuse: a client whose answer was lost on the way retries at once.
 */
export const RETRY_GRACE_MS = 60_000;
/** A code's default and longest life. */
export const DEFAULT_CODE_SECONDS = 600;
export const MAX_CODE_SECONDS = 86_400;


/**
 * The codes and activations the facts fold to. Order-free and duplicate-free: the current refresh
 * token is found by following the chain from the exchange's token through the rotation that started
 * from each (one per token, keyed by it), never by comparing instants; a revocation's earliest
 * instant counts. Linear in the facts.
 */
export const activationsOf = (facts: Iterable<ActivationFact>): { readonly codes: Map<string, ActivationCode>; readonly activations: Map<string, Activation> } => {
  const issued: CodeIssued[] = [];
  const redeemed = new Map<string, CodeRedeemed>();
  /** Per activation, each rotation by the token it started from. */
  const rotations = new Map<string, Map<string, RefreshRotated>>();
  const revoked = new Map<string, ActivationRevoked>();
  for (const f of facts) {
    switch (f._tag) {
      case "CodeIssued":
        issued.push(f.fact);
        break;
      case "CodeRedeemed":
        redeemed.set(f.fact.codeHash, f.fact);
        break;
      case "RefreshRotated":
      {
        const chain = rotations.get(f.fact.activationId) ?? new Map<string, RefreshRotated>();
        chain.set(f.fact.fromHash, f.fact);
        rotations.set(f.fact.activationId, chain);
        break;
      }
      case "ActivationRevoked": {
        const earlier = revoked.get(f.fact.activationId);
        if (earlier === undefined || f.fact.at < earlier.at) revoked.set(f.fact.activationId, f.fact);
        break;
      }
      default: {
        const unreachable: never = f;
        return unreachable;
      }
    }
  }
  const codes = new Map<string, ActivationCode>();
  const activations = new Map<string, Activation>();
  for (const c of issued) {
    const r = redeemed.get(c.codeHash);
    codes.set(c.codeHash, { hash: c.codeHash, subject: c.subject, userId: c.userId, issuedAt: c.at, expiresAt: c.expiresAt, tokenSeconds: c.tokenSeconds, redeemedAt: r?.at ?? null, activationId: r?.activationId ?? null });
    if (r === undefined) continue;
    const chain = rotations.get(r.activationId) ?? new Map<string, RefreshRotated>();
    let current: { readonly refreshHash: string; readonly refreshExpiresAt: Instant } = r;
    let last: RefreshRotated | null = null;
    let steps = 0;
    // Each token rotates at most once (its event id is unique), so the walk ends; the bound guards a forged log.
    for (let next = chain.get(r.refreshHash); next !== undefined && steps <= chain.size; next = chain.get(next.refreshHash)) {
      current = last = next;
      steps += 1;
    }
    const revocation = revoked.get(r.activationId);
    activations.set(r.activationId, {
      id: r.activationId,
      subject: c.subject,
      userId: c.userId,
      domain: r.domain,
      codeHash: c.codeHash,
      createdAt: r.at,
      tokenSeconds: c.tokenSeconds,
      refreshHash: current.refreshHash,
      refreshExpiresAt: current.refreshExpiresAt,
      lastRefreshedAt: last?.at ?? null,
      rotations: steps,
      revokedAt: revocation?.at ?? null,
      revokedReason: revocation?.reason ?? null,
    });
  }
  return { codes, activations };
};

export type RedeemDecision =
  | { readonly _tag: "Redeemable"; readonly code: ActivationCode }
  | { readonly _tag: "UnknownCode" }
  | { readonly _tag: "CodeExpired"; readonly expiredAt: Instant }
  | { readonly _tag: "CodeUsed"; readonly at: Instant };

/** Whether a code may be exchanged at `t`: known, not yet exchanged, not expired. */
export const redeemDecision = (code: ActivationCode | null, t: Instant): RedeemDecision => {
  if (code === null) return { _tag: "UnknownCode" };
  if (code.redeemedAt !== null) return { _tag: "CodeUsed", at: code.redeemedAt };
  if (t >= code.expiresAt) return { _tag: "CodeExpired", expiredAt: code.expiresAt };
  return { _tag: "Redeemable", code };
};

export type RefreshDecision =
  | { readonly _tag: "Rotate"; readonly activation: Activation }
  /** The token the latest rotation spent, again, within RETRY_GRACE_MS and for its domain: that rotation's answer again, nothing written. */
  | { readonly _tag: "Retry"; readonly activation: Activation }
  | { readonly _tag: "UnknownToken" }
  /** A refresh token that was rotated away came back: whoever holds it, the chain is no longer trusted. */
  | { readonly _tag: "Reused"; readonly activation: Activation }
  | { readonly _tag: "Revoked"; readonly activation: Activation }
  | { readonly _tag: "TokenExpired"; readonly activation: Activation }
  | { readonly _tag: "WrongDomain"; readonly activation: Activation };

/**
 * What presenting a refresh token (by its hash) for `domain` at `t` does. `activation` is the one the
 * hash belongs to (current or rotated away), null when none does; `spentBy` the rotation that spent
 * it, when it was spent. `graceMs` 0 takes every spent token for a reuse.
 */
export const refreshDecision = (activation: Activation | null, presentedHash: string, domain: string, t: Instant, spentBy: RefreshRotated | null = null, graceMs = RETRY_GRACE_MS): RefreshDecision => {
  if (activation === null) return { _tag: "UnknownToken" };
  // Revoked is final whatever the clock says: another process's clock may be behind the one that revoked.
  if (activation.revokedAt !== null) return { _tag: "Revoked", activation };
  if (activation.refreshHash !== presentedHash) {
    // Only the latest rotation's spent token, soon after, from the same domain: anything else that comes back is a copy.
    const retry = spentBy !== null && spentBy.fromHash === presentedHash && spentBy.refreshHash === activation.refreshHash && activation.domain === domain && graceMs > 0 && t < spentBy.at + graceMs;
    return retry ? { _tag: "Retry", activation } : { _tag: "Reused", activation };
  }
  if (activation.domain !== domain) return { _tag: "WrongDomain", activation };
  if (t >= activation.refreshExpiresAt) return { _tag: "TokenExpired", activation };
  return { _tag: "Rotate", activation };
};

/**
 * A domain as an activation binds it: a host name (letters, digits, hyphens, dots; IDN in its
 * punycode form) with an optional port, lower-cased. Null when `raw` is none.
 */
export const normalizeDomain = (raw: string): string | null => {
  // ASCII is checked before lower-casing: some non-ASCII letters (the Kelvin sign) lower-case to ASCII ones.
  if (!/^[\x21-\x7e]+$/.test(raw.trim())) return null;
  const match = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)\.?(?::(\d{1,5}))?$/.exec(raw.trim().toLowerCase());
  if (match === null || match[1]!.length > 253) return null;
  if (match[2] === undefined) return match[1]!;
  const port = Number(match[2]);
  return port >= 1 && port <= 65_535 ? `${match[1]}:${port}` : null;
};

const iso = (t: Instant | null): string | null => (t === null ? null : new Date(t).toISOString());

/**
 * An activation as the APIs show it at `t`: instants as ISO text, the user by the app's id, no hash
 * of any secret. `expired`: its refresh token ran out unused, so it can never refresh again.
 */
export const activationView = (a: Activation, t: Instant) => ({
  id: a.id,
  userId: a.subject,
  domain: a.domain,
  createdAt: iso(a.createdAt),
  lastRefreshedAt: iso(a.lastRefreshedAt),
  refreshExpiresAt: iso(a.refreshExpiresAt),
  rotations: a.rotations,
  status: a.revokedAt !== null ? "revoked" : t >= a.refreshExpiresAt ? "expired" : "active",
  revokedAt: iso(a.revokedAt),
  revokedReason: a.revokedReason,
});
