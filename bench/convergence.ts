// Convergence under a steady load: `verity serve` (SQLite) in its own process receives signed
// Stripe webhooks at a fixed rate (each a new customer, so each causes a transition) while a
// graphql-sse subscriber in this process listens; the figure is the time from a webhook's answer
// to its transition reaching the subscriber, at each rate. A rate above what projection sustains
// shows as latency that grows with the run.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { createClient } from "graphql-sse";
import { createApiKey } from "../src/server/auth.js";
import { openDatabase } from "../src/store/database.js";
import { customer, stripeEvent } from "../test/builders/stripe.js";
import { testCatalogJson } from "../test/offline/support.js";
import { childEnv, kill, startVerityProcess, type Child } from "../test/support/child-server.js";
import { deliver } from "../test/support/stripe-delivery.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const percentile = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export type ConvergenceBench = Record<string, { readonly p50: number; readonly p99: number; readonly sent: number; readonly converged: number }>;

export const benchConvergence = async (rates: readonly number[] = [100, 500]): Promise<ConvergenceBench> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-bench-convergence-"));
  const started = new Set<Child>();
  const results: ConvergenceBench = {};
  try {
    const configPath = join(dir, "verity.config.json");
    writeFileSync(configPath, testCatalogJson);
    const databaseUrl = `file:${join(dir, "verity.db")}`;
    const server = await startVerityProcess(childEnv(databaseUrl, configPath), started);
    const db = await openDatabase(databaseUrl);
    const key = (await createApiKey(db, ["read"], new Date())).key;
    await db.close();
    const answered = new Map<string, number>();
    // When each transition reached the subscriber: it may come before the webhook's answer does (the
    // projection runs right behind the commit), which counts as converged at the answer.
    const arrived = new Map<string, number>();
    const latencies = {
      has: (cause: string) => arrived.has(cause) && answered.has(cause),
      get: (cause: string) => (latencies.has(cause) ? Math.max(0, arrived.get(cause)! - answered.get(cause)!) : undefined),
    };
    const client = createClient({ url: `${server.url}/graphql/stream`, headers: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
    const stream = client.iterate<{ transitions: { cause: string } }>({ query: "subscription { transitions { cause } }" });
    void (async () => {
      for await (const r of stream) {
        const cause = r.data?.transitions.cause;
        if (cause !== undefined && !arrived.has(cause)) arrived.set(cause, performance.now());
      }
    })();
    await delay(500);
    let n = 0;
    for (const rate of rates) {
      const causes: string[] = [];
      const sends: Promise<unknown>[] = [];
      const start = performance.now();
      for (let i = 0; i < rate * SECONDS; i++) {
        // A steady rate: each delivery leaves at its own instant, whether earlier ones were answered or not.
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await delay(wait);
        const id = `evt_conv_${n++}`;
        const now = Math.floor(Date.now() / 1000);
        causes.push(`stripe:${id}`);
        const event = stripeEvent({ id, type: "customer.created", created: now, object: customer({ id: `cus_conv_${n}`, metadata: { user_id: `user_conv_${n}` } }) });
        sends.push(deliver(server.url, event, { timestamp: now, settle: false }).then(() => answered.set(`stripe:${id}`, performance.now())));
      }
      await Promise.all(sends);
      for (let waited = 0; waited < 60_000 && causes.some((c) => !latencies.has(c)); waited += 50) await delay(50);
      const seen = causes.map((c) => latencies.get(c)).filter((ms): ms is number => ms !== undefined);
      results[`${rate}/s`] = { p50: percentile(seen, 50), p99: percentile(seen, 99), sent: causes.length, converged: seen.length };
      console.log(
        `convergence at ${rate} webhooks/s for ${SECONDS} s: answer → subscriber p50 ${percentile(seen, 50).toFixed(1)} ms, p99 ${percentile(seen, 99).toFixed(1)} ms ` +
          `(${seen.length} of ${causes.length} seen)`,
      );
    }
    await stream.return?.(undefined);
    client.dispose();
    return results;
  } finally {
    for (const child of started) await kill(child);
    rmSync(dir, { recursive: true, force: true });
  }
};
