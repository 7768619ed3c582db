// Webhook ingest under load, as a provider sends it: `verity serve` on a fresh SQLite file runs as
// its own process, and autocannon (in this process) keeps 32 connections busy over loopback with
// distinct, correctly signed Stripe events. Each answer means the event is durable. The baseline,
// measured in the same run on the same disk, is a bare better-sqlite3 loop that appends the same
// rows with the same durability (WAL, synchronous=FULL), one transaction per event. Medians of
// three runs; the group-commit counts come from /healthz.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import Sqlite from "better-sqlite3";
import { stripeSignatureHeader } from "../src/providers/stripe/verify.js";
import { customer, stripeEvent, toRawBody } from "../test/builders/stripe.js";
import { testCatalogJson } from "../test/offline/support.js";
import { childEnv, kill, startVerityProcess, type Child } from "../test/support/child-server.js";
import { TEST_SECRET } from "../test/support/stripe-delivery.js";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = 3;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let counter = 0;
/** A new customer.created event, signed now: every request is a distinct event. */
const nextDelivery = () => {
  const n = counter++;
  const now = Math.floor(Date.now() / 1000);
  const body = toRawBody(stripeEvent({ id: `evt_bench_${process.pid}_${n}`, type: "customer.created", created: now, object: customer({ id: `cus_bench_${n}`, metadata: { user_id: `user_bench_${n}` } }) }));
  return { body, headers: { "content-type": "application/json", "stripe-signature": stripeSignatureHeader(body, TEST_SECRET, now) } };
};

type Run = { readonly perSecond: number; readonly p50: number; readonly p99: number; readonly errors: number };

const load = async (url: string): Promise<Run> => {
  const result = await autocannon({
    url: `${url}/webhooks/stripe`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const { body, headers } = nextDelivery();
          return { ...req, body: Buffer.from(body), headers };
        },
      },
    ],
  });
  return { perSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors + result.timeouts };
};

/**
 * The same rows appended by a bare better-sqlite3 loop, one durable transaction each: rows per
 * second. Also the baseline of bench/usage.ts, for any durable write Verity answers after.
 */
export const bareAppends = (file: string, count: number): number => {
  const db = new Sqlite(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(`CREATE TABLE "Event" ("seq" INTEGER PRIMARY KEY AUTOINCREMENT, "provider" TEXT NOT NULL, "providerEventId" TEXT NOT NULL,
    "type" TEXT NOT NULL, "occurredAt" DATETIME NOT NULL, "receivedAt" DATETIME NOT NULL, "origin" TEXT NOT NULL, "rawBody" BLOB NOT NULL,
    "payload" JSONB NOT NULL, UNIQUE ("provider", "providerEventId"))`);
  const insert = db.prepare(`INSERT INTO "Event" ("provider", "providerEventId", "type", "occurredAt", "receivedAt", "origin", "rawBody", "payload") VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const rows = Array.from({ length: count }, () => nextDelivery().body);
  const start = performance.now();
  for (const body of rows) {
    const parsed = JSON.parse(Buffer.from(body).toString("utf8")) as { id: string; type: string; created: number };
    db.transaction(() => insert.run("stripe", parsed.id, parsed.type, parsed.created * 1000, Date.now(), "webhook", body, JSON.stringify(parsed)))();
  }
  const ms = performance.now() - start;
  db.close();
  return (count / ms) * 1000;
};

export type WebhookBench = {
  readonly connections: number;
  readonly verity: Run & { readonly commits: number; readonly events: number };
  readonly bareAppendsPerSecond: number;
  readonly ratio: number;
};

export const benchWebhooks = async (): Promise<WebhookBench> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-bench-webhooks-"));
  const started = new Set<Child>();
  try {
    const configPath = join(dir, "verity.config.json");
    writeFileSync(configPath, testCatalogJson);
    const server = await startVerityProcess(childEnv(`file:${join(dir, "verity.db")}`, configPath), started);
    const runs: Run[] = [];
    await load(server.url); // warm-up
    for (let i = 0; i < RUNS; i++) runs.push(await load(server.url));
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { appends: { commits: number; events: number } };
    await kill(server);
    const bare = median([0, 1, 2].map((i) => bareAppends(join(dir, `bare${i}.db`), 1500)));
    const verity = {
      perSecond: median(runs.map((r) => r.perSecond)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      ...health.appends,
    };
    console.log(
      `webhooks: ${verity.perSecond.toFixed(0)} signed Stripe events/s durable before each answer (${CONNECTIONS} connections), p50 ${verity.p50} ms, p99 ${verity.p99} ms, ` +
        `${verity.errors} errors; ${(verity.perSecond / bare).toFixed(2)}× a bare better-sqlite3 loop appending one durable row per transaction ` +
        `(${bare.toFixed(0)}/s); ${(verity.events / Math.max(1, verity.commits)).toFixed(1)} events per commit`,
    );
    return { connections: CONNECTIONS, verity, bareAppendsPerSecond: bare, ratio: verity.perSecond / bare };
  } finally {
    for (const child of started) await kill(child);
    rmSync(dir, { recursive: true, force: true });
  }
};
