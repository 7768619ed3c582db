// Activation codes and activations offline: as a replay of an export and verify of a database show
// them (instants as ISO text, sorted by id), and how two such views differ.
import type { Activation, ActivationCode } from "../domain/activations.js";
import { diffById, type UsageDifference } from "./usage.js";

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const byId = <T extends { readonly id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A code as a snapshot shows it, named by its hash (the code itself is never stored). */
export type SnapshotCode = { readonly id: string; readonly subject: string; readonly userId: string; readonly issuedAt: string; readonly expiresAt: string; readonly tokenSeconds: number; readonly redeemedAt: string | null; readonly activationId: string | null };

export type SnapshotActivation = {
  readonly id: string;
  readonly subject: string;
  readonly userId: string;
  readonly domain: string;
  readonly createdAt: string;
  readonly tokenSeconds: number;
  readonly refreshHash: string;
  readonly refreshExpiresAt: string;
  readonly lastRefreshedAt: string | null;
  readonly rotations: number;
  readonly revokedAt: string | null;
  readonly revokedReason: string | null;
};

export type ActivationSnapshot = { readonly codes: readonly SnapshotCode[]; readonly activations: readonly SnapshotActivation[] };

export const activationSnapshot = (codes: Iterable<ActivationCode>, activations: Iterable<Activation>): ActivationSnapshot => ({
  codes: [...codes]
    .map((c) => ({ id: c.hash, subject: c.subject, userId: c.userId, issuedAt: iso(c.issuedAt)!, expiresAt: iso(c.expiresAt)!, tokenSeconds: c.tokenSeconds, redeemedAt: iso(c.redeemedAt), activationId: c.activationId }))
    .sort(byId),
  activations: [...activations]
    .map((a) => ({
      id: a.id,
      subject: a.subject,
      userId: a.userId,
      domain: a.domain,
      createdAt: iso(a.createdAt)!,
      tokenSeconds: a.tokenSeconds,
      refreshHash: a.refreshHash,
      refreshExpiresAt: iso(a.refreshExpiresAt)!,
      lastRefreshedAt: iso(a.lastRefreshedAt),
      rotations: a.rotations,
      revokedAt: iso(a.revokedAt),
      revokedReason: a.revokedReason,
    }))
    .sort(byId),
});

/** Every difference between two activation snapshots. */
export const diffActivations = (left: ActivationSnapshot, right: ActivationSnapshot): UsageDifference[] => [...diffById("activation", left.codes, right.codes, "code"), ...diffById("activation", left.activations, right.activations, "activation")];
