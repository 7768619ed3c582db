// Entitlement tokens: `POST /v1/tokens` signs what domain/tokens.ts states about a user (a JWT,
// EdDSA over Ed25519, through `jose`), and `/.well-known/jwks.json` publishes the public keys so an
// app or plugin verifies it offline, with no call to Verity on its hot path.
import { createHmac } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { Either } from "effect";
import type { Catalog } from "../domain/catalog.js";
import { entitlementsAt } from "../domain/entitlements.js";
import { tokenClaims, type TokenClaims } from "../domain/tokens.js";
import { meterReading, slotReading, type ReadModel } from "../store/read-model.js";
import { ok, UserNotFound, type Answer } from "./errors.js";
import type { TokenRequest } from "./usage-request.js";
import type { Database } from "../store/database.js";
import { ensureSigningKey, signingKeys, type SigningKeyRow } from "../store/signing-keys.js";

/** The `iss` of every token Verity signs. */
export const TOKEN_ISSUER = "verity";
const ALG = "EdDSA";
/** How long a process signs with the key it loaded before it looks for a newer one. */
const KEY_REFRESH_MS = 60_000;

/** A new Ed25519 key pair, its id derived from the public key (RFC 7638 thumbprint). */
export const makeSigningKey = async (): Promise<Omit<SigningKeyRow, "createdAt">> => {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const id = `vk_${(await calculateJwkThumbprint(publicJwk)).slice(0, 22)}`;
  return { id, publicJwk: JSON.stringify(publicJwk), privateJwk: JSON.stringify(await exportJWK(privateKey)) };
};

/** A public key as the JWKS lists it. */
const publicJwkOf = (row: SigningKeyRow): JWK => ({ ...(JSON.parse(row.publicJwk) as JWK), kid: row.id, alg: ALG, use: "sig" });

export class TokenSigner {
  private loaded: { readonly at: number; readonly key: Promise<{ readonly kid: string; readonly key: CryptoKey | Uint8Array }> } | null = null;

  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  /** The newest key, made when there is none; reloaded every KEY_REFRESH_MS to follow a rotation. */
  private signingKey(): Promise<{ readonly kid: string; readonly key: CryptoKey | Uint8Array }> {
    const now = this.now();
    if (this.loaded === null || now - this.loaded.at > KEY_REFRESH_MS) {
      const key = ensureSigningKey(this.db, makeSigningKey, new Date(now)).then(async ([newest]) => ({ kid: newest!.id, key: await importJWK(JSON.parse(newest!.privateJwk) as JWK, ALG) }));
      // A failed load is not remembered: the next token asks again.
      key.catch(() => (this.loaded = null));
      this.loaded = { at: now, key };
    }
    return this.loaded.key;
  }

  /** The token for `claims`, signed with the newest key. */
  async sign(claims: TokenClaims): Promise<{ readonly token: string; readonly keyId: string }> {
    const { kid, key } = await this.signingKey();
    const { sub, aud, iat, exp, ent, sid } = claims;
    const token = await new SignJWT(sid === undefined ? { ent } : { ent, sid }).setProtectedHeader({ alg: ALG, kid, typ: "JWT" }).setIssuer(TOKEN_ISSUER).setSubject(sub).setAudience(aud).setIssuedAt(iat).setExpirationTime(exp).sign(key);
    return { token, keyId: kid };
  }

  /**
   * The refresh token that follows the one hashed `spentHash`, as each signing key makes it, newest
   * first. A key always makes the same one, so a retried refresh gets the same answer from any
   * process; only a holder of the private keys could make one.
   */
  async nextRefreshTokens(spentHash: string): Promise<string[]> {
    await this.signingKey();
    return (await signingKeys(this.db)).map((row) => {
      const secret = Buffer.from((JSON.parse(row.privateJwk) as JWK).d!, "base64url");
      return `vrt_${createHmac("sha256", secret).update(`verity refresh token\u0000${spentHash}`).digest("base64url")}`;
    });
  }

  /** Every public key, newest first: tokens signed by any process, before or after a rotation, verify. */
  async jwks(): Promise<{ readonly keys: readonly JWK[] }> {
    // The key this process signs with exists before the list is read (made here when there was none).
    await this.signingKey();
    return { keys: (await signingKeys(this.db)).map(publicJwkOf) };
  }
}

/** `POST /v1/tokens`: a token stating the user's entitlements now, for `audience`. */
export const issueToken = async (reads: ReadModel, catalog: Catalog, signer: TokenSigner, request: TokenRequest, now: number): Promise<Either.Either<Answer, UserNotFound>> => {
  const userId = await reads.findUser(request.userId);
  const view = userId === null ? null : await reads.user(userId);
  if (view === null) return Either.left(new UserNotFound({ id: request.userId }));
  const claims = tokenClaims({
    subject: view.user.appUserId ?? view.user.id,
    audience: request.audience,
    entitlements: entitlementsAt(view.grants, catalog, now, meterReading(view, now), slotReading(view, now)),
    grants: view.grants,
    now,
    lifetimeSeconds: request.ttlSeconds,
  });
  const { token, keyId } = await signer.sign(claims);
  return Either.right(ok({ token, keyId, userId: claims.sub, audience: claims.aud, expiresAt: new Date(claims.exp * 1000).toISOString(), entitlements: claims.ent }));
};
