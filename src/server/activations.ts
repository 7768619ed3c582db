// Activation codes and refresh tokens over HTTP. The app issues a one-time code for a user
// (`POST /v1/activation-codes`, scope tokens:write) and shows it to them; a client (a plugin on their
// site) exchanges it once with its domain (`POST /v1/activate`, no API key: the code is the
// credential) for an access token and a refresh token bound to that domain; `POST /v1/refresh`
// trades the refresh token for a new pair. The secrets are made here and only their SHA-256 is
// stored; the rules are domain/activations.ts, the atomic steps store/activations.ts.
import { createHash, randomBytes } from "node:crypto";
import { Either } from "effect";
import { activationView, redeemDecision, REFRESH_SECONDS, type Activation, type RedeemDecision, type RefreshDecision } from "../domain/activations.js";
import type { Catalog } from "../domain/catalog.js";
import { entitlementsAt } from "../domain/entitlements.js";
import { tokenClaims } from "../domain/tokens.js";
import { activationsOfSubject, decideRefresh, findCode, refuseSpent, issueCode, redeemCode, refreshWith, revokeActivation } from "../store/activations.js";
import type { Database } from "../store/database.js";
import { meterReading, slotReading, type ReadModel } from "../store/read-model.js";
import { sqlOf } from "../store/sql.js";
import { ActivationRefused, ok, UserNotFound, type Answer } from "./errors.js";
import type { TokenSigner } from "./tokens.js";
import type { Sender } from "./usage.js";
import type { ActivateRequest, ActivationCodeRequest, RefreshRequest } from "./usage-request.js";

export type ActivationDeps = {
  readonly db: Database;
  readonly reads: ReadModel;
  readonly catalog: Catalog;
  readonly signer: TokenSigner;
  readonly now: () => number;
};

// Crockford's base32: no I, L, O or U, so a code read aloud or typed survives.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A new code: 20 symbols (100 bits) in groups of five, e.g. 7K2QM-9XD4H-FTPW3-R8N6B. */
const newCode = (): string => {
  const bytes = randomBytes(20);
  const symbols = [...bytes].map((b) => ALPHABET[b & 31]!).join("");
  return symbols.match(/.{5}/g)!.join("-");
};

/** A code as typed, reduced to its symbols: case, hyphens and spaces do not matter; I/L read as 1, O as 0. */
export const canonicalCode = (typed: string): string =>
  typed
    .toUpperCase()
    .replace(/[\s-]/g, "")
    .replace(/[IL]/g, "1")
    .replace(/O/g, "0");

const sha256 = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");
/** An activation's id, derived from its code (one code, at most one activation): 128 bits, so two codes never share one. */
export const activationIdFor = (codeHash: string): string => `act_${sha256(`activation:${codeHash}`).slice(0, 32)}`;
export const codeHashOf = (typed: string): string => sha256(canonicalCode(typed));
export const refreshHashOf = (token: string): string => sha256(token);
const newRefreshToken = (): string => `vrt_${randomBytes(32).toString("base64url")}`;

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());


/** `POST /v1/activation-codes`: a new code for a known user, shown once. */
export const issueActivationCode = async (deps: ActivationDeps, r: ActivationCodeRequest, sender: Sender): Promise<Either.Either<Answer, UserNotFound>> => {
  const id = await deps.reads.findUser(r.userId);
  const view = id === null ? null : await deps.reads.user(id);
  if (view === null) return Either.left(new UserNotFound({ id: r.userId }));
  const now = deps.now();
  const code = newCode();
  const stored = await issueCode(
    deps.db,
    { codeHash: codeHashOf(code), subject: view.subject, userId: view.user.id, at: now, expiresAt: now + r.ttlSeconds * 1000, tokenSeconds: r.tokenTtlSeconds, keyId: sender.principal.keyId, requestId: sender.requestId },
    now,
  );
  return Either.right(ok({ code, userId: stored.subject, expiresAt: iso(stored.expiresAt), tokenTtlSeconds: stored.tokenSeconds }));
};

/**
 * The access token for an activation at `now`: the user's entitlements now, for its domain. The user
 * is found by the id the code was issued for, else by Verity's id; null when neither names a user any
 * more (never a token that merely states nothing).
 */
const accessToken = async (deps: ActivationDeps, a: Pick<Activation, "id" | "subject" | "userId" | "domain" | "tokenSeconds">, now: number) => {
  const id = (await deps.reads.findUser(a.subject)) ?? (await deps.reads.findUser(a.userId));
  const view = id === null ? null : await deps.reads.user(id);
  if (view === null) return null;
  const claims = tokenClaims({
    subject: a.subject,
    audience: a.domain,
    entitlements: entitlementsAt(view.grants, deps.catalog, now, meterReading(view, now), slotReading(view, now)),
    grants: view.grants,
    now,
    lifetimeSeconds: a.tokenSeconds,
    activationId: a.id,
  });
  const { token } = await deps.signer.sign(claims);
  return { token, claims };
};

type Access = NonNullable<Awaited<ReturnType<typeof accessToken>>>;

const pairAnswer = (a: Activation, access: Access, refreshToken: string): Answer =>
  ok({
    activationId: a.id,
    userId: a.subject,
    domain: a.domain,
    tokenType: "Bearer",
    accessToken: access.token,
    expiresAt: new Date(access.claims.exp * 1000).toISOString(),
    refreshToken,
    refreshExpiresAt: iso(a.refreshExpiresAt),
    entitlements: access.claims.ent,
  });

const refused = (status: number, code: string, message: string) => Either.left(new ActivationRefused({ status, code, message }));
const userGone = (subject: string) => refused(404, "user_not_found", `the user "${subject}" this activation was issued for is no longer known to Verity`);

/**
 * `POST /v1/activate`: the code exchanged, once, for a token pair bound to `domain`. The access
 * token is signed before the exchange is stored, so a failure to sign leaves the code unused.
 */
export const activate = async (deps: ActivationDeps, r: ActivateRequest, requestId: string): Promise<Either.Either<Answer, ActivationRefused>> => {
  const codeHash = codeHashOf(r.code);
  const now = deps.now();
  // Decided once before anything is signed (a used or expired code costs a lookup), and again where it counts, under the append lock.
  const before = redeemDecision(await findCode(sqlOf(deps.db), codeHash), now);
  if (before._tag !== "Redeemable") return redeemRefusal(before);
  const activationId = activationIdFor(codeHash);
  const access = await accessToken(deps, { id: activationId, subject: before.code.subject, userId: before.code.userId, domain: r.domain, tokenSeconds: before.code.tokenSeconds }, now);
  if (access === null) return userGone(before.code.subject);
  const refreshToken = newRefreshToken();
  const outcome = await redeemCode(deps.db, { codeHash, activationId, domain: r.domain, refreshHash: refreshHashOf(refreshToken), refreshExpiresAt: now + REFRESH_SECONDS * 1000, at: now, requestId }, now);
  return outcome._tag === "Redeemed" ? Either.right(pairAnswer(outcome.activation, access, refreshToken)) : redeemRefusal(outcome);
};

const redeemRefusal = (d: Exclude<RedeemDecision, { _tag: "Redeemable" }>): Either.Either<never, ActivationRefused> => {
  switch (d._tag) {
    case "UnknownCode":
      return refused(400, "activation_code_invalid", "no activation code matches; ask the app for a new one");
    case "CodeUsed":
      return refused(409, "activation_code_used", `this activation code was already used (at ${iso(d.at)}); a code works once`);
    case "CodeExpired":
      return refused(410, "activation_code_expired", `this activation code expired at ${iso(d.expiredAt)}; ask the app for a new one`);
    default: {
      const unreachable: never = d;
      return unreachable;
    }
  }
};

/**
 * `POST /v1/refresh`: the refresh token traded for a new pair. The new access token states the
 * user's entitlements now, so a refunded or canceled plan's features are gone from the next one.
 */
export const refresh = async (deps: ActivationDeps, r: RefreshRequest, requestId: string): Promise<Either.Either<Answer, ActivationRefused>> => {
  const presented = refreshHashOf(r.refreshToken);
  const now = deps.now();
  const before = await decideRefresh(sqlOf(deps.db), { hash: presented, domain: r.domain }, now);
  if (before._tag === "Retry") return retried(deps, before.activation, r.domain, presented, now, requestId);
  // Only a rotation needs a signed token, and only a rotation or a reuse writes anything.
  if (before._tag !== "Rotate" && before._tag !== "Reused") return refreshRefusal(before, r.domain);
  const access = before._tag === "Rotate" ? await accessToken(deps, before.activation, now) : null;
  if (before._tag === "Rotate" && access === null) return userGone(before.activation.subject);
  // Made from the spent token, so that a retry of this refresh can be answered the same (see retried).
  const [next] = await deps.signer.nextRefreshTokens(presented);
  const outcome = await refreshWith(deps.db, { hash: presented, domain: r.domain }, { refreshHash: refreshHashOf(next!), refreshExpiresAt: now + REFRESH_SECONDS * 1000, at: now, requestId }, now);
  // Another process rotated it meanwhile: this is a retry of that refresh.
  if (outcome._tag === "Retry") return retried(deps, outcome.activation, r.domain, presented, now, requestId);
  if (outcome._tag !== "Rotated") return refreshRefusal(outcome, r.domain);
  // A rotation under the lock was a rotation before it (a spent token stays spent), so `access` is there.
  return access === null ? userGone(outcome.activation.subject) : Either.right(pairAnswer(outcome.activation, access, next!));
};

/**
 * A refresh retried within the grace (its answer was lost on the way): the rotation already stored
 * is answered again, with its refresh token made again from the spent one and a fresh access token;
 * nothing is written. A token Verity cannot make again (its signing key is gone) is a reuse after all.
 */
const retried = async (deps: ActivationDeps, activation: Activation, domain: string, presented: string, now: number, requestId: string): Promise<Either.Either<Answer, ActivationRefused>> => {
  const next = (await deps.signer.nextRefreshTokens(presented)).find((token) => refreshHashOf(token) === activation.refreshHash);
  if (next === undefined) {
    return refreshRefusal(await refuseSpent(deps.db, { hash: presented, domain }, now, requestId, now), domain);
  }
  const access = await accessToken(deps, activation, now);
  return access === null ? userGone(activation.subject) : Either.right(pairAnswer(activation, access, next));
};

const refreshRefusal = (d: Exclude<RefreshDecision, { _tag: "Rotate" | "Retry" }>, domain: string): Either.Either<never, ActivationRefused> => {
  switch (d._tag) {
    case "UnknownToken":
      return refused(401, "refresh_token_invalid", "no activation has this refresh token; activate again");
    case "Reused":
      return refused(401, "refresh_token_reused", `this refresh token was already exchanged; as it came back, activation ${d.activation.id} is revoked: activate again with a new code`);
    case "Revoked":
      return refused(401, "activation_revoked", `activation ${d.activation.id} was revoked (${d.activation.revokedReason ?? "revoked"}) at ${iso(d.activation.revokedAt)}; activate again with a new code`);
    case "TokenExpired":
      return refused(401, "refresh_token_expired", `this refresh token expired at ${iso(d.activation.refreshExpiresAt)}; activate again with a new code`);
    case "WrongDomain":
      return refused(403, "domain_mismatch", `this refresh token is bound to another domain than "${domain}"`);
    default: {
      const unreachable: never = d;
      return unreachable;
    }
  }
};

/** `POST /v1/activations/{id}/revoke`: no further refresh; tokens already issued live out their short lifetime. */
export const revoke = async (deps: ActivationDeps, id: string, sender: Sender): Promise<Either.Either<Answer, ActivationRefused>> => {
  const now = deps.now();
  const revoked = await revokeActivation(deps.db, id, { at: now, keyId: sender.principal.keyId, requestId: sender.requestId }, now);
  if (revoked === null) return refused(404, "activation_not_found", `no activation has the id "${id}"`);
  return Either.right(ok(activationView(revoked.activation, now)));
};

/** `GET /api/users/{id}/activations`: the user's activations, newest first. */
export const userActivations = async (deps: ActivationDeps, userId: string): Promise<Either.Either<Answer, UserNotFound>> => {
  const id = await deps.reads.findUser(userId);
  const view = id === null ? null : await deps.reads.user(id);
  if (view === null) return Either.left(new UserNotFound({ id: userId }));
  return Either.right(ok({ userId: view.subject, activations: (await activationsOfSubject(sqlOf(deps.db), view.subject)).map((a) => activationView(a, deps.now())) }));
};
