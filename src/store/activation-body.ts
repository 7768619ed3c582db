// The stored bodies of activation events (source "app"): a code issued, exchanged, a refresh token
// rotated, an activation revoked. Verity's own versioned JSON, stating what was decided, so replay
// folds them without a clock. They hold hashes of the code and refresh tokens, never the secrets.
import { Either, ParseResult, Schema } from "effect";
import type { ActivationFact } from "../domain/activations.js";
import { Time } from "./usage-body.js";

export const CODE_ISSUED_TYPE = "activation.code_issued" as const;
export const CODE_REDEEMED_TYPE = "activation.redeemed" as const;
export const REFRESH_ROTATED_TYPE = "activation.refreshed" as const;
export const ACTIVATION_REVOKED_TYPE = "activation.revoked" as const;
export const ACTIVATION_TYPES = [CODE_ISSUED_TYPE, CODE_REDEEMED_TYPE, REFRESH_ROTATED_TYPE, ACTIVATION_REVOKED_TYPE] as const;

/**
 * The event ids. The store refuses a second event with one id, so a code is exchanged once and a
 * refresh token rotates once, also when two processes race for it.
 */
export const codeEventId = (codeHash: string): string => `code:${codeHash}`;
export const redeemEventId = (codeHash: string): string => `redeem:${codeHash}`;
export const rotateEventId = (fromHash: string): string => `rotate:${fromHash}`;
export const revokeEventId = (activationId: string): string => `revoke:${activationId}`;

const Hash = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/));

const Issued = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal(CODE_ISSUED_TYPE),
  codeHash: Hash,
  subject: Schema.String,
  userId: Schema.String,
  at: Time,
  expiresAt: Time,
  tokenSeconds: Schema.Int,
  keyId: Schema.String,
  requestId: Schema.String,
});

const Redeemed = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal(CODE_REDEEMED_TYPE),
  codeHash: Hash,
  activationId: Schema.String,
  domain: Schema.String,
  refreshHash: Hash,
  refreshExpiresAt: Time,
  at: Time,
  requestId: Schema.String,
});

const Rotated = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal(REFRESH_ROTATED_TYPE),
  activationId: Schema.String,
  fromHash: Hash,
  refreshHash: Hash,
  refreshExpiresAt: Time,
  at: Time,
  requestId: Schema.String,
});

const Revoked = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal(ACTIVATION_REVOKED_TYPE),
  activationId: Schema.String,
  at: Time,
  reason: Schema.Literal("reuse", "revoked"),
  keyId: Schema.NullOr(Schema.String),
  requestId: Schema.String,
});

const Body = Schema.Union(Issued, Redeemed, Rotated, Revoked);
const encodeBody = Schema.encodeSync(Body);
const decodeBody = Schema.decodeUnknownEither(Body, { errors: "all" });

/** The event type and body that state `f`. */
export const encodeActivationFact = (f: ActivationFact): { readonly type: string; readonly body: Buffer } => {
  const body = (() => {
    switch (f._tag) {
      case "CodeIssued":
        return { v: 1 as const, kind: CODE_ISSUED_TYPE, ...f.fact };
      case "CodeRedeemed":
        return { v: 1 as const, kind: CODE_REDEEMED_TYPE, ...f.fact };
      case "RefreshRotated":
        return { v: 1 as const, kind: REFRESH_ROTATED_TYPE, ...f.fact };
      case "ActivationRevoked":
        return { v: 1 as const, kind: ACTIVATION_REVOKED_TYPE, ...f.fact };
      default: {
        const unreachable: never = f;
        return unreachable;
      }
    }
  })();
  return { type: body.kind, body: Buffer.from(JSON.stringify(encodeBody(body))) };
};

/** The fact a stored activation event states; throws naming what does not decode. */
export const activationFactOf = (raw: Uint8Array | string): ActivationFact => {
  const decoded = decodeBody(JSON.parse(typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8")));
  if (Either.isLeft(decoded)) throw new Error(`a stored activation event does not decode: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`);
  const b = decoded.right;
  switch (b.kind) {
    case CODE_ISSUED_TYPE: {
      const { v: _v, kind: _k, ...fact } = b;
      return { _tag: "CodeIssued", fact };
    }
    case CODE_REDEEMED_TYPE: {
      const { v: _v, kind: _k, ...fact } = b;
      return { _tag: "CodeRedeemed", fact };
    }
    case REFRESH_ROTATED_TYPE: {
      const { v: _v, kind: _k, ...fact } = b;
      return { _tag: "RefreshRotated", fact };
    }
    case ACTIVATION_REVOKED_TYPE: {
      const { v: _v, kind: _k, ...fact } = b;
      return { _tag: "ActivationRevoked", fact };
    }
    default: {
      const unreachable: never = b;
      return unreachable;
    }
  }
};
