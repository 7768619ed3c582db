// `npm run bench`: throughput measured as ratios against baselines taken in the same run, so the
// numbers mean something on any machine. Nothing here asserts; it reports.
//   fold     normalize + canonical order + resolve, against merely parsing the same bodies
//   scale    canonical order + resolve of many users with a few events each, at two sizes: the time
//            per event at twice the users against the smaller size (1 = linear, 2 = quadratic)
//   ingest   append + project per event (SQLite), against append alone
//   live     webhook → graphql-sse subscriber latency, against the webhook round trip (bench/live.ts)
//   reads    REST and GraphQL entitlement reads under load from autocannon against `verity serve`,
//            against a bare Node http server answering the same body (bench/reads.ts)
//   convergence  webhook answer → graphql-sse subscriber at steady rates, against a server process
//            (bench/convergence.ts)
//   history  one more event for a user with 10, 1,000 and 10,000 prior events (bench/history.ts)
//   offline  `verity verify` on a store of BENCH_OFFLINE_EVENTS events and `verity replay` of its export,
//            wall time and peak memory, against merely parsing the export's lines (bench/offline.ts)
//   webhooks signed Stripe webhooks under load from autocannon against `verity serve` in its own
//            process, against a bare better-sqlite3 loop of durable appends (bench/webhooks.ts)
//   usage    POST /v1/usage (single records and batches of 100) and POST /v1/check under load against
//            `verity serve`, against the webhooks' durable append loop and the reads' bare Node server
//            (bench/usage.ts)
//   dashboard first meaningful paint of /dashboard in Chromium over 10,000 customers and
//            BENCH_DASHBOARD_EVENTS events, against the same page over an empty store (bench/dashboard.ts)
// BENCH_ONLY=usage,reads runs only the cases named (fold, scale and ingest run together).
// Results are also written to bench/results.json; a BENCH_ONLY run replaces only its own cases there.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayEvents } from "../src/domain/resolver/step.js";
import { normalizeStripeEvent } from "../src/providers/stripe/normalize.js";
import { openDatabase } from "../src/store/database.js";
import { Projector } from "../src/projection/projector.js";
import { benchLive } from "./live.js";
import { benchConvergence } from "./convergence.js";
import { benchCli } from "./cli.js";
import { benchDashboard } from "./dashboard.js";
import { benchHistory } from "./history.js";
import { benchOffline } from "./offline.js";
import { benchReads } from "./reads.js";
import { benchUsage } from "./usage.js";
import { benchWebhooks } from "./webhooks.js";
import { PRICES, testCatalog } from "../test/builders/histories.js";
import { appendStripeEvent } from "../test/support/append.js";
import { asStoredInput, checkoutSession, customer, invoice, stripeEvent, subscription, toRawBody, type StripeEvent } from "../test/builders/stripe.js";

const USERS = Number(process.env.BENCH_USERS ?? 300);
/** The smaller size of the scale case; the larger is twice as many users. */
const SCALE_USERS = Number(process.env.BENCH_SCALE_USERS ?? 20_000);
const T0 = 1_735_689_600;
const PRICE = Object.values(testCatalog.plans).find((p) => !p.lifetime && (p.prices.stripe?.length ?? 0) > 0)!.prices.stripe![0]!;

/** Per user: a customer, a subscription, twelve monthly invoices and renewals. */
const history = (): StripeEvent[] =>
  Array.from({ length: USERS }, (_, u) => {
    const cus = `cus_b${u}`;
    const sub = `sub_b${u}`;
    const events: StripeEvent[] = [
      stripeEvent({ id: `evt_c${u}`, type: "customer.created", created: T0 + u, object: customer({ id: cus, metadata: { user_id: `user_${u}` } }) }),
    ];
    for (let m = 0; m < 12; m++) {
      const start = T0 + u + m * 30 * 86400;
      const object = subscription({ id: sub, customer: cus, status: "active", priceId: PRICE, periodStart: start, periodEnd: start + 30 * 86400, shape: "basil", created: T0 + u });
      events.push(
        stripeEvent({ id: `evt_s${u}_${m}`, type: m === 0 ? "customer.subscription.created" : "customer.subscription.updated", created: start, object }),
        stripeEvent({
          id: `evt_i${u}_${m}`,
          type: "invoice.paid",
          created: start,
          object: invoice({ id: `in_b${u}_${m}`, customer: cus, subscription: sub, priceId: PRICE, amountPaid: 1900, billingReason: m === 0 ? "subscription_create" : "subscription_cycle", shape: "basil" }),
        }),
      );
    }
    return events;
  }).flat();

/**
 * Per user: a customer, a subscription and its first invoice. Every fourth user also buys once on a
 * second customer, which a checkout naming the app user then merges into the first.
 */
const manyUsers = (users: number): StripeEvent[] =>
  Array.from({ length: users }, (_, u) => {
    const t = T0 + u * 7;
    const cus = `cus_m${u}`;
    const sub = `sub_m${u}`;
    const object = subscription({ id: sub, customer: cus, status: "active", priceId: PRICES.proMonthly, periodStart: t + 1, periodEnd: t + 1 + 30 * 86400, shape: "basil" });
    const events = [
      stripeEvent({ id: `evt_mc${u}`, type: "customer.created", created: t, object: customer({ id: cus, metadata: { user_id: `user_${u}` }, created: t }) }),
      stripeEvent({ id: `evt_ms${u}`, type: "customer.subscription.created", created: t + 1, object }),
      stripeEvent({
        id: `evt_mi${u}`,
        type: "invoice.paid",
        created: t + 1,
        object: invoice({ id: `in_m${u}`, customer: cus, subscription: sub, priceId: PRICES.proMonthly, amountPaid: 1900, billingReason: "subscription_create", shape: "basil" }),
      }),
    ];
    if (u % 4 !== 0) return events;
    const other = `cus_m${u}b`;
    return [
      ...events,
      stripeEvent({ id: `evt_mb${u}`, type: "customer.created", created: t + 2, object: customer({ id: other, created: t + 2 }) }),
      stripeEvent({
        id: `evt_mo${u}`,
        type: "invoice.paid",
        created: t + 3,
        object: invoice({ id: `in_m${u}b`, customer: other, subscription: null, priceId: PRICES.lifetime, amountPaid: 19900, billingReason: "manual", paymentIntent: `pi_m${u}b`, shape: "legacy" }),
      }),
      stripeEvent({
        id: `evt_mk${u}`,
        type: "checkout.session.completed",
        created: t + 4,
        object: checkoutSession({ id: `cs_m${u}`, mode: "payment", customer: other, clientReferenceId: `user_${u}`, paymentIntent: `pi_m${u}c`, amountTotal: 500, currency: "usd", metadata: { price_id: PRICES.oneTimeUnmapped }, created: t + 4 }),
      }),
    ];
  }).flat();

const time = async (f: () => unknown | Promise<unknown>): Promise<number> => {
  const start = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const main = async () => {
  const events = history();
  const bodies = events.map(toRawBody);
  console.log(`${USERS} users, ${events.length} events`);

  const parseMs = await time(() => bodies.map((b) => JSON.parse(new TextDecoder().decode(b))));
  const foldMs = await time(() => {
    const normalized = bodies.map((b, i) =>
      normalizeStripeEvent(
        { providerEventId: events[i]!.id, type: events[i]!.type, occurredAt: events[i]!.created * 1000, payload: JSON.parse(new TextDecoder().decode(b)) },
        { userIdKeys: testCatalog.userIdKeys },
      ),
    );
    return replayEvents(testCatalog, normalized);
  });
  console.log(`fold:   ${foldMs.toFixed(0)} ms (${((events.length / foldMs) * 1000).toFixed(0)} events/s), ${(foldMs / parseMs).toFixed(1)}× parsing alone`);

  // Normalized beforehand: only the fold is timed. A small fold first warms the code up.
  const normalizedMany = (users: number) => manyUsers(users).map((e) => normalizeStripeEvent(asStoredInput(e), { userIdKeys: testCatalog.userIdKeys }));
  replayEvents(testCatalog, normalizedMany(Math.min(SCALE_USERS, 2000)));
  const scale = async (users: number) => {
    const many = normalizedMany(users);
    const ms = await time(() => replayEvents(testCatalog, many));
    return { users, events: many.length, ms, perEvent: ms / many.length };
  };
  const small = await scale(SCALE_USERS);
  const large = await scale(2 * SCALE_USERS);
  const describe = (r: typeof small) => `${r.users} users (${r.events} events) ${r.ms.toFixed(0)} ms, ${((r.events / r.ms) * 1000).toFixed(0)} events/s`;
  console.log(`scale:  ${describe(small)}; ${describe(large)}; ${(large.perEvent / small.perEvent).toFixed(2)}× the time per event at twice the users`);

  const dir = mkdtempSync(join(tmpdir(), "verity-bench-"));
  try {
    const sample = events.slice(0, Math.min(events.length, 25 * 60));
    const append = async (url: string, project: boolean) => {
      const db = await openDatabase(url);
      const projector = new Projector(db, testCatalog);
      const ms = await time(async () => {
        for (const e of sample) {
          const r = await appendStripeEvent(db, e, Date.now());
          if (project) await projector.project(r.seq);
        }
      });
      await db.close();
      return ms;
    };
    const appendMs = await append(`file:${join(dir, "a.db")}`, false);
    const ingestMs = await append(`file:${join(dir, "b.db")}`, true);
    console.log(
      `ingest: ${ingestMs.toFixed(0)} ms for ${sample.length} events (${((sample.length / ingestMs) * 1000).toFixed(0)} events/s), ` +
        `${(ingestMs / appendMs).toFixed(1)}× appending alone (${((sample.length / appendMs) * 1000).toFixed(0)} events/s)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** The cases whose figures go to results.json, in the order they run (after fold/scale/ingest and live). */
const cases = { reads: benchReads, webhooks: benchWebhooks, convergence: benchConvergence, history: benchHistory, offline: benchOffline, usage: benchUsage, dashboard: benchDashboard, cli: benchCli };
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(",").map((name) => name.trim()) : undefined;
const unknown = only?.filter((name) => !["fold", "scale", "ingest", "live", ...Object.keys(cases)].includes(name)) ?? [];
if (unknown.length > 0) throw new Error(`BENCH_ONLY: no case named ${unknown.join(", ")}`);
const selected = (...names: string[]) => only === undefined || names.some((n) => only.includes(n));

if (selected("fold", "scale", "ingest")) await main();
if (selected("live")) await benchLive();
const results: Record<string, unknown> = {};
for (const [name, run] of Object.entries(cases)) if (selected(name)) results[name] = await run();

const resultsFile = new URL("./results.json", import.meta.url);
const measuredAt = new Date().toISOString();
// A full run replaces the file; a partial one keeps the other cases' figures (and their measuredAt),
// noting when each case it ran was measured.
const written =
  only === undefined
    ? { measuredAt, ...results }
    : (() => {
        const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, "utf8")) as Record<string, unknown>) : {};
        const byCase = { ...(previous.measuredAtByCase as Record<string, string> | undefined), ...Object.fromEntries(Object.keys(results).map((name) => [name, measuredAt])) };
        return { ...previous, ...results, measuredAtByCase: byCase };
      })();
writeFileSync(resultsFile, `${JSON.stringify(written, null, 2)}\n`);
