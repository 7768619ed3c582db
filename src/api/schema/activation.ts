// Activations (a client's code exchanged for a domain-bound refresh token), mirroring
// GET /api/users/{id}/activations. Nothing here names a secret or its hash.
import type { activationView } from "../../domain/activations.js";
import { builder } from "../builder.js";

export type ActivationView = ReturnType<typeof activationView>;

const at = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));

export const ActivationRef = builder.objectRef<ActivationView>("Activation").implement({
  description: "An activation code exchanged by a client on one domain; refreshed with rotating refresh tokens until revoked.",
  fields: (t) => ({
    id: t.exposeString("id"),
    userId: t.exposeString("userId"),
    domain: t.exposeString("domain", { description: "The host (and port) its refresh token is bound to." }),
    status: t.exposeString("status", { description: "active, revoked, or expired (its refresh token ran out unused)." }),
    createdAt: t.field({ type: "DateTime", resolve: (a) => new Date(a.createdAt!) }),
    lastRefreshedAt: t.field({ type: "DateTime", nullable: true, resolve: (a) => at(a.lastRefreshedAt) }),
    refreshExpiresAt: t.field({ type: "DateTime", description: "When the current refresh token expires unless used.", resolve: (a) => new Date(a.refreshExpiresAt!) }),
    rotations: t.exposeInt("rotations"),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (a) => at(a.revokedAt) }),
    revokedReason: t.exposeString("revokedReason", { nullable: true, description: "reuse (a spent refresh token came back) or revoked (by the app)." }),
  }),
});
