// Credits, the pure rules, over generated histories of grants, uses, refunds and expiries:
// conservation (each bucket's balance is the sum of its ledger, and the balance a debit is decided
// with is the ledger's), never below zero, subscription credits drawn before one-time ones, the
// ledger the same in whatever order its debits are listed.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { balancesAt, creditLedger, creditLots, drawCredits, type CreditDebit, type CreditLot } from "../../src/domain/credits.js";
import type { Catalog } from "../../src/domain/catalog.js";

const runs = { numRuns: Number(process.env["FC_NUM_RUNS"] ?? 500) };

const arbLot = fc.record({
  bucket: fc.constantFrom("subscription" as const, "oneTime" as const),
  amount: fc.integer({ min: 1, max: 200 }),
  at: fc.integer({ min: 0, max: 50 }),
  lifetime: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
  refundAt: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
  refundShare: fc.integer({ min: 1, max: 4 }),
});

const arbUse = fc.record({ at: fc.integer({ min: 0, max: 100 }), cost: fc.integer({ min: 1, max: 120 }) });

describe("credits", () => {
  it("keeps every bucket's balance equal to the sum of its ledger, never below zero, drawing subscription credits first", () => {
    fc.assert(
      fc.property(fc.array(arbLot, { maxLength: 6 }), fc.array(arbUse, { maxLength: 12 }), fc.integer({ min: 0, max: 120 }), (specs, uses, t) => {
        const lots: CreditLot[] = specs.map((s, i) => ({ id: `lot${i}`, bucket: s.bucket, amount: s.amount, at: s.at, expiresAt: s.lifetime === null ? null : s.at + s.lifetime, revoked: 0, plan: "p" }));
        const refunds = specs.map((s, i) => ({ i, at: s.refundAt === null ? null : Math.max(s.at, s.refundAt), share: s.refundShare }));
        // Time runs forward: refunds apply from their instant; each use is decided against the lots as they stand.
        const used = new Map<string, number>();
        const debits: CreditDebit[] = [];
        let current = lots;
        const events = [...uses.map((u, k) => ({ at: u.at, kind: "use" as const, k })), ...refunds.filter((r) => r.at !== null).map((r) => ({ at: r.at!, kind: "refund" as const, k: r.i }))].sort(
          (a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === "refund" ? -1 : 1),
        );
        for (const e of events) {
          if (e.at > t) break;
          if (e.kind === "refund") {
            current = current.map((l, i) => (i === e.k ? { ...l, revoked: Math.round(l.amount / refunds[i]!.share) } : l));
            continue;
          }
          const before = balancesAt(current, used, e.at);
          const takes = drawCredits(current, used, uses[e.k]!.cost, e.at);
          if (takes === null) {
            expect(before.subscription + before.oneTime).toBeLessThan(uses[e.k]!.cost);
            continue;
          }
          expect(takes.reduce((s, x) => s + x.amount, 0)).toBe(uses[e.k]!.cost);
          // One-time credits are drawn only once no subscription credit is left.
          if (takes.some((x) => x.bucket === "oneTime")) expect(takes.filter((x) => x.bucket === "subscription").reduce((s, x) => s + x.amount, 0)).toBe(before.subscription);
          for (const x of takes) used.set(x.lot, (used.get(x.lot) ?? 0) + x.amount);
          debits.push({ at: e.at, cause: `use${e.k}`, feature: "f", takes });
        }
        const refundAt = new Map(refunds.map((r) => [`lot${r.i}`, r.at ?? 0]));
        const ledger = creditLedger(current, debits, t, (lot) => refundAt.get(lot.id)!);
        const balances = balancesAt(current, used, t);
        for (const bucket of ["subscription", "oneTime"] as const) {
          const entries = ledger.filter((e) => e.bucket === bucket);
          expect(entries.reduce((s, e) => s + e.amount, 0)).toBe(balances[bucket]);
          for (const e of entries) expect(e.balanceAfter).toBeGreaterThanOrEqual(0);
          expect(entries.at(-1)?.balanceAfter ?? 0).toBe(balances[bucket]);
        }
        expect(creditLedger(current, [...debits].reverse(), t, (lot) => refundAt.get(lot.id)!)).toEqual(ledger);
      }),
      runs,
    );
  });

  it("grants per paid period or per one-time purchase, and ends a period's credits without rollover at the next payment", () => {
    const catalog: Catalog = {
      plans: {
        pro: { code: "pro", name: "Pro", prices: {}, features: {}, credits: { amount: 500, per: "period", rollover: false, expiresAfterDays: null }, lifetime: false, price: null },
        max: { code: "max", name: "Max", prices: {}, features: {}, credits: { amount: 900, per: "period", rollover: true, expiresAfterDays: 60 }, lifetime: false, price: null },
        pack: { code: "pack", name: "Pack", prices: {}, features: {}, credits: { amount: 100, per: "once", rollover: false, expiresAfterDays: null }, lifetime: false, price: null },
      },
      grace: { pastDueDays: 0 },
      userIdKeys: [],
    };
    const order = (id: string, plan: string, kind: "subscription" | "one_time", paidAt: number, extra: Partial<{ status: "paid" | "pending" | "refunded" | "partially_refunded"; amountRefunded: number; subscriptionId: string }> = {}) => ({
      id,
      kind,
      plan,
      status: extra.status ?? ("paid" as const),
      amount: 1000,
      amountRefunded: extra.amountRefunded ?? 0,
      paidAt,
      subscriptionId: extra.subscriptionId ?? (kind === "subscription" ? "sub_1" : null),
    });
    const lots = creditLots(
      [
        order("in_1", "pro", "subscription", 10),
        order("in_2", "pro", "subscription", 40),
        order("in_m", "max", "subscription", 20, { subscriptionId: "sub_2" }),
        order("in_m2", "max", "subscription", 50, { subscriptionId: "sub_2" }),
        order("pack_1", "pack", "one_time", 15, { status: "partially_refunded", amountRefunded: 250 }),
        order("pack_2", "pack", "one_time", 16, { status: "pending" }),
        order("pack_3", "pro", "one_time", 17),
      ],
      catalog,
    );
    expect(lots.map((l) => [l.id, l.bucket, l.amount, l.expiresAt, l.revoked])).toEqual([
      ["in_1", "subscription", 500, 40, 0],
      ["pack_1", "oneTime", 100, null, 25],
      ["in_m", "subscription", 900, 20 + 60 * 86_400_000, 0],
      ["in_2", "subscription", 500, null, 0],
      ["in_m2", "subscription", 900, 50 + 60 * 86_400_000, 0],
    ]);
  });
});
