// Business metrics over generated subscription histories: MRR at any instant equals the sum, over
// the subscriptions paying then, of what each pays per month (checked against a model that replays
// the changes in time order); the histories built from the log in any interleaving of its
// subscriptions give the same series; MRR movement adds up (new + expansion − contraction −
// churned = MRR(to) − MRR(from)); statuses count every subscription once.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import { subscriptionHistories, type LoggedChange, type PaidInvoice } from "../../src/domain/metrics/history.js";
import { movementBetween, seriesAt, snapshotAt, trialConversion } from "../../src/domain/metrics/kpis.js";
import { mrrAt } from "../../src/domain/metrics/mrr.js";

const runs = { numRuns: Number(process.env["FC_NUM_RUNS"] ?? 300) };
const DAY = 86_400_000;

const catalog: Catalog = {
  plans: {
    basic: { code: "basic", name: "Basic", prices: {}, features: {}, credits: null, lifetime: false, price: { amount: 900, currency: "usd", interval: "month" } },
    pro: { code: "pro", name: "Pro", prices: {}, features: {}, credits: null, lifetime: false, price: { amount: 24_000, currency: "eur", interval: "year" } },
    free: { code: "free", name: "Free", prices: {}, features: {}, credits: null, lifetime: false, price: null },
  },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id"],
};

const STATUSES = ["trialing", "active", "past_due", "canceled", "incomplete"] as const;

/** One subscription: its changes (status, plan) and invoices at days 0–99, its interval in months. */
const arbSubscription = fc.record({
  user: fc.integer({ min: 0, max: 5 }),
  changes: fc.array(
    fc.record({ day: fc.integer({ min: 0, max: 99 }), field: fc.constantFrom("status", "plan"), status: fc.constantFrom(...STATUSES), plan: fc.constantFrom("basic", "pro", "free", null) }),
    { minLength: 1, maxLength: 8 },
  ),
  invoices: fc.array(fc.record({ day: fc.integer({ min: 0, max: 99 }), amount: fc.integer({ min: 0, max: 50_000 }), refunded: fc.integer({ min: 0, max: 3 }), currency: fc.constantFrom("usd", "EUR") }), {
    maxLength: 4,
  }),
  months: fc.constantFrom(1, 12, null),
});

type Generated = typeof arbSubscription extends fc.Arbitrary<infer T> ? T : never;

const logOf = (subs: readonly Generated[]) => {
  const log: LoggedChange[] = [];
  const invoices: PaidInvoice[] = [];
  const periods = subs.map((s, i) => ({ id: `sub${i}`, userId: `user${s.user}`, start: s.months === null ? null : 0, end: s.months === null ? null : Math.round(s.months * 30.44 * DAY) }));
  subs.forEach((s, i) => {
    for (const c of [...s.changes].sort((a, b) => a.day - b.day)) {
      log.push({ entity: "subscription", entityId: `sub${i}`, userId: `user${s.user}`, field: c.field, to: c.field === "status" ? c.status : c.plan, at: c.day * DAY });
    }
    for (const inv of s.invoices) {
      invoices.push({ subscriptionId: `sub${i}`, amount: inv.amount, amountRefunded: inv.refunded === 0 ? 0 : Math.floor(inv.amount / inv.refunded), currency: inv.currency, paidAt: inv.day * DAY, status: "paid" });
    }
  });
  return { log, invoices, periods };
};

/** The model: walk every change and invoice in time order up to `at`, then price each paying subscription. */
const modelMrr = (subs: readonly Generated[], at: number): Record<string, number> => {
  const total: Record<string, number> = {};
  subs.forEach((s) => {
    let status: string | null = null;
    let plan: string | null = null;
    for (const c of [...s.changes].sort((a, b) => a.day - b.day)) {
      if (c.day * DAY > at) break;
      if (c.field === "status") status = c.status;
      else plan = c.plan;
    }
    if (status !== "active" && status !== "past_due") return;
    const paid = [...s.invoices]
      .map((inv) => ({ ...inv, kept: inv.amount - (inv.refunded === 0 ? 0 : Math.floor(inv.amount / inv.refunded)) }))
      .filter((inv) => inv.day * DAY <= at && inv.kept > 0)
      .sort((a, b) => a.day - b.day || a.kept - b.kept || a.currency.toUpperCase().localeCompare(b.currency.toUpperCase()))
      .at(-1);
    const price = plan === null ? null : catalog.plans[plan]!.price;
    const priceMonths = price === null || price.interval === "once" ? null : price.interval === "year" ? 12 : 1;
    if (paid !== undefined) {
      const c = paid.currency.toUpperCase();
      total[c] = (total[c] ?? 0) + Math.round(paid.kept / (s.months ?? priceMonths ?? 1));
    } else if (price !== null && priceMonths !== null) {
      const c = price.currency.toUpperCase();
      total[c] = (total[c] ?? 0) + Math.round(price.amount / priceMonths);
    }
  });
  return total;
};

const sorted = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));

describe("business metrics", () => {
  it("MRR at any instant is the sum over the subscriptions paying then of what each pays per month", () => {
    fc.assert(
      fc.property(fc.array(arbSubscription, { maxLength: 8 }), fc.integer({ min: -1, max: 120 }), (subs, day) => {
        const { log, invoices, periods } = logOf(subs);
        const histories = subscriptionHistories(log, invoices, periods);
        expect(mrrAt(histories, day * DAY, catalog)).toEqual(sorted(modelMrr(subs, day * DAY)));
        expect(snapshotAt(histories, day * DAY, catalog).mrr).toEqual(sorted(modelMrr(subs, day * DAY)));
      }),
      runs,
    );
  });

  it("builds the same histories, and so the same series, from the log in any interleaving of its subscriptions", () => {
    fc.assert(
      fc.property(fc.array(arbSubscription, { maxLength: 8 }), fc.infiniteStream(fc.nat()), (subs, picks) => {
        const { log, invoices, periods } = logOf(subs);
        // Interleave the subscriptions' changes at random, keeping each one's own order (as a log does).
        const queues = new Map<string, LoggedChange[]>();
        for (const t of log) queues.set(t.entityId, [...(queues.get(t.entityId) ?? []), t]);
        const shuffled: LoggedChange[] = [];
        const it = picks[Symbol.iterator]();
        while (queues.size > 0) {
          const keys = [...queues.keys()];
          const key = keys[it.next().value! % keys.length]!;
          const q = queues.get(key)!;
          shuffled.push(q.shift()!);
          if (q.length === 0) queues.delete(key);
        }
        const days = Array.from({ length: 11 }, (_, i) => i * 10 * DAY);
        const a = subscriptionHistories(log, invoices, periods);
        const b = subscriptionHistories(shuffled, [...invoices].reverse(), [...periods].reverse());
        expect(b).toEqual(a);
        expect(seriesAt(b, days, catalog)).toEqual(seriesAt(a, days, catalog));
      }),
      runs,
    );
  });

  it("a series is what a snapshot says at each of its instants, in any order of instants", () => {
    fc.assert(
      fc.property(fc.array(arbSubscription, { maxLength: 8 }), fc.array(fc.integer({ min: -1, max: 110 }), { maxLength: 12 }), (subs, days) => {
        const { log, invoices, periods } = logOf(subs);
        const histories = subscriptionHistories(log, invoices, periods);
        const instants = days.map((d) => d * DAY);
        expect(seriesAt(histories, instants, catalog)).toEqual(
          instants.map((at) => {
            const s = snapshotAt(histories, at, catalog);
            return { at, mrr: s.mrr, activeSubscriptions: (s.subscriptionsByStatus["active"] ?? 0) + (s.subscriptionsByStatus["past_due"] ?? 0) };
          }),
        );
      }),
      runs,
    );
  });

  it("MRR movement adds up: new + expansion − contraction − churned = MRR(to) − MRR(from), per currency", () => {
    fc.assert(
      fc.property(fc.array(arbSubscription, { maxLength: 8 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (subs, d1, d2) => {
        const [from, to] = [Math.min(d1, d2) * DAY, Math.max(d1, d2) * DAY];
        const { log, invoices, periods } = logOf(subs);
        const histories = subscriptionHistories(log, invoices, periods);
        const m = movementBetween(histories, from, to, catalog);
        const start = mrrAt(histories, from, catalog);
        const end = mrrAt(histories, to, catalog);
        for (const c of new Set([...Object.keys(start), ...Object.keys(end)])) {
          const net = (m.new[c] ?? 0) + (m.expansion[c] ?? 0) - (m.contraction[c] ?? 0) - (m.churned[c] ?? 0);
          expect(net).toBe((end[c] ?? 0) - (start[c] ?? 0));
          expect(m.net[c] ?? 0).toBe(net);
          for (const part of [m.new, m.expansion, m.contraction, m.churned]) expect(part[c] ?? 0).toBeGreaterThanOrEqual(0);
          if ((start[c] ?? 0) > 0) expect(m.retention[c]).toBeCloseTo(((start[c] ?? 0) - (m.churned[c] ?? 0) - (m.contraction[c] ?? 0) + (m.expansion[c] ?? 0)) / start[c]!, 9);
        }
      }),
      runs,
    );
  });

  it("counts every subscription with a status once, trials among them, and only live ones' customers as active", () => {
    fc.assert(
      fc.property(fc.array(arbSubscription, { maxLength: 8 }), fc.integer({ min: 0, max: 100 }), (subs, day) => {
        const { log, invoices, periods } = logOf(subs);
        const histories = subscriptionHistories(log, invoices, periods);
        const s = snapshotAt(histories, day * DAY, catalog);
        const withStatus = subs.filter((sub) => sub.changes.some((c) => c.field === "status" && c.day <= day));
        expect(Object.values(s.subscriptionsByStatus).reduce((a, b) => a + b, 0)).toBe(withStatus.length);
        expect(s.trials).toBe(s.subscriptionsByStatus["trialing"] ?? 0);
        expect(s.pastDue.count).toBe(s.subscriptionsByStatus["past_due"] ?? 0);
        expect(s.activeCustomers).toBeLessThanOrEqual((s.subscriptionsByStatus["trialing"] ?? 0) + (s.subscriptionsByStatus["active"] ?? 0) + s.pastDue.count);
      }),
      runs,
    );
  });

  it("counts a trial as converted when it ends in the window by paying, and not when it is canceled", () => {
    const log: LoggedChange[] = [
      { entity: "subscription", entityId: "a", userId: "u1", field: "status", to: "trialing", at: 0 },
      { entity: "subscription", entityId: "a", userId: "u1", field: "status", to: "active", at: 14 * DAY },
      { entity: "subscription", entityId: "b", userId: "u2", field: "status", to: "trialing", at: 0 },
      { entity: "subscription", entityId: "b", userId: "u2", field: "status", to: "canceled", at: 10 * DAY },
      { entity: "subscription", entityId: "c", userId: "u3", field: "status", to: "trialing", at: 0 },
      { entity: "subscription", entityId: "c", userId: "u3", field: "status", to: "active", at: 40 * DAY },
    ];
    const histories = subscriptionHistories(log, [], []);
    expect(trialConversion(histories, 0, 30 * DAY)).toEqual({ ended: 2, converted: 1, rate: 0.5 });
    expect(trialConversion(histories, 0, 60 * DAY)).toEqual({ ended: 3, converted: 2, rate: 2 / 3 });
    expect(trialConversion(histories, 50 * DAY, 60 * DAY)).toEqual({ ended: 0, converted: 0, rate: null });
  });
});
