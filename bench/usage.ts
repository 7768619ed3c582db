// Usage metering under load, as an app reports it: `verity serve` on a fresh SQLite file in its own
// process, 100 subscribed users whose `api_calls` quota (block) is far beyond what a run can spend,
// and autocannon (in this process) keeping BENCH_CONNECTIONS connections busy over loopback:
//   - `POST /v1/usage`, one distinct record per request (a new idempotency key each), answered once
//     durable; against the bare better-sqlite3 loop of durable appends of bench/webhooks.ts;
//   - the same as batches of 100 records per request (records/s);
//   - `POST /v1/check`, against the bare Node server of bench/reads.ts answering the same body,
//     loaded with the same requests.
// Medians of three runs, each after a warm-up.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { createApiKey } from "../src/server/auth.js";
import { openDatabase } from "../src/store/database.js";
import { childEnv, kill, sleep, startVerityProcess, type Child } from "../test/support/child-server.js";
import { subscribe } from "../test/support/usage.js";
import { bareServer } from "./reads.js";
import { bareAppends } from "./webhooks.js";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Connections for checks: those of the REST reads' target. */
const READ_CONNECTIONS = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = 3;
const USERS = 100;
const BATCH = 100;
const PRICE = "price_bench_usage";
const FEATURE = "api_calls";

/** One plan whose quota blocks but that no run comes near: every record is accepted. */
const catalogJson = JSON.stringify({
  plans: { starter: { name: "Starter", prices: { stripe: [PRICE] }, features: { [FEATURE]: { limit: 100_000_000, per: "month", overage: "block" } } } },
});

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Figure = { readonly perSecond: number; readonly p50: number; readonly p99: number; readonly non2xx: number; readonly errors: number };

const once = async (options: autocannon.Options): Promise<Figure> => {
  const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  return { perSecond: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
};

/** A warm-up of one second, then the medians of three runs (non-2xx and errors summed). */
const load = async (options: autocannon.Options): Promise<Figure> => {
  await autocannon({ connections: CONNECTIONS, ...options, duration: 1 });
  const runs: Figure[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once(options));
  const sum = (f: (r: Figure) => number) => runs.reduce((n, r) => n + f(r), 0);
  return { perSecond: median(runs.map((r) => r.perSecond)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors) };
};

let counter = 0;
/** A distinct record: the next user round-robin, a never-used idempotency key. */
const nextRecord = () => {
  const n = counter++;
  return { userId: `user_usage_${n % USERS}`, feature: FEATURE, units: 1, idempotencyKey: `bench_${process.pid}_${n}` };
};

/** Each request of autocannon gets its own body (records are never replayed). */
const post = (url: string, headers: Record<string, string>, body: () => unknown): autocannon.Options => ({
  url,
  headers,
  requests: [{ method: "POST", setupRequest: (req) => ({ ...req, body: JSON.stringify(body()) }) }],
});

export type UsageBench = {
  readonly connections: number;
  readonly records: Figure & { readonly bareAppendsPerSecond: number; readonly ratio: number };
  readonly batches: Figure & { readonly recordsPerSecond: number; readonly batchSize: number };
  readonly check: { readonly connections: number; readonly verity: Figure; readonly bare: Figure; readonly ratio: number };
};

export const benchUsage = async (): Promise<UsageBench> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-bench-usage-"));
  const started = new Set<Child>();
  const databaseUrl = `file:${join(dir, "verity.db")}`;
  try {
    const configPath = join(dir, "verity.config.json");
    writeFileSync(configPath, catalogJson);
    const server = await startVerityProcess(childEnv(databaseUrl, configPath), started);
    const db = await openDatabase(databaseUrl);
    const key = (await createApiKey(db, ["read", "usage:write"], new Date())).key;
    await db.close();
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };

    // A current period (started yesterday) so that each record counts now.
    const now = Math.floor(Date.now() / 1000);
    const users = Array.from({ length: USERS }, (_, u) => `user_usage_${u}`);
    for (const user of users) await subscribe({ url: server.url }, user, PRICE, { periodStart: now - 86_400, periodEnd: now + 29 * 86_400, created: now - 60 });
    const checkOf = (user: string) => fetch(`${server.url}/v1/check`, { method: "POST", headers, body: JSON.stringify({ userId: user, feature: FEATURE }) });
    for (const user of users) {
      const deadline = Date.now() + 30_000;
      while ((await checkOf(user)).status !== 200) {
        if (Date.now() > deadline) throw new Error(`POST /v1/check for ${user} never answered 200`);
        await sleep(50);
      }
    }

    const records = await load(post(`${server.url}/v1/usage`, headers, nextRecord));
    const batches = await load(post(`${server.url}/v1/usage`, headers, () => ({ records: Array.from({ length: BATCH }, nextRecord) })));
    let checked = 0;
    // Checks under the REST reads' conditions (bench/reads.ts: 16 connections), whose target they share.
    const checks = await load({ ...post(`${server.url}/v1/check`, headers, () => ({ userId: users[checked++ % USERS], feature: FEATURE })), connections: READ_CONNECTIONS });
    const checkBody = await (await checkOf(users[0]!)).text();
    await kill(server);

    const bareChecks = await bareServer(checkBody);
    let bareCheck: Figure;
    try {
      // The same requests, made the same way (a body built for each): the load generator shares
      // the two cores, so a cheaper generator would give the baseline more of them.
      bareCheck = await load({ ...post(bareChecks.url, headers, () => ({ userId: users[checked++ % USERS], feature: FEATURE })), connections: READ_CONNECTIONS });
    } finally {
      bareChecks.stop();
    }
    const bare = median([0, 1, 2].map((i) => bareAppends(join(dir, `bare${i}.db`), 1500)));

    const result: UsageBench = {
      connections: CONNECTIONS,
      records: { ...records, bareAppendsPerSecond: bare, ratio: records.perSecond / bare },
      batches: { ...batches, recordsPerSecond: batches.perSecond * BATCH, batchSize: BATCH },
      check: { connections: READ_CONNECTIONS, verity: checks, bare: bareCheck, ratio: checks.perSecond / bareCheck.perSecond },
    };
    const failures = (f: Figure) => `${f.non2xx} non-2xx, ${f.errors} errors`;
    console.log(
      `usage records: ${records.perSecond.toFixed(0)} records/s durable before each answer (${CONNECTIONS} connections), p50 ${records.p50} ms, p99 ${records.p99} ms, ` +
        `${failures(records)}; ${result.records.ratio.toFixed(2)}× a bare better-sqlite3 loop appending one durable row per transaction (${bare.toFixed(0)}/s)`,
    );
    console.log(
      `usage batches: ${result.batches.recordsPerSecond.toFixed(0)} records/s in batches of ${BATCH} (${batches.perSecond.toFixed(0)} requests/s), ` +
        `p50 ${batches.p50} ms, p99 ${batches.p99} ms per batch, ${failures(batches)}`,
    );
    console.log(
      `usage check:   ${checks.perSecond.toFixed(0)} req/s (${READ_CONNECTIONS} connections), p50 ${checks.p50} ms, p99 ${checks.p99} ms, ${failures(checks)}; ` +
        `${((100 * result.check.ratio).toFixed(0))}% of a bare Node server (${bareCheck.perSecond.toFixed(0)} req/s, p99 ${bareCheck.p99} ms)`,
    );
    return result;
  } finally {
    for (const child of started) await kill(child);
    rmSync(dir, { recursive: true, force: true });
  }
};
