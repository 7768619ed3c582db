// History independence: what one more event costs for a user who already has 10, 1,000 or 10,000
// events (BENCH_HISTORY to choose), against the same for a user with 10. One more event is folded
// onto the user's saved state, so the line should stay flat as events accumulate; what still grows
// is what the state holds. Two shapes of history: `updates`, where the events change one
// subscription (renewals, plan and seat changes: the state keeps its size), and `orders`, where
// every event is another paid invoice, so the user owns one more order and one more identity key
// each time (orders of a price no plan maps, as top-ups or usage invoices are: the derivation visits
// the user's records that can grant, kept as an index, not all its orders). SQLite, in this process;
// medians of five events per size.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "../src/store/database.js";
import { appendEvents } from "../src/store/events.js";
import { projectEvents, rebuildProjections } from "../src/projection/projector.js";
import { PRICES, testCatalog } from "../test/builders/histories.js";
import { customer, invoice, stripeEvent, subscription, toRawBody, type StripeEvent } from "../test/builders/stripe.js";

const T0 = 1_735_689_600;

const customerCreated = (user: string): StripeEvent =>
  stripeEvent({ id: `evt_h_${user}_c`, type: "customer.created", created: T0, object: customer({ id: `cus_h_${user}`, metadata: { user_id: user } }) });

/** The n-th paid invoice of `user` (a usage-heavy user's history: one event after another). */
const paid = (user: string, n: number): StripeEvent =>
  stripeEvent({
    id: `evt_h_${user}_${n}`,
    type: "invoice.paid",
    created: T0 + 60 + n,
    object: invoice({ id: `in_h_${user}_${n}`, customer: `cus_h_${user}`, subscription: null, priceId: PRICES.oneTimeUnmapped, amountPaid: 100, billingReason: "manual", paymentIntent: `pi_h_${user}_${n}`, shape: "legacy" }),
  });

const subscriptionUpdated = (user: string, n: number): StripeEvent =>
  stripeEvent({
    id: `evt_h_${user}_u${n}`,
    type: n === 0 ? "customer.subscription.created" : "customer.subscription.updated",
    created: T0 + 60 + n,
    object: subscription({
      id: `sub_h_${user}`,
      customer: `cus_h_${user}`,
      priceId: n % 2 === 0 ? PRICES.proMonthly : PRICES.teamMonthly,
      status: "active",
      periodStart: T0,
      periodEnd: T0 + 30 * 86_400,
      created: T0,
      shape: "legacy",
    }),
  });

export type HistoryShape = "updates" | "orders";

const eventOf: Record<HistoryShape, (user: string, n: number) => StripeEvent> = { updates: subscriptionUpdated, orders: paid };

const asNew = (e: StripeEvent) => ({
  provider: "stripe" as const,
  providerEventId: e.id,
  type: e.type,
  occurredAt: e.created * 1000,
  receivedAt: Date.now(),
  origin: "webhook" as const,
  rawBody: toRawBody(e),
  payload: JSON.parse(Buffer.from(toRawBody(e)).toString("utf8")) as unknown,
});

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Milliseconds to append and project one more event, for a user with `prior` events. */
const oneMore = async (db: Database, shape: HistoryShape, user: string, prior: number): Promise<number> => {
  const next = eventOf[shape];
  const history = [customerCreated(user), ...Array.from({ length: prior - 1 }, (_, n) => next(user, n))];
  for (let i = 0; i < history.length; i += 500) await appendEvents(db, history.slice(i, i + 500).map(asNew));
  await rebuildProjections(db, testCatalog);
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const start = performance.now();
    const [r] = await appendEvents(db, [asNew(next(user, prior + k))]);
    await projectEvents(db, testCatalog, [r!.seq]);
    times.push(performance.now() - start);
  }
  return median(times);
};

export type HistoryBench = Record<HistoryShape, Record<string, { readonly ms: number; readonly ratio: number }>>;

const SIZES = (process.env.BENCH_HISTORY ?? "10,1000,10000").split(",").map(Number);

export const benchHistory = async (sizes: readonly number[] = SIZES): Promise<HistoryBench> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-bench-history-"));
  const results: HistoryBench = { updates: {}, orders: {} };
  try {
    for (const shape of ["updates", "orders"] as const) {
      // A first, unmeasured round warms the code up, so the base is not the cold start.
      const warm = await openDatabase(`file:${join(dir, `${shape}-warm.db`)}`);
      await oneMore(warm, shape, "user_warm", sizes[0]!).finally(() => warm.close());
      let base = 0;
      for (const size of sizes) {
        const db = await openDatabase(`file:${join(dir, `${shape}${size}.db`)}`);
        try {
          const ms = await oneMore(db, shape, `user_h${size}`, size);
          base ||= ms;
          results[shape][String(size)] = { ms, ratio: ms / base };
          console.log(`history (${shape}): one more event for a user with ${String(size).padStart(6)} events: ${ms.toFixed(1)} ms, ${(ms / base).toFixed(1)}× a user with ${sizes[0]}`);
        } finally {
          await db.close();
        }
      }
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
