// Live latency: from sending a signed webhook to a graphql-sse subscriber receiving the transition
// it caused, against the webhook's own round trip in the same run; and ingest with 200 open
// streams against ingest with none.
import { createClient } from "graphql-sse";
import { testCatalog } from "../test/builders/histories.js";
import { customer, stripeEvent } from "../test/builders/stripe.js";
import { startServer } from "../test/support/server.js";
import { deliver } from "../test/support/stripe-delivery.js";

const percentile = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const T0 = Math.floor(Date.now() / 1000);
/** Event `i` about user `u`: a customer created, or (for a known user) its email changed. */
const event = (i: number, u = i) =>
  stripeEvent({
    id: `evt_live_${i}`,
    type: i === u ? "customer.created" : "customer.updated",
    created: T0 + i,
    object: customer({ id: `cus_live_${u}`, email: `u${u}+${i}@example.com`, metadata: { user_id: `user_live_${u}` } }),
  });

export const benchLive = async (events = 150, streams = 200): Promise<void> => {
  const s = await startServer("sqlite", testCatalog);
  try {
    const client = createClient({ url: `${s.url}/graphql/stream`, headers: { authorization: `Bearer ${s.readKey}` }, retryAttempts: 0 });
    const arrived = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    const it = client.iterate<{ transitions: { cause: string } }>({ query: "subscription { transitions { cause } }" });
    void (async () => {
      for await (const r of it) {
        const cause = r.data?.transitions.cause;
        if (cause && !arrived.has(cause)) {
          arrived.set(cause, performance.now());
          waiting.get(cause)?.();
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 500));

    const roundTrips: number[] = [];
    const latencies: number[] = [];
    for (let i = 0; i < events; i++) {
      const cause = `stripe:evt_live_${i}`;
      const seen = new Promise<void>((resolve) => waiting.set(cause, resolve));
      const sent = performance.now();
      // The answer comes once the event is durable; the subscriber hears of it once it is projected.
      await deliver(s.url, event(i), { settle: false });
      roundTrips.push(performance.now() - sent);
      await seen;
      latencies.push(arrived.get(cause)! - sent);
    }
    await it.return?.(undefined);
    console.log(
      `live:   webhook → subscriber p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms ` +
        `(webhook round trip p99 ${percentile(roundTrips, 99).toFixed(1)} ms; ratio ${(percentile(latencies, 99) / percentile(roundTrips, 99)).toFixed(2)})`,
    );

    // Updates to the first 100 users: each event reaches the one stream watching its user.
    const ingest = async (offset: number) => {
      const start = performance.now();
      for (let i = 0; i < 100; i++) await deliver(s.url, event(offset + i, i));
      return performance.now() - start;
    };
    const quiet = await ingest(10_000);
    // Each stream watches one user, as an app's per-user screens would.
    const many = Array.from({ length: streams }, (_, i) =>
      createClient({ url: `${s.url}/graphql/stream`, headers: { authorization: `Bearer ${s.readKey}` }, retryAttempts: 0 }).iterate({
        query: `subscription { transitions(userId: "user_live_${i}") { cause } }`,
      }),
    );
    for (const m of many) void (async () => { for await (const _ of m) void _; })();
    await new Promise((r) => setTimeout(r, 1500));
    const busy = await ingest(20_000);
    for (const m of many) await m.return?.(undefined);
    console.log(`        ingest of 100 events with ${streams} open per-user streams: ${(busy / quiet).toFixed(2)}× the time with none (${quiet.toFixed(0)} ms)`);
  } finally {
    await s.stop();
  }
};
