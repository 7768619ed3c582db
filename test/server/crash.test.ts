// Crash safety of the real server process: a SIGKILL in the middle of a burst of concurrent signed
// Stripe deliveries loses no acknowledged webhook and applies none twice. For each database kind,
// `verity serve` runs as a child process; once about a third of the burst is answered it is killed
// while requests are still in flight. After a restart on the same database every delivery that
// was answered 2xx is stored exactly once (under the seq it was answered with), a redelivery of the
// whole burst (the provider retrying what it saw fail) is answered 200 and stores each event once,
// and `verity verify` finds the projections equal to a replay of the log (nothing applied twice).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Either } from "effect";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/config/catalog.js";
import { openDatabase, type Database } from "../../src/store/database.js";
import { arbUserScript, buildHistory, testCatalog } from "../builders/histories.js";
import type { StripeEvent } from "../builders/stripe.js";
import { testCatalogJson } from "../offline/support.js";
import { createTestDatabase, KINDS, type DatabaseKindUnderTest, type TestDatabase } from "../support/databases.js";
import { deliver } from "../support/stripe-delivery.js";
import { childEnv, kill, runVerity, sleep, startVerityProcess, type Child, type Server } from "../support/child-server.js";

const CONCURRENCY = 32;
const REQUEST_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 30_000;

// ── the burst ───────────────────────────────────────────────────────────────────────────────

/**
 * Thirty users' Stripe histories (customers, subscriptions with renewals, plan changes and
 * cancellations, one-time purchases and refunds; several users on one shared customer), ~330
 * distinct events. Fixed seeds: the same events on every run.
 */
const history = buildHistory(fc.sample(arbUserScript, { seed: 20_240_601, numRuns: 30 }), 7);
const EVENTS: readonly StripeEvent[] = history.events;

/** A small seeded generator (mulberry32): "random" orders and crash points that repeat. */
const prng = (seed: number) => {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const shuffled = <T>(items: readonly T[], random: () => number): T[] => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

// ── deliveries ──────────────────────────────────────────────────────────────────────────────

type Answer = { readonly status: number; readonly body: { seq?: number; duplicate?: boolean; id?: string } | string };

/** One signed delivery, its answer read in full; throws when the connection fails or hangs. */
const send = async (url: string, event: StripeEvent): Promise<Answer> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      (async () => {
        const res = await deliver(url, event);
        const text = await res.text();
        let body: Answer["body"] = text;
        try {
          body = JSON.parse(text) as Answer["body"];
        } catch {
          // kept as text
        }
        return { status: res.status, body };
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
};

/** Sends `events` with at most `CONCURRENCY` in flight; `stop` ends dispatching new ones. */
const burst = async (
  events: readonly StripeEvent[],
  sendOne: (event: StripeEvent) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> => {
  let next = 0;
  const worker = async () => {
    while (!stop() && next < events.length) await sendOne(events[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
};

// ── the database, seen from outside ────────────────────────────────────────────────────────

/** How many times each provider event id is stored, and the seqs it is stored under. */
const storedEvents = async (db: Database): Promise<Map<string, number[]>> => {
  const rows = await db.prisma.event.findMany({ select: { seq: true, provider: true, providerEventId: true }, orderBy: { seq: "asc" } });
  const byId = new Map<string, number[]>();
  for (const row of rows) {
    expect(row.provider).toBe("stripe");
    byId.set(row.providerEventId, [...(byId.get(row.providerEventId) ?? []), row.seq]);
  }
  return byId;
};

const duplicated = (stored: Map<string, number[]>) => [...stored].filter(([, seqs]) => seqs.length !== 1);

/** Waits until every stored event is projected; returns the last counts seen. */
const projectionsSettled = async (db: Database): Promise<{ events: number; projected: number }> => {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const [events, projected] = await Promise.all([db.prisma.event.count(), db.prisma.projectedEvent.count()]);
    if (events === projected || Date.now() > deadline) return { events, projected };
    await sleep(200);
  }
};

// ── the test ────────────────────────────────────────────────────────────────────────────────

describe.each(KINDS)("a crash mid-burst (%s)", (kind: DatabaseKindUnderTest) => {
  const started = new Set<Child>();
  let database: TestDatabase | null = null;
  let store: Database | null = null;
  const dir = mkdtempSync(join(tmpdir(), "verity-crash-"));
  const configPath = join(dir, "verity.config.json");
  writeFileSync(configPath, testCatalogJson);

  afterAll(async () => {
    await Promise.all([...started].map(kill));
    await store?.close().catch(() => undefined);
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it(
    "loses no acknowledged webhook and stores or applies none twice",
    async () => {
      const t0 = Date.now();
      const timings: Record<string, number> = {};
      const mark = (phase: string) => (timings[phase] = Date.now() - t0);

      expect(Either.getOrThrow(loadCatalog(configPath))).toEqual(testCatalog);
      const ids = EVENTS.map((e) => e.id);
      expect(new Set(ids).size).toBe(EVENTS.length);
      expect(EVENTS.length).toBeGreaterThanOrEqual(300);

      database = await createTestDatabase(kind);
      const env = childEnv(database.url, configPath);
      const random = prng(kind === "sqlite" ? 1 : 2);

      // 1. The server, then a burst it is killed in the middle of.
      const first = await startVerityProcess(env, started);
      mark("first server healthy");
      const order = shuffled(EVENTS, random);
      const killAfter = Math.floor(EVENTS.length / 3) + Math.floor(random() * 20);
      const acknowledged = new Map<string, number>(); // event id → seq it was answered with
      const refused: { id: string; answer: Answer }[] = [];
      const failed: string[] = [];
      let answers = 0;
      let inFlight = 0;
      let inFlightAtKill = -1;
      let answersAtKill = -1;
      let killed = false;
      await burst(
        order,
        async (event) => {
          inFlight += 1;
          try {
            const answer = await send(first.url, event);
            const seq = typeof answer.body === "object" ? answer.body.seq : undefined;
            if (answer.status >= 200 && answer.status < 300 && typeof seq === "number") {
              acknowledged.set(event.id, seq);
            } else {
              refused.push({ id: event.id, answer });
            }
            answers += 1;
          } catch {
            failed.push(event.id);
          } finally {
            inFlight -= 1;
          }
          if (!killed && answers >= killAfter) {
            killed = true;
            inFlightAtKill = inFlight;
            answersAtKill = answers;
            first.process.kill("SIGKILL");
          }
        },
        () => killed,
      );
      const firstExit = await first.exited;
      mark("burst and crash");

      expect(killed, "the server was never killed: the burst ended first").toBe(true);
      expect(firstExit.signal, `the first server was not the one killed:\n${first.output()}`).toBe("SIGKILL");
      expect(refused, "deliveries refused (or 2xx without a seq) before the crash").toEqual([]);
      expect(inFlightAtKill, "requests in flight when the server was killed").toBeGreaterThan(0);
      expect(acknowledged.size).toBeGreaterThanOrEqual(killAfter);
      expect(acknowledged.size).toBeLessThan(EVENTS.length);

      // 2. Restart on the same database: everything acknowledged is there, once, under its seq.
      const second = await startVerityProcess(env, started);
      mark("second server healthy");
      store = await openDatabase(database.url);
      const afterCrash = await storedEvents(store);
      expect(duplicated(afterCrash), "events stored more than once after the crash").toEqual([]);
      const lost = [...acknowledged].filter(([id, seq]) => afterCrash.get(id)?.[0] !== seq);
      expect(lost, "acknowledged deliveries not stored (or not under the seq they were answered with)").toEqual([]);
      const delivered = new Set(ids);
      const unknown = [...afterCrash.keys()].filter((id) => !delivered.has(id));
      expect(unknown, "stored events that were never delivered").toEqual([]);
      const storedUnacknowledged = afterCrash.size - acknowledged.size;
      // The start projects whatever was stored before the crash but not projected.
      const caughtUp = await projectionsSettled(store);
      expect(caughtUp.projected, "projected events after restart").toBe(caughtUp.events);
      mark("checked after restart");

      // 3. The provider redelivers the whole burst: each answered 200, known ones as duplicates.
      const redelivered = new Map<string, Answer>();
      const redeliveryFailures: { id: string; error: string }[] = [];
      await burst(shuffled(EVENTS, random), async (event) => {
        try {
          redelivered.set(event.id, await send(second.url, event));
        } catch (e) {
          redeliveryFailures.push({ id: event.id, error: (e as Error).message });
        }
      });
      mark("redelivery");
      expect(redeliveryFailures, `redeliveries that failed:\n${second.output()}`).toEqual([]);
      const not200 = [...redelivered].filter(([, a]) => a.status !== 200);
      expect(not200, "redeliveries not answered 200").toEqual([]);
      const wrongDuplicates = [...afterCrash].filter(([id, seqs]) => {
        const body = redelivered.get(id)?.body;
        return typeof body !== "object" || body.duplicate !== true || body.seq !== seqs[0];
      });
      expect(wrongDuplicates, "events stored before the redelivery not recognized as duplicates of the stored seq").toEqual([]);

      const final = await storedEvents(store);
      expect(duplicated(final), "events stored more than once after the redelivery").toEqual([]);
      expect(final.size).toBe(EVENTS.length);
      expect(await store.prisma.event.count()).toBe(EVENTS.length);
      const answeredSeqs = [...redelivered].filter(([id, a]) => typeof a.body !== "object" || final.get(id)?.[0] !== a.body.seq);
      expect(answeredSeqs, "redeliveries answered with a seq other than the stored one").toEqual([]);

      // 4. Projections catch up and equal a replay of the log: nothing applied twice or missed.
      const settled = await projectionsSettled(store);
      expect(settled).toEqual({ events: EVENTS.length, projected: EVENTS.length });
      mark("projections settled");
      const verified = await runVerity(["verify"], env, started);
      mark("verify");
      expect(verified.code, `verity verify:\n${verified.output}`).toBe(0);
      expect(verified.output).toContain(`no differences: ${EVENTS.length} events replayed`);
      expect(verified.output).not.toMatch(/not projected yet/);

      console.log(
        `[crash ${kind}] ${EVENTS.length} events; killed after ${answersAtKill} answers with ${inFlightAtKill} in flight (${answers - answersAtKill} answered after the kill); ` +
          `${acknowledged.size} acknowledged, ${storedUnacknowledged} more stored but unacknowledged, ${failed.length} failed; ` +
          `timings (ms since start): ${JSON.stringify(timings)}`,
      );
      await kill(second);
    },
    120_000,
  );
});
