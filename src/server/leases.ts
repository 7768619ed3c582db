// POST /v1/leases and POST /v1/leases/{id}/release: "at most N at once". A lease takes a slot of a
// `concurrent` feature for its time-to-live (the plan's leaseSeconds unless the caller asks for
// less); a release frees it and may record the work's usage against a metered feature in the same
// transaction. Decided and stored by src/store/leases.ts.
import { Either } from "effect";
import { catalogFeatures } from "../domain/catalog.js";
import { decidingGrant } from "../domain/entitlements.js";
import type { Lease } from "../domain/leases.js";
import { acquireLease, findLease, releaseLease, type LeaseOutcome } from "../store/leases.js";
import { sqlOf } from "../store/sql.js";
import { ConcurrencyExceeded, InvalidParameter, LeaseNotFound, NoEntitlement, NotMetered, UnknownFeature, UserNotFound, type Answer, type Refused } from "./errors.js";
import { outcomeAnswer, prepareUsage, type Sender, type UsageDeps } from "./usage.js";
import type { LeaseRequest, ReleaseRequest } from "./usage-request.js";
import type { PendingUsage, UsageCommit } from "../store/usage.js";

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export type LeaseDeps = UsageDeps & {
  /** Told of every lease taken or released, and of usage a release recorded. */
  readonly onLease: (lease: Lease, usage: UsageCommit | null) => void;
};

const leaseAnswer = (outcome: Extract<LeaseOutcome, { _tag: "Acquired" | "Duplicate" }>, replayed: boolean): Answer & { readonly replayed: boolean } => ({
  status: 200,
  body: { leaseId: outcome.lease.leaseId, expiresAt: iso(outcome.lease.expiresAt), active: outcome.lease.activeAfter, limit: outcome.lease.limit, feature: outcome.lease.feature },
  replayed,
});

/** `POST /v1/leases`: a slot when one is free now (429 when none is, 402 when no plan grants the feature). */
export const takeLease = async (deps: LeaseDeps, r: LeaseRequest, sender: Sender): Promise<Either.Either<Answer & { readonly replayed: boolean }, Refused>> => {
  if (!catalogFeatures(deps.catalog).includes(r.feature)) return Either.left(new UnknownFeature({ feature: r.feature }));
  const id = await deps.reads.findUser(r.userId);
  const view = id === null ? null : await deps.reads.user(id);
  if (view === null) return Either.left(new UserNotFound({ id: r.userId }));
  const now = deps.now();
  const grant = decidingGrant(view.grants, r.feature, now);
  if (grant === null) return Either.left(new NoEntitlement({ feature: r.feature, userId: r.userId }));
  if (grant.spec._tag !== "Concurrent") return Either.left(new NotMetered({ message: `"${r.feature}" is not a concurrency limit: leases are for features with "concurrent"` }));
  const { concurrent, leaseSeconds } = grant.spec;
  if (r.ttlSeconds !== null && r.ttlSeconds > leaseSeconds) return Either.left(new InvalidParameter({ message: `ttlSeconds: at most ${leaseSeconds} for "${r.feature}" (the plan's leaseSeconds)` }));
  const ttl = r.ttlSeconds ?? leaseSeconds;
  const outcome = await acquireLease(
    deps.db,
    {
      subject: view.subject,
      userId: view.user.id,
      feature: r.feature,
      at: now,
      expiresAt: now + ttl * 1000,
      limit: concurrent,
      source: grant.source,
      idempotencyKey: r.idempotencyKey,
      keyId: sender.principal.keyId,
      requestId: sender.requestId,
      receivedAt: now,
    },
    now,
  );
  switch (outcome._tag) {
    case "Acquired":
      deps.onLease({ id: outcome.lease.leaseId, subject: view.subject, userId: view.user.id, feature: r.feature, acquiredAt: now, expiresAt: outcome.lease.expiresAt, releasedAt: null }, null);
      return Either.right(leaseAnswer(outcome, false));
    case "Duplicate":
      return Either.right(leaseAnswer(outcome, true));
    case "ConcurrencyExceeded": {
      const frees = outcome.nextFreeAt === null ? "" : `; the first frees itself at ${iso(outcome.nextFreeAt)} unless released sooner`;
      return Either.left(
        new ConcurrencyExceeded({
          message: `all ${concurrent} slots of "${r.feature}" are held${frees}`,
          details: { feature: r.feature, limit: concurrent, active: outcome.active, resetsAt: iso(outcome.nextFreeAt) },
        }),
      );
    }
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
};

const refusalJson = (e: Refused) => ({ status: e.status, error: { code: e.code, message: e.message } });

/**
 * What a release says of the usage sent with it: nothing when none was sent (or a repeated release
 * recorded none), the refusal when no plan grants its feature any more, else the usage's own answer.
 */
const usageOfRelease = (prepared: Either.Either<PendingUsage, Refused> | null, pending: PendingUsage | null, recorded: UsageCommit | null) => {
  if (prepared !== null && Either.isLeft(prepared)) return refusalJson(prepared.left);
  if (pending === null || recorded === null) return null;
  return Either.match(outcomeAnswer(pending, recorded.outcomes[0]!), { onLeft: refusalJson, onRight: (a) => ({ status: a.status, ...(a.body as object) }) });
};

/**
 * `POST /v1/leases/{id}/release`: frees the slot (once; a second release answers the same), and
 * records `usage` when given. Usage that would pass a block quota is refused (reported in `usage`)
 * while the lease is still released: the work is over either way.
 */
export const freeLease = async (deps: LeaseDeps, leaseId: string, r: ReleaseRequest, sender: Sender): Promise<Either.Either<Answer, Refused>> => {
  const now = deps.now();
  // The usage is prepared against the lease's owner before the transaction (a lookup in memory).
  let prepared: Either.Either<PendingUsage, Refused> | null = null;
  const owner = await findLease(sqlOf(deps.db), leaseId);
  if (owner === null) return Either.left(new LeaseNotFound({ leaseId }));
  if (r.usage !== null) {
    prepared = await prepareUsage(deps, { userId: owner.subject, feature: r.usage.feature, units: r.usage.units, idempotencyKey: `lease:${leaseId}`, at: null }, sender);
    // Bad units or a feature that is no meter: nothing is released, so the caller can correct and retry.
    if (Either.isLeft(prepared) && prepared.left._tag !== "NoEntitlement") return Either.left(prepared.left);
  }
  const pending = prepared !== null && Either.isRight(prepared) ? prepared.right : null;
  const outcome = await releaseLease(deps.db, { leaseId, at: now, keyId: sender.principal.keyId, requestId: sender.requestId, receivedAt: now }, () => pending, now, deps.catalog);
  if (outcome._tag === "LeaseNotFound") return Either.left(new LeaseNotFound({ leaseId }));
  if (!outcome.again) deps.onLease(outcome.lease, outcome.usage);
  const usage = usageOfRelease(prepared, pending, outcome.usage);
  return Either.right({
    status: 200,
    body: {
      leaseId,
      feature: outcome.lease.feature,
      releasedAt: iso(outcome.release.at),
      expired: outcome.lease.expiresAt <= outcome.release.at,
      ...(usage === null ? {} : { usage }),
    },
  });
};
