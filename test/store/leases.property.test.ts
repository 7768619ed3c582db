// Leases never exceed the concurrency limit: generated acquisitions and releases, sent in
// concurrent groups at advancing instants against the real store, leave at every instant at most
// `limit` leases holding a slot; and the Lease rows are what the lease events fold to, in any order
// (also offline: an export replayed gives them back).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holdsSlot, leasesOf, type LeaseAcquired, type LeaseReleased } from "../../src/domain/leases.js";
import type { Database } from "../../src/store/database.js";
import { acquireLease, allLeases, leasesFromEvents, releaseLease } from "../../src/store/leases.js";
import { sqlOf } from "../../src/store/sql.js";
import { KINDS, openTestDatabase } from "../support/databases.js";
import { exportLines } from "../offline/support.js";
import { replay } from "../../src/offline/replay.js";
import { leaseSnapshot } from "../../src/offline/usage.js";
import { emptyCatalog } from "../../src/domain/catalog.js";

const runs = { numRuns: Math.max(10, Math.floor(Number(process.env["FC_NUM_RUNS"] ?? 500) / 20)) };
const LIMIT = 2;
const T = Date.UTC(2026, 10, 15);

type Step = { readonly group: readonly ({ readonly take: string; readonly ttl: number } | { readonly release: number })[]; readonly advance: number };

const arbStep: fc.Arbitrary<Step> = fc.record({
  group: fc.array(fc.oneof(fc.record({ take: fc.constantFrom("a", "b", "c", "d", "e", "f"), ttl: fc.integer({ min: 1, max: 5 }) }), fc.record({ release: fc.nat(10) })), { minLength: 1, maxLength: 6 }),
  advance: fc.integer({ min: 0, max: 3 }),
});

describe.each(KINDS)("leases (%s)", (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(kind));
  });
  afterAll(async () => close?.());

  it("never hold more slots than the limit at any instant, however acquisitions and releases interleave", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arbStep, { minLength: 1, maxLength: 8 }), fc.integer(), async (steps, seed) => {
        run += 1;
        const subject = `run${run}`;
        const taken: string[] = [];
        let now = T;
        for (const step of steps) {
          await Promise.all(
            step.group.map(async (op) => {
              if ("take" in op) {
                const o = await acquireLease(
                  db,
                  { subject, userId: subject, feature: "tasks", at: now, expiresAt: now + op.ttl * 1000, limit: LIMIT, source: "p", idempotencyKey: op.take, keyId: "k", requestId: "r", receivedAt: now },
                  now,
                );
                if (o._tag === "Acquired") taken.push(o.lease.leaseId);
              } else if (taken.length > 0) {
                await releaseLease(db, { leaseId: taken[op.release % taken.length]!, at: now, keyId: "k", requestId: "r", receivedAt: now }, () => null, now);
              }
            }),
          );
          now += step.advance * 1000;
        }
        const leases = (await allLeases(sqlOf(db))).filter((l) => l.subject === subject);
        // A lease's slot count is at its highest right after an acquisition: check every one.
        for (const l of leases) expect(leases.filter((other) => holdsSlot(other, l.acquiredAt)).length).toBeLessThanOrEqual(LIMIT);
        const folded = [...(await leasesFromEvents(sqlOf(db))).values()].filter((l) => l.subject === subject);
        expect(new Set(folded)).toEqual(new Set(leases));
        // Replay equivalence: an export replayed offline, in any order, gives the same leases.
        const exported = await exportLines(db, { provider: "app" });
        const lines = fc.sample(fc.shuffledSubarray(exported, { minLength: exported.length, maxLength: exported.length }), { seed, numRuns: 1 })[0]!;
        const replayed = await replay(lines, emptyCatalog, { at: now });
        expect(replayed.leases.filter((l) => l.subject === subject)).toEqual(leaseSnapshot(leases));
      }),
      runs,
    );
  }, 120_000);
});

describe("leasesOf", () => {
  it("folds the same events to the same leases in any order, each released at its earliest release", () => {
    const acquired = fc.array(fc.record({ id: fc.constantFrom("l1", "l2", "l3"), at: fc.integer({ min: 0, max: 100 }) }), { maxLength: 6 });
    const released = fc.array(fc.record({ id: fc.constantFrom("l1", "l2", "l3"), at: fc.integer({ min: 0, max: 100 }) }), { maxLength: 6 });
    fc.assert(
      fc.property(acquired, released, fc.integer(), (acq, rel, seed) => {
        const a: LeaseAcquired[] = [...new Map(acq.map((x) => [x.id, x])).values()].map((x) => ({
          leaseId: x.id, subject: "s", userId: "u", feature: "f", at: x.at, expiresAt: x.at + 10, limit: 3, activeAfter: 1, source: "p", idempotencyKey: x.id, keyId: "k", requestId: "r",
        }));
        const r: LeaseReleased[] = rel.map((x) => ({ leaseId: x.id, subject: "s", userId: "u", at: x.at, keyId: "k", requestId: "r" }));
        const shuffle = <T>(xs: T[]) => fc.sample(fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length }), { seed, numRuns: 1 })[0]!;
        const folded = leasesOf(a, r);
        expect(leasesOf(shuffle(a), shuffle(r))).toEqual(folded);
        for (const l of folded.values()) {
          const times = r.filter((x) => x.leaseId === l.id).map((x) => x.at);
          expect(l.releasedAt).toBe(times.length === 0 ? null : Math.min(...times));
        }
      }),
    );
  });
});
