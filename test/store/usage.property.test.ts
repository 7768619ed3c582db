// Properties of recording usage, on the real store (SQLite and PostgreSQL): generated requests
// (several subjects and meters, repeated idempotency keys) are sent concurrently through the group
// commit, split into transactions by timing. Whatever the split and interleaving:
// - a block quota is never exceeded, and the answers are those of deciding the requests one by one
//   in the order they were sent (the decision is atomic with the write);
// - a key counts once and is answered with its first record;
// - conservation: every counter equals the sum of its stored records, and replaying an export of
//   the log (in any order) gives the stored counters.
import fc from "fast-check";
import { setImmediate } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counterKey, countersOf, decideQuota, type Quota, type UsageRecord } from "../../src/domain/usage.js";
import type { Database } from "../../src/store/database.js";
import { sqlOf } from "../../src/store/sql.js";
import { allCounters, storedUsageRecords, UsageAppender, type PendingUsage, type UsageOutcome } from "../../src/store/usage.js";
import { KINDS, openTestDatabase } from "../support/databases.js";
import { exportLines } from "../offline/support.js";
import { replay } from "../../src/offline/replay.js";
import { counterSnapshot } from "../../src/offline/usage.js";
import { emptyCatalog } from "../../src/domain/catalog.js";

const runs = { numRuns: Math.max(10, Math.floor(Number(process.env["FC_NUM_RUNS"] ?? 500) / 10)) };

const QUOTAS: Readonly<Record<string, Quota>> = {
  calls: { limit: 10, overage: "block", decimals: 0 },
  cpu: { limit: 2.5, overage: "block", decimals: 2 },
  tokens: { limit: 4, overage: "allow", decimals: 0 },
};
const PERIOD = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) };

type Request = { readonly subject: string; readonly feature: keyof typeof QUOTAS & string; readonly units: number; readonly key: string; readonly pause: number };

const arbRequest = fc.record({
  subject: fc.constantFrom("s0", "s1", "s2"),
  feature: fc.constantFrom("calls", "cpu", "tokens"),
  units: fc.integer({ min: 1, max: 120 }),
  key: fc.constantFrom("k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"),
  // Turns of the event loop before the request is sent: how the group commit splits them.
  pause: fc.integer({ min: 0, max: 3 }),
});

const pendingOf = (run: number, r: Request): PendingUsage => {
  const quota = QUOTAS[r.feature]!;
  const subject = `run${run}-${r.subject}`;
  return {
    quota,
    receivedAt: PERIOD.start,
    record: {
      subject,
      userId: `usr_${subject}`,
      feature: r.feature,
      // Scaled units: whole calls, hundredths of a CPU second.
      units: quota.decimals === 0 ? Math.ceil(r.units / 20) : r.units,
      decimals: quota.decimals,
      at: PERIOD.start + 1000,
      period: PERIOD,
      limit: quota.limit,
      overage: quota.overage,
      source: "plan",
      idempotencyKey: r.key,
      keyId: "key_test",
      requestId: `req-${r.key}`,
    },
  };
};

/** The requests decided one by one, in order: what the store must have answered. */
const sequentialModel = (pending: readonly PendingUsage[]): UsageOutcome[] => {
  const used = new Map<string, number>();
  const first = new Map<string, UsageRecord>();
  return pending.map((p) => {
    const id = `${p.record.subject}\u0000${p.record.idempotencyKey}`;
    const before = first.get(id);
    if (before !== undefined) return { _tag: "Duplicate", record: before };
    const key = counterKey(p.record.subject, p.record.feature, p.record.period.start);
    const decision = decideQuota(p.quota, used.get(key) ?? 0, p.record.units);
    if (decision._tag !== "Within") return decision;
    used.set(key, decision.usedAfter);
    const record = { ...p.record, usedAfter: decision.usedAfter };
    first.set(id, record);
    return { _tag: "Recorded", record, seq: -1 };
  });
};

const withoutSeq = (o: UsageOutcome) => (o._tag === "Recorded" ? { _tag: o._tag, record: o.record } : o);

describe.each(KINDS)("recording usage (%s)", (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(kind));
  });
  afterAll(async () => close?.());

  it("never passes a block quota, counts a key once, and conserves every counter, however concurrent requests are split", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arbRequest, { minLength: 1, maxLength: 40 }), fc.integer(), async (requests, seed) => {
        run += 1;
        const pending = requests.map((r) => pendingOf(run, r));
        const appender = new UsageAppender(db, () => PERIOD.start);
        // Sent in order, each after its pause: concurrent, split into transactions by timing.
        const answers: Promise<UsageOutcome>[] = [];
        for (let i = 0; i < pending.length; i++) {
          for (let t = 0; t < requests[i]!.pause; t++) await setImmediate();
          answers.push(appender.record(pending[i]!));
        }
        const outcomes = await Promise.all(answers);
        expect(outcomes.map(withoutSeq)).toEqual(sequentialModel(pending).map(withoutSeq));

        const prefix = `run${run}-`;
        const stored: UsageRecord[] = [];
        for await (const r of storedUsageRecords(sqlOf(db))) if (r.subject.startsWith(prefix)) stored.push(r);
        const counters = (await allCounters(sqlOf(db))).filter((c) => c.subject.startsWith(prefix));
        // A key counts once.
        expect(new Set(stored.map((r) => `${r.subject}:${r.idempotencyKey}`)).size).toBe(stored.length);
        // Block quotas hold.
        for (const c of counters) {
          const quota = QUOTAS[c.feature]!;
          if (quota.overage === "block") expect(c.used).toBeLessThanOrEqual(quota.limit! * 10 ** quota.decimals);
        }
        // Conservation: the stored counters are the sums of the stored records.
        expect(new Map(counters.map((c) => [counterKey(c.subject, c.feature, c.periodStart), c]))).toEqual(countersOf(stored));
        // Replay equivalence: an export of the log, replayed offline (shuffled: order must not matter), gives the stored counters.
        const exported = await exportLines(db, { provider: "app" });
        const lines = fc.sample(fc.shuffledSubarray(exported, { minLength: exported.length, maxLength: exported.length }), { seed, numRuns: 1 })[0]!;
        const replayed = await replay(lines, emptyCatalog, { at: PERIOD.start });
        expect(replayed.usage.filter((c) => c.subject.startsWith(prefix))).toEqual(counterSnapshot(counters));
      }),
      runs,
    );
  }, 120_000);
});
