// Entitlement reads under load, as an app asks on every request it serves: `verity serve` on
// SQLite in its own process, autocannon (in this process) over loopback, REST and GraphQL, at 16
// and 64 connections. The baseline, in the same run: a bare Node `http` server in its own process
// answering the same JSON body. Medians of three runs.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { createApiKey } from "../src/server/auth.js";
import { openDatabase } from "../src/store/database.js";
import { PRICES } from "../test/builders/histories.js";
import { customer, stripeEvent, subscription } from "../test/builders/stripe.js";
import { testCatalogJson } from "../test/offline/support.js";
import { childEnv, freePort, kill, startVerityProcess, type Child } from "../test/support/child-server.js";
import { deliver } from "../test/support/stripe-delivery.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = 3;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Figure = { readonly perSecond: number; readonly p50: number; readonly p99: number; readonly errors: number };

const load = async (options: autocannon.Options): Promise<Figure> => {
  const runs: Figure[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await autocannon({ ...options, duration: SECONDS });
    runs.push({ perSecond: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.non2xx + r.errors + r.timeouts });
  }
  return { perSecond: median(runs.map((r) => r.perSecond)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), errors: runs.reduce((n, r) => n + r.errors, 0) };
};

/** A bare Node server answering `body` to everything, in its own process (also bench/usage.ts's baseline). */
export const bareServer = async (body: string): Promise<{ url: string; stop: () => void }> => {
  const port = await freePort();
  const code = `require("node:http").createServer((q, s) => { s.writeHead(200, { "content-type": "application/json; charset=utf-8" }); s.end(${JSON.stringify(body)}); }).listen(${port}, "127.0.0.1", () => console.log("ready"));`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGKILL") };
};

export type ReadBench = Record<string, { readonly verity: Figure; readonly bare: Figure; readonly ratio: number }>;

export const benchReads = async (): Promise<ReadBench> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-bench-reads-"));
  const started = new Set<Child>();
  const databaseUrl = `file:${join(dir, "verity.db")}`;
  try {
    const configPath = join(dir, "verity.config.json");
    writeFileSync(configPath, testCatalogJson);
    const server = await startVerityProcess(childEnv(databaseUrl, configPath), started);
    const now = Math.floor(Date.now() / 1000);
    await deliver(server.url, stripeEvent({ id: "evt_read_c", type: "customer.created", created: now - 10, object: customer({ id: "cus_read", metadata: { user_id: "user_read" } }) }));
    const sub = subscription({ id: "sub_read", customer: "cus_read", status: "active", priceId: PRICES.proMonthly, periodStart: now - 10, periodEnd: now + 30 * 86_400, shape: "basil" });
    await deliver(server.url, stripeEvent({ id: "evt_read_s", type: "customer.subscription.created", created: now - 10, object: sub }));
    const db = await openDatabase(databaseUrl);
    const key = (await createApiKey(db, ["read"], new Date())).key;
    await db.close();
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const rest = { url: `${server.url}/api/users/user_read/entitlements`, headers };
    const graphql = {
      url: `${server.url}/graphql`,
      method: "POST" as const,
      headers,
      body: JSON.stringify({ query: '{ entitlement(userId: "user_read", feature: "api_calls") { enabled limit remaining resetsAt } }' }),
    };
    const restBody = await (await fetch(rest.url, { headers })).text();
    const graphqlBody = await (await fetch(graphql.url, { method: "POST", headers, body: graphql.body })).text();
    const results: ReadBench = {};
    for (const [name, target, body] of [
      ["rest", rest, restBody],
      ["graphql", graphql, graphqlBody],
    ] as const) {
      const bare = await bareServer(body);
      try {
        for (const connections of [16, 64]) {
          await autocannon({ ...target, connections, duration: 1 }); // warm-up
          const verity = await load({ ...target, connections });
          const baseline = await load({ url: bare.url, connections });
          const label = `${name}@${connections}`;
          results[label] = { verity, bare: baseline, ratio: verity.perSecond / baseline.perSecond };
          console.log(
            `reads ${label.padEnd(11)} ${verity.perSecond.toFixed(0)} req/s, p50 ${verity.p50} ms, p99 ${verity.p99} ms, ${verity.errors} errors; ` +
              `${((100 * verity.perSecond) / baseline.perSecond).toFixed(0)}% of a bare Node server (${baseline.perSecond.toFixed(0)} req/s, p99 ${baseline.p99} ms)`,
          );
        }
      } finally {
        bare.stop();
      }
    }
    await kill(server);
    return results;
  } finally {
    for (const child of started) await kill(child);
    rmSync(dir, { recursive: true, force: true });
  }
};
