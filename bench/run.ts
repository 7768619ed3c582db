// `npm run bench`: throughput measured as ratios against baselines taken in the same run, so the
// numbers mean something on any machine. Nothing here asserts; it reports.
//   fold     normalize + canonical order + resolve, against merely parsing the same bodies
//   ingest   append + project per event (SQLite), against append alone
//   live     webhook → graphql-sse subscriber latency, against the webhook round trip (bench/live.ts)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayEvents } from "../src/domain/resolver.js";
import { normalizeStripeEvent } from "../src/providers/stripe/normalize.js";
import { openDatabase } from "../src/store/database.js";
import { Projector } from "../src/store/projector.js";
import { benchLive } from "./live.js";
import { testCatalog } from "../test/builders/histories.js";
import { appendStripeEvent } from "../test/support/append.js";
import { customer, invoice, stripeEvent, subscription, toRawBody, type StripeEvent } from "../test/builders/stripe.js";

const USERS = Number(process.env.BENCH_USERS ?? 300);
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

await main();
await benchLive();
