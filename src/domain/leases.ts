// Concurrency leases, the pure rules: a `concurrent` feature allows at most N leases held at once;
// a lease is held from its acquisition until it is released or its time-to-live runs out, whichever
// comes first, so an expired lease frees its slot by itself with no event. The log holds one event
// per acquisition and per release; the leases are what those events fold to.
import { fnv1a64 } from "./identity.js";
import type { Instant } from "./time.js";

/** An acquisition as its stored event states it. */
export type LeaseAcquired = {
  readonly leaseId: string;
  readonly subject: string;
  readonly userId: string;
  readonly feature: string;
  readonly at: Instant;
  readonly expiresAt: Instant;
  /** The concurrency limit it was decided against, and the leases held once it was taken. */
  readonly limit: number;
  readonly activeAfter: number;
  readonly source: string;
  readonly idempotencyKey: string;
  readonly keyId: string;
  readonly requestId: string;
};

/** A release as its stored event states it; `usageKey` names the usage record made with it, if any. */
export type LeaseReleased = {
  readonly leaseId: string;
  readonly subject: string;
  readonly userId: string;
  readonly at: Instant;
  readonly keyId: string;
  readonly requestId: string;
};

/** A lease as the projection keeps it. */
export type Lease = {
  readonly id: string;
  readonly subject: string;
  readonly userId: string;
  readonly feature: string;
  readonly acquiredAt: Instant;
  readonly expiresAt: Instant;
  readonly releasedAt: Instant | null;
};

/** A lease's id: one per subject and idempotency key, so a retried acquisition finds its lease. */
export const leaseIdFor = (subject: string, idempotencyKey: string): string => `lse_${fnv1a64(`${subject}\u0000${idempotencyKey}`)}`;

/** Whether a lease holds a slot at `t`: acquired, not released, not expired. */
export const holdsSlot = (lease: Pick<Lease, "acquiredAt" | "expiresAt" | "releasedAt">, t: Instant): boolean =>
  lease.acquiredAt <= t && t < lease.expiresAt && (lease.releasedAt === null || t < lease.releasedAt);

/** How many of `leases` hold a slot of `feature` at `t`. */
export const activeLeases = (leases: Iterable<Lease>, feature: string, t: Instant): number => {
  let n = 0;
  for (const l of leases) if (l.feature === feature && holdsSlot(l, t)) n += 1;
  return n;
};

/** Whether one more lease fits: fewer than `limit` held. */
export const leaseFits = (limit: number, active: number): boolean => active < limit;

/**
 * The leases the events fold to: each acquisition a lease, released at its earliest release (a
 * release repeated is ignored). Order-free: any order of the same events gives the same leases.
 */
export const leasesOf = (acquired: Iterable<LeaseAcquired>, released: Iterable<LeaseReleased>): Map<string, Lease> => {
  const releases = new Map<string, Instant>();
  for (const r of released) releases.set(r.leaseId, Math.min(releases.get(r.leaseId) ?? Infinity, r.at));
  const leases = new Map<string, Lease>();
  for (const a of acquired) {
    const releasedAt = releases.get(a.leaseId) ?? null;
    leases.set(a.leaseId, { id: a.leaseId, subject: a.subject, userId: a.userId, feature: a.feature, acquiredAt: a.at, expiresAt: a.expiresAt, releasedAt });
  }
  return leases;
};
