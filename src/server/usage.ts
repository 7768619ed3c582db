// POST /v1/usage and POST /v1/check: "may this user use this now?", decided against the user's
// plan as the read model holds it and the usage counters. A usage record is prepared here (user,
// deciding grant, units, period: all refusals that need no counter), then decided and stored
// atomically by the store (store/usage.ts); a check takes the same decision on the stored counter
// without recording.
import { Either } from "effect";
import type { Principal } from "../api/scopes.js";
import { catalogFeatures, type Catalog } from "../domain/catalog.js";
import { decidingGrant } from "../domain/entitlements.js";
import { counterKey, decideQuota, maxUnits, meterAnswer, recordAnswer, scaleUnits, usagePeriod, type Quota, type UsageAnswer, type UsageRecord } from "../domain/usage.js";
import { billingOf, type ReadModel, type UserView } from "../store/read-model.js";
import { sqlOf } from "../store/sql.js";
import type { Database } from "../store/database.js";
import { balancesAt, drawCredits } from "../domain/credits.js";
import { creditUses, lotsOfUser } from "../store/credits.js";
import { readCounters, type PendingUsage, type UsageAppender, type UsageOutcome } from "../store/usage.js";
import { InsufficientCredits, InvalidParameter, NoEntitlement, NotMetered, QuotaExceeded, UnknownFeature, UserNotFound, type Answer, type Refused } from "./errors.js";
import type { CheckRequest, UsageRecord as UsageRequestRecord } from "./usage-request.js";

export type UsageDeps = {
  readonly db: Database;
  readonly catalog: Catalog;
  readonly reads: ReadModel;
  readonly usage: UsageAppender;
  readonly now: () => number;
};

/** How far ahead of the server's clock a record's `at` may be (clocks drift; usage does not happen in the future). */
export const MAX_FUTURE_MS = 5 * 60_000;

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export const usageAnswerJson = (a: UsageAnswer) => ({ ...a, resetsAt: iso(a.resetsAt) });

/** A recorded use's answer: its meter, and for a feature priced in credits the balances after its debit. */
const recordJson = (r: UsageRecord) => ({ ...usageAnswerJson(recordAnswer(r)), ...(r.credits ? { credits: r.credits.balances } : {}) });

/** What a feature's deciding grant meters: its quota and the period a usage at `at` counts in. */
type Metering = {
  readonly view: UserView;
  readonly quota: Quota;
  readonly period: { readonly start: number; readonly end: number | null };
  readonly source: string;
  /** Credits each unit costs, for a feature priced in credits. */
  readonly creditsPerUnit: number | null;
};

const unitsRefusal = (units: number, decimals: number, refused: Exclude<ReturnType<typeof scaleUnits>, { _tag: "Scaled" }>): InvalidParameter => {
  switch (refused._tag) {
    case "NotANumber":
      return new InvalidParameter({ message: "units: expected a finite number" });
    case "NotPositive":
      return new InvalidParameter({ message: `units: must be greater than 0 (got ${units})` });
    case "TooPrecise":
      return new InvalidParameter({
        message: decimals === 0 ? `units: this meter counts whole units (got ${units})` : `units: this meter takes at most ${decimals} digits after the point (got ${units})`,
      });
    case "TooLarge":
      return new InvalidParameter({ message: `units: at most ${maxUnits(decimals)} per record (got ${units})` });
    default: {
      const unreachable: never = refused;
      return unreachable;
    }
  }
};

/** The user, the grant that decides `feature` at `at`, and the units scaled: or why the request is refused. */
const meter = async (deps: UsageDeps, userId: string, feature: string, units: number, at: number): Promise<Either.Either<Metering & { readonly scaled: number }, Refused>> => {
  if (!catalogFeatures(deps.catalog).includes(feature)) return Either.left(new UnknownFeature({ feature }));
  const id = await deps.reads.findUser(userId);
  const view = id === null ? null : await deps.reads.user(id);
  if (view === null) return Either.left(new UserNotFound({ id: userId }));
  const grant = decidingGrant(view.grants, feature, at);
  if (grant === null) return Either.left(new NoEntitlement({ feature, userId }));
  const spec = grant.spec;
  let quota: Quota;
  let per: "month" | "year" | "period";
  switch (spec._tag) {
    case "Metered":
      quota = { limit: spec.limit, overage: spec.overage, decimals: spec.decimals };
      per = spec.per;
      break;
    case "Flag":
      // Granted without a limit: counted per calendar month, never refused.
      quota = { limit: null, overage: "allow", decimals: 0 };
      per = "month";
      break;
    case "Concurrent":
      return Either.left(new NotMetered({ message: `"${feature}" is a concurrency limit: take a lease (POST /v1/leases) instead of recording usage` }));
    case "Value":
      return Either.left(new NotMetered({ message: `"${feature}" is a plan value the app reads, not a meter` }));
    case "Credits":
      // Counted per calendar month like a flag; what limits it is the credit balance.
      quota = { limit: null, overage: "allow", decimals: 0 };
      per = "month";
      break;
    default: {
      const unreachable: never = spec;
      return unreachable;
    }
  }
  const scaled = scaleUnits(units, quota.decimals);
  if (scaled._tag !== "Scaled") return Either.left(unitsRefusal(units, quota.decimals, scaled));
  const creditsPerUnit = spec._tag === "Credits" ? spec.credits : null;
  if (creditsPerUnit !== null && !Number.isSafeInteger(creditsPerUnit * scaled.scaled)) return Either.left(new InvalidParameter({ message: `units: ${units} uses cost more credits than can be counted` }));
  return Either.right({ view, quota, period: usagePeriod(per, at, billingOf(view, grant)), source: grant.source, scaled: scaled.scaled, creditsPerUnit });
};

/** Who sent a record and under which correlation id. */
export type Sender = { readonly principal: Principal; readonly requestId: string };

/** A record ready to be decided, or why it is refused before any counter is read. */
export const prepareUsage = async (deps: UsageDeps, r: UsageRequestRecord, sender: Sender): Promise<Either.Either<PendingUsage, Refused>> => {
  const now = deps.now();
  const at = r.at ?? now;
  if (at > now + MAX_FUTURE_MS) return Either.left(new InvalidParameter({ message: `at: ${new Date(at).toISOString()} is in the future (the server's clock says ${new Date(now).toISOString()})` }));
  return Either.map(await meter(deps, r.userId, r.feature, r.units, at), (m) => ({
    quota: m.quota,
    receivedAt: now,
    credits: m.creditsPerUnit === null ? null : { cost: m.creditsPerUnit * m.scaled },
    record: {
      subject: m.view.subject,
      userId: m.view.user.id,
      feature: r.feature,
      units: m.scaled,
      decimals: m.quota.decimals,
      at,
      period: m.period,
      limit: m.quota.limit,
      overage: m.quota.overage,
      source: m.source,
      idempotencyKey: r.idempotencyKey,
      keyId: sender.principal.keyId,
      requestId: sender.requestId,
    },
  }));
};

const exceeded = (feature: string, quota: Quota, used: number, resetsAt: number | null, why: string): QuotaExceeded => {
  const state = usageAnswerJson(meterAnswer(feature, quota, used, resetsAt));
  const when = state.resetsAt === null ? "its period's end is not known yet" : `it resets at ${state.resetsAt}`;
  return new QuotaExceeded({ message: `${why}; ${when}`, details: state });
};

/** The answer to one decided record: 200 with the meter after it, or 429 with how it stands. */
export const outcomeAnswer = (pending: PendingUsage, outcome: UsageOutcome): Either.Either<Answer & { readonly replayed: boolean }, Refused> => {
  const { record, quota } = pending;
  switch (outcome._tag) {
    case "Recorded":
    case "Duplicate":
      return Either.right({ status: 200, body: recordJson(outcome.record), replayed: outcome._tag === "Duplicate" });
    case "InsufficientCredits": {
      const { subscription, oneTime } = outcome.balances;
      return Either.left(
        new InsufficientCredits({
          message: `${record.units} of "${record.feature}" cost ${outcome.cost} credits; the balance is ${subscription + oneTime} (${subscription} subscription, ${oneTime} one-time)`,
          details: { feature: record.feature, cost: outcome.cost, credits: outcome.balances },
        }),
      );
    }
    case "QuotaExceeded":
      return Either.left(exceeded(record.feature, quota, outcome.used, record.period.end, `the quota of "${record.feature}" is spent: ${quota.limit} per period`));
    case "CounterFull":
      return Either.left(exceeded(record.feature, quota, outcome.used, record.period.end, `the counter of "${record.feature}" cannot hold more units this period`));
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
};

/** One record decided and, when within its quota, stored durably before the answer. */
export const recordOne = async (deps: UsageDeps, r: UsageRequestRecord, sender: Sender): Promise<Either.Either<Answer & { readonly replayed: boolean }, Refused>> => {
  const prepared = await prepareUsage(deps, r, sender);
  if (Either.isLeft(prepared)) return Either.left(prepared.left);
  return outcomeAnswer(prepared.right, await deps.usage.record(prepared.right));
};

/** `POST /v1/check`: the decision for `units` more, from the stored counter, recording nothing. */
export const check = async (deps: UsageDeps, c: CheckRequest): Promise<Either.Either<Answer, Refused>> => {
  const at = deps.now();
  const metered = await meter(deps, c.userId, c.feature, c.units, at);
  if (Either.isLeft(metered)) return Either.left(metered.left);
  const m = metered.right;
  const key = { subject: m.view.subject, feature: c.feature, periodStart: m.period.start };
  // On SQLite this process is the only writer, and every commit it makes updates the cached view
  // (noteCounters): the cached counter is the stored one. On PostgreSQL another process may have
  // counted since: the stored counter is read (one lookup by primary key).
  const cached = deps.db.kind === "sqlite";
  const id = counterKey(key.subject, key.feature, key.periodStart);
  const used = (cached ? m.view.counters.get(id) : (await readCounters(sqlOf(deps.db), [key])).get(id))?.used ?? 0;
  if (m.creditsPerUnit !== null) {
    const sql = sqlOf(deps.db);
    const lots = await lotsOfUser(sql, m.view.user.id, deps.catalog);
    const uses = await creditUses(sql, m.view.subject);
    const balances = balancesAt(lots, uses, at);
    const cost = m.creditsPerUnit * m.scaled;
    if (drawCredits(lots, uses, cost, at) === null) {
      return Either.left(
        new InsufficientCredits({
          message: `${c.units} of "${c.feature}" would cost ${cost} credits; the balance is ${balances.subscription + balances.oneTime}`,
          details: { feature: c.feature, cost, credits: balances },
        }),
      );
    }
    return Either.right({ status: 200, body: { allowed: true, ...usageAnswerJson(meterAnswer(c.feature, m.quota, used, m.period.end)), cost, credits: balances } });
  }
  const decision = decideQuota(m.quota, used, m.scaled);
  if (decision._tag !== "Within") {
    return Either.left(exceeded(c.feature, m.quota, used, m.period.end, `${c.units} more of "${c.feature}" would pass its quota of ${m.quota.limit} per period`));
  }
  return Either.right({ status: 200, body: { allowed: true, ...usageAnswerJson(meterAnswer(c.feature, m.quota, used, m.period.end)) } });
};
