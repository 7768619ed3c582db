// Credits, the pure rules. A plan's `credits` grants a lot with each order that pays for it: a paid
// subscription period grants to the subscription bucket, a one-time purchase (a credit pack) to the
// one-time bucket. A lot expires `expiresAfterDays` after it was granted, and a subscription lot
// without rollover when the next period's lot arrives (with the renewal's payment, not with the
// clock alone). A refund revokes what its order granted, in proportion to what was refunded. Uses
// debit lots: subscription credits first, then one-time; within a bucket the lot that expires first.
// The ledger is what all of that gives, entry by entry; a balance is the sum of its ledger.
import type { Catalog } from "./catalog.js";
import type { Order } from "./state.js";
import { addDays, type Instant } from "./time.js";

export type Bucket = "subscription" | "oneTime";

/** What one paid order granted. */
export type CreditLot = {
  readonly id: string;
  readonly bucket: Bucket;
  readonly amount: number;
  readonly at: Instant;
  /** When what is left of it expires (null: never). */
  readonly expiresAt: Instant | null;
  /** Credits its refund takes back (0 when not refunded). */
  readonly revoked: number;
  /** The plan that granted it, for the ledger's note. */
  readonly plan: string;
};

/** The lots a user's orders grant under the catalog, oldest first. */
export const creditLots = (orders: Iterable<Pick<Order, "id" | "kind" | "plan" | "status" | "amount" | "amountRefunded" | "paidAt" | "subscriptionId">>, catalog: Catalog): CreditLot[] => {
  const granted: (CreditLot & { readonly subscriptionId: string | null; readonly rollover: boolean })[] = [];
  for (const o of orders) {
    const credits = o.plan === null ? null : (catalog.plans[o.plan]?.credits ?? null);
    if (credits === null || o.status === "pending") continue;
    const bucket: Bucket | null = credits.per === "period" ? (o.kind === "subscription" ? "subscription" : null) : o.kind === "one_time" ? "oneTime" : null;
    if (bucket === null) continue;
    const revoked = o.status === "refunded" || o.amount <= 0 ? (o.status === "refunded" ? credits.amount : 0) : Math.round((credits.amount * o.amountRefunded) / o.amount);
    granted.push({
      id: o.id,
      bucket,
      amount: credits.amount,
      at: o.paidAt,
      expiresAt: credits.expiresAfterDays === null ? null : addDays(o.paidAt, credits.expiresAfterDays),
      revoked,
      plan: o.plan!,
      subscriptionId: o.subscriptionId,
      rollover: credits.rollover,
    });
  }
  granted.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Without rollover, a subscription's lot ends when its next period's lot is granted.
  return granted.map((lot, i) => {
    const { subscriptionId, rollover, ...rest } = lot;
    if (lot.bucket !== "subscription" || rollover) return rest;
    const next = granted.slice(i + 1).find((l) => l.bucket === "subscription" && l.subscriptionId === subscriptionId);
    return next === undefined ? rest : { ...rest, expiresAt: rest.expiresAt === null ? next.at : Math.min(rest.expiresAt, next.at) };
  });
};

/** Credits a lot still holds at `t`, given what uses took from it: nothing once expired; revocations first. */
export const lotAvailable = (lot: CreditLot, used: number, t: Instant): number =>
  lot.at > t || (lot.expiresAt !== null && t >= lot.expiresAt) ? 0 : Math.max(0, lot.amount - lot.revoked - used);

/** Credits taken from one lot by one use. */
export type CreditTake = { readonly lot: string; readonly bucket: Bucket; readonly amount: number };

export type Balances = { readonly subscription: number; readonly oneTime: number };

export const balancesAt = (lots: readonly CreditLot[], used: ReadonlyMap<string, number>, t: Instant): Balances => {
  let subscription = 0;
  let oneTime = 0;
  for (const lot of lots) {
    const n = lotAvailable(lot, used.get(lot.id) ?? 0, t);
    if (lot.bucket === "subscription") subscription += n;
    else oneTime += n;
  }
  return { subscription, oneTime };
};

/** The order lots are drawn from: subscription before one-time, then the one that expires first, then the oldest. */
const drawOrder = (a: CreditLot, b: CreditLot): number =>
  (a.bucket === b.bucket ? 0 : a.bucket === "subscription" ? -1 : 1) || (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || a.at - b.at || (a.id < b.id ? -1 : 1);

/** How `cost` credits are drawn at `t`, or null when the lots do not hold that many (nothing is drawn then). */
export const drawCredits = (lots: readonly CreditLot[], used: ReadonlyMap<string, number>, cost: number, t: Instant): CreditTake[] | null => {
  const takes: CreditTake[] = [];
  let left = cost;
  for (const lot of [...lots].sort(drawOrder)) {
    if (left === 0) break;
    const n = Math.min(left, lotAvailable(lot, used.get(lot.id) ?? 0, t));
    if (n > 0) takes.push({ lot: lot.id, bucket: lot.bucket, amount: n }), (left -= n);
  }
  return left === 0 ? takes : null;
};

/** A use that drew credits, as the ledger lists it. */
export type CreditDebit = { readonly at: Instant; readonly cause: string; readonly feature: string; readonly takes: readonly CreditTake[] };

export type LedgerEntry = {
  readonly at: Instant;
  readonly bucket: Bucket;
  readonly kind: "grant" | "debit" | "expiry" | "revocation";
  /** Positive for a grant, negative otherwise: the ledger sums to the balance. */
  readonly amount: number;
  readonly balanceAfter: number;
  /** The order (grant, expiry, revocation) or the usage record (debit). */
  readonly cause: string;
  readonly note: string;
};

/**
 * The ledger at `t`: each lot's grant, each debit, each revocation (at `revokedAt` of the lot, the
 * refund's time when known, else the grant's), and each expiry that has happened by `t` of what the
 * lot still held then. A revocation takes what the lot still holds, down to zero; what it could not
 * take is noted as the shortfall. Entries in time order (grants before debits before losses at one
 * instant), each with its bucket's balance after it.
 */
export const creditLedger = (lots: readonly CreditLot[], debits: readonly CreditDebit[], t: Instant, revokedAt: (lot: CreditLot) => Instant = (lot) => lot.at): LedgerEntry[] => {
  type Raw = Omit<LedgerEntry, "balanceAfter"> & { readonly rank: number };
  const raw: Raw[] = [];
  const byLot = new Map(lots.map((l) => [l.id, l]));
  const takesOf = new Map<string, { at: Instant; amount: number }[]>();
  for (const d of debits) {
    if (d.at > t) continue;
    for (const take of d.takes) {
      raw.push({ at: d.at, bucket: take.bucket, kind: "debit", amount: -take.amount, cause: d.cause, note: `${d.feature}`, rank: 1 });
      takesOf.set(take.lot, [...(takesOf.get(take.lot) ?? []), { at: d.at, amount: take.amount }]);
    }
  }
  for (const lot of lots) {
    if (lot.at > t) continue;
    raw.push({ at: lot.at, bucket: lot.bucket, kind: "grant", amount: lot.amount, cause: lot.id, note: `${lot.plan}`, rank: 0 });
    const usedBy = (when: Instant) => (takesOf.get(lot.id) ?? []).filter((x) => x.at <= when).reduce((s, x) => s + x.amount, 0);
    let revoked = 0;
    if (lot.revoked > 0) {
      const when = Math.max(lot.at, revokedAt(lot));
      if (when <= t && (lot.expiresAt === null || when < lot.expiresAt)) {
        revoked = Math.min(lot.revoked, Math.max(0, lot.amount - usedBy(when)));
        const shortfall = lot.revoked - revoked;
        raw.push({ at: when, bucket: lot.bucket, kind: "revocation", amount: -revoked, cause: lot.id, note: shortfall > 0 ? `refund; shortfall ${shortfall}` : "refund", rank: 2 });
      }
    }
    if (lot.expiresAt !== null && lot.expiresAt <= t) {
      const left = Math.max(0, lot.amount - revoked - usedBy(lot.expiresAt));
      if (left > 0) raw.push({ at: lot.expiresAt, bucket: lot.bucket, kind: "expiry", amount: -left, cause: lot.id, note: "expired", rank: 3 });
    }
  }
  raw.sort((a, b) => a.at - b.at || a.rank - b.rank || (a.cause < b.cause ? -1 : a.cause > b.cause ? 1 : 0) || (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
  const balance: Record<Bucket, number> = { subscription: 0, oneTime: 0 };
  return raw.map(({ rank: _rank, ...e }) => {
    balance[e.bucket] += e.amount;
    return { ...e, balanceAfter: balance[e.bucket] };
  });
};

/** Uses per lot, summed from the debits (what the stored use rows must hold). */
export const usedByLot = (debits: Iterable<Pick<CreditDebit, "takes">>): Map<string, number> => {
  const used = new Map<string, number>();
  for (const d of debits) for (const take of d.takes) used.set(take.lot, (used.get(take.lot) ?? 0) + take.amount);
  return used;
};
