// Offline commands over a large store: `verity verify` on a SQLite database holding N events, and
// `verity replay` of its export, each run as its own process (bench/measure-cli.mjs reports the
// command's own time and the process's peak memory). The baseline for replay is merely reading the
// export and parsing each line and its body (bench/parse-lines.mjs): the floor of any replay.
// N is BENCH_OFFLINE_EVENTS (default 100,000; the targets are stated for 1,000,000, whose setup
// takes about twenty minutes here). Five events per user: a customer, a subscription, its first
// invoice, a renewal and its invoice.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/store/database.js";
import { appendEvents, type NewEvent } from "../src/store/events.js";
import { rebuildProjections } from "../src/projection/projector.js";
import { PRICES, testCatalog } from "../test/builders/histories.js";
import { customer, invoice, stripeEvent, subscription, toRawBody, type StripeEvent } from "../test/builders/stripe.js";
import { testCatalogJson } from "../test/offline/support.js";

const EVENTS = Number(process.env.BENCH_OFFLINE_EVENTS ?? 100_000);
const T0 = 1_735_689_600;
const MONTH = 30 * 86_400;

const userEvents = (u: number): StripeEvent[] => {
  const t = T0 + u * 3;
  const cus = `cus_o${u}`;
  const sub = `sub_o${u}`;
  const subscriptionAt = (start: number) => subscription({ id: sub, customer: cus, status: "active", priceId: PRICES.proMonthly, periodStart: start, periodEnd: start + MONTH, created: t + 1, shape: "basil" });
  const paid = (n: number, at: number) =>
    stripeEvent({
      id: `evt_oi${u}_${n}`,
      type: "invoice.paid",
      created: at,
      object: invoice({ id: `in_o${u}_${n}`, customer: cus, subscription: sub, priceId: PRICES.proMonthly, amountPaid: 1900, billingReason: n === 0 ? "subscription_create" : "subscription_cycle", created: at, shape: "basil" }),
    });
  return [
    stripeEvent({ id: `evt_oc${u}`, type: "customer.created", created: t, object: customer({ id: cus, metadata: { user_id: `user_o${u}` }, created: t }) }),
    stripeEvent({ id: `evt_os${u}_0`, type: "customer.subscription.created", created: t + 1, object: subscriptionAt(t + 1) }),
    paid(0, t + 2),
    stripeEvent({ id: `evt_os${u}_1`, type: "customer.subscription.updated", created: t + 1 + MONTH, object: subscriptionAt(t + 1 + MONTH) }),
    paid(1, t + 2 + MONTH),
  ];
};

const asNew = (e: StripeEvent): NewEvent => {
  const rawBody = toRawBody(e);
  return { provider: "stripe", providerEventId: e.id, type: e.type, occurredAt: e.created * 1000, receivedAt: e.created * 1000, origin: "webhook", rawBody, payload: JSON.parse(Buffer.from(rawBody).toString("utf8")) };
};

type Measured = { readonly ms: number; readonly maxRssBytes: number; readonly exitCode?: number; readonly lines?: number };

/** Runs a bench script as its own process; its stdout is discarded (a replay prints the whole state). */
const measure = (script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Measured> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => void (err = (err + d.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("exit", () => {
      const line = /measured (\{.*\})/.exec(err);
      if (line === null) reject(new Error(`${script} ${args.join(" ")} reported nothing:\n${err}`));
      else resolve(JSON.parse(line[1]!) as Measured);
    });
  });

export type OfflineBench = {
  readonly events: number;
  readonly verify: { readonly seconds: number; readonly peakMiB: number; readonly clean: boolean };
  readonly replay: { readonly eventsPerSecond: number; readonly peakMiB: number };
  readonly parseOnly: { readonly eventsPerSecond: number; readonly peakMiB: number };
  readonly ratio: number;
};

const MiB = 1024 * 1024;

export const benchOffline = async (events = EVENTS): Promise<OfflineBench> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-bench-offline-"));
  try {
    const url = `file:${join(dir, "verity.db")}`;
    const configPath = join(dir, "verity.config.json");
    writeFileSync(configPath, testCatalogJson);
    const db = await openDatabase(url);
    const users = Math.ceil(events / 5);
    for (let u = 0; u < users; u += 200) {
      const batch = Array.from({ length: Math.min(200, users - u) }, (_, i) => userEvents(u + i)).flat();
      await appendEvents(db, batch.map(asNew));
    }
    await rebuildProjections(db, testCatalog);
    const stored = await db.prisma.event.count();
    await db.close();

    const env = { ...process.env, DATABASE_URL: url, VERITY_CONFIG: configPath };
    const verified = await measure("./measure-cli.mjs", ["verify"], env);
    const exportFile = join(dir, "export.ndjson");
    await measure("./measure-cli.mjs", ["export", "--out", exportFile], env);
    const replayed = await measure("./measure-cli.mjs", ["replay", exportFile, "--format", "json", "--at", "2026-01-01"], env);
    const parsed = await measure("./parse-lines.mjs", [exportFile], env);
    const result: OfflineBench = {
      events: stored,
      verify: { seconds: verified.ms / 1000, peakMiB: verified.maxRssBytes / MiB, clean: verified.exitCode === 0 },
      replay: { eventsPerSecond: (stored / replayed.ms) * 1000, peakMiB: replayed.maxRssBytes / MiB },
      parseOnly: { eventsPerSecond: (stored / parsed.ms) * 1000, peakMiB: parsed.maxRssBytes / MiB },
      ratio: parsed.ms / replayed.ms,
    };
    console.log(
      `offline: verify of ${stored} events: ${result.verify.seconds.toFixed(1)} s, peak ${result.verify.peakMiB.toFixed(0)} MiB (${result.verify.clean ? "clean" : "DIFFERENCES"}); ` +
        `replay of its export: ${result.replay.eventsPerSecond.toFixed(0)} events/s, peak ${result.replay.peakMiB.toFixed(0)} MiB, ` +
        `${(result.ratio * 100).toFixed(0)}% of merely parsing its lines (${result.parseOnly.eventsPerSecond.toFixed(0)}/s, peak ${result.parseOnly.peakMiB.toFixed(0)} MiB)`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
