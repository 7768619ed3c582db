// Live transitions over graphql-sse with the real graphql-sse client against the running server:
// order, resume after a dropped connection with nothing missed, authorization, many streams.
import { connect } from "node:net";
import { createClient, type Client } from "graphql-sse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlOf } from "../../src/store/sql.js";
import { createApiKey } from "../../src/server/auth.js";
import { appendToFeed, encodeFeedCursor, lastFeedSeq } from "../../src/store/feed.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { testCatalog } from "../builders/histories.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

const T0 = 1_735_689_600;
const PLAN = Object.values(testCatalog.plans).find((p) => !p.lifetime && (p.prices.stripe?.length ?? 0) > 0)!.code;
const PRICE = testCatalog.plans[PLAN]!.prices.stripe![0]!;

type Received = { cursor: string; userId: string; entity: string; field: string; from: string | null; to: string | null; cause: string };

const QUERY = `subscription($userId: String, $after: String) {
  transitions(userId: $userId, after: $after) { cursor userId entity field from to cause }
}`;

const subEvent = (id: string, created: number, status: "active" | "past_due" | "canceled", extra: { cancelAtPeriodEnd?: boolean } = {}) =>
  stripeEvent({
    id,
    type: status === "canceled" ? "customer.subscription.deleted" : id.endsWith("_0") ? "customer.subscription.created" : "customer.subscription.updated",
    created,
    object: subscription({ id: "sub_L", customer: "cus_L", status, priceId: PRICE, periodStart: T0, periodEnd: T0 + 30 * 86400, shape: "basil", ...extra }),
  });

describe.each(KINDS)("Subscription.transitions over graphql-sse on %s", (kind) => {
  let s: RunningServer;
  let client: (key?: string) => Client;
  const clients: Client[] = [];

  beforeAll(async () => {
    s = await startServer(kind, testCatalog, { now: T0 * 1000 });
    client = (key = s.readKey) => {
      const c = createClient({ url: `${s.url}/graphql/stream`, headers: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
      clients.push(c);
      return c;
    };
    await deliver(s.url, stripeEvent({ id: "evt_l_c", type: "customer.created", created: T0, object: customer({ id: "cus_L", metadata: { user_id: "user_l" } }) }), { timestamp: T0 });
  });
  afterAll(async () => {
    for (const c of clients) c.dispose();
    await s.stop();
  });

  /** Takes `n` results from a subscription, then closes it. */
  const take = async (c: Client, variables: Record<string, unknown>, n: number, whileOpen: () => Promise<void> = async () => undefined) => {
    const it = c.iterate<{ transitions: Received }>({ query: QUERY, variables });
    const got: Received[] = [];
    const reading = (async () => {
      for await (const result of it) {
        if (result.errors) throw new Error(result.errors.map((e) => e.message).join("; "));
        got.push(result.data!.transitions);
        if (got.length === n) break;
      }
    })();
    // Let the stream be established first; the tests pass `after` so a slow start misses nothing.
    await new Promise((r) => setTimeout(r, 300));
    await whileOpen();
    await reading;
    return got;
  };

  it("streams the transitions a webhook causes, in order, and resumes after a dropped connection with nothing missed", async () => {
    const first = await take(client(), { userId: "user_l", after: encodeFeedCursor(await lastFeedSeq(s.db)) }, 2, async () => {
      await deliver(s.url, subEvent("evt_l_0", T0 + 10, "active"), { timestamp: T0 });
    });
    expect(first.map((t) => `${t.entity}.${t.field}:${t.from}→${t.to}`)).toEqual(["subscription.status:null→active", `subscription.plan:null→${PLAN}`]);
    expect(first.every((t) => t.cause === "stripe:evt_l_0")).toBe(true);
    // The app's user id, as REST and GraphQL reads answer, not Verity's internal one.
    expect(first.map((t) => t.userId)).toEqual(["user_l", "user_l"]);

    // Connection dropped. Meanwhile the subscription goes past due, is set to cancel, and ends.
    await deliver(s.url, subEvent("evt_l_1", T0 + 20, "past_due"), { timestamp: T0 });
    await deliver(s.url, subEvent("evt_l_2", T0 + 30, "active", { cancelAtPeriodEnd: true }), { timestamp: T0 });
    await deliver(s.url, subEvent("evt_l_3", T0 + 40, "canceled"), { timestamp: T0 });

    // What the stream must replay: the transitions those three events caused, from the log itself.
    const expected = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.readKey}` },
      body: JSON.stringify({ query: `{ transitions(userId: "user_l") { cause field to } }` }),
    }).then((r) => r.json() as Promise<{ data: { transitions: { cause: string; field: string; to: string | null }[] } }>);
    // The first stream stopped after two of evt_l_0's transitions: the rest of them and all the later ones were missed.
    const caused = expected.data.transitions.filter((t) => ["stripe:evt_l_0", "stripe:evt_l_1", "stripe:evt_l_2", "stripe:evt_l_3"].includes(t.cause));
    const missed = caused.slice(2);
    expect(missed.filter((t) => t.cause !== "stripe:evt_l_0").length).toBeGreaterThanOrEqual(3);

    const resumed = await take(client(), { userId: "user_l", after: first[1]!.cursor }, missed.length);
    expect(resumed.map((t) => `${t.cause}:${t.field}:${t.to}`)).toEqual(missed.map((t) => `${t.cause}:${t.field}:${t.to}`));
    expect(new Set([...first, ...resumed].map((t) => t.cursor)).size).toBe(first.length + resumed.length);
  });

  it("refuses a subscription without a valid key with a plain 401, and without the read scope with a clear error", async () => {
    for (const [headers, code, message] of [
      [{}, "unauthorized", /API key is required/],
      [{ authorization: "Bearer vty_not_a_key" }, "invalid_api_key", /not known or was revoked/],
    ] as [Record<string, string>, string, RegExp][]) {
      const res = await fetch(`${s.url}/graphql/stream`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
        body: JSON.stringify({ query: QUERY }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; message: string }; errors: { extensions: { code: string } }[] };
      expect(body.error).toEqual({ code, message: expect.stringMatching(message) });
      expect(body.errors[0]!.extensions.code).toBe(code);
    }
    const eventsOnly = (await createApiKey(s.db, ["events"], new Date())).key;
    for (const [key, message] of [[eventsOnly, /lacks the "read" scope/]] as const) {
      const it = client(key).iterate({ query: QUERY, variables: {} });
      const outcome = await (async () => {
        try {
          for await (const result of it) return (result.errors ?? []).map((e) => e.message).join("; ") || JSON.stringify(result);
          return "ended";
        } catch (e) {
          return JSON.stringify(e);
        }
      })();
      expect(outcome).toMatch(message);
    }
  });

  it("serves 200 concurrent streams: each receives the transition an event causes", async () => {
    const N = 200;
    // From the current end of the feed: a stream established late still gets what follows.
    const after = encodeFeedCursor(await lastFeedSeq(s.db));
    const streams = Array.from({ length: N }, () => client().iterate<{ transitions: Received }>({ query: QUERY, variables: { userId: "user_l", after } }));
    const firsts = streams.map(async (it) => {
      for await (const result of it) {
        await it.return?.(undefined);
        return result.data?.transitions ?? null;
      }
      return null;
    });
    await new Promise((r) => setTimeout(r, 1500));
    await deliver(s.url, stripeEvent({ id: "evt_l_email", type: "customer.updated", created: T0 + 50, object: customer({ id: "cus_L", email: "l@example.com", metadata: { user_id: "user_l" } }) }), { timestamp: T0 });
    const got = await Promise.all(firsts);
    expect(got.filter((t) => t?.cause === "stripe:evt_l_email")).toHaveLength(N);
  });

  it.runIf(kind === "postgresql")("reaches a subscriber of another process on the same database through NOTIFY", async () => {
    // Polling an hour apart: only NOTIFY can deliver in time.
    const other = await startServer(kind, testCatalog, { now: T0 * 1000, databaseUrl: s.databaseUrl, livePollMs: 3_600_000 });
    try {
      const c = createClient({ url: `${other.url}/graphql/stream`, headers: { authorization: `Bearer ${s.readKey}` }, retryAttempts: 0 });
      clients.push(c);
      const got = await take(c, { userId: "user_l", after: encodeFeedCursor(await lastFeedSeq(s.db)) }, 1, async () => {
        await deliver(s.url, stripeEvent({ id: "evt_l_notify", type: "customer.updated", created: T0 + 60, object: customer({ id: "cus_L", email: "n@example.com", metadata: { user_id: "user_l" } }) }), { timestamp: T0 });
      });
      expect(got[0]!.cause).toBe("stripe:evt_l_notify");
    } finally {
      await other.stop();
    }
  });

  it("holds back a consumer that stops reading, and ends a subscription whose client went away", async () => {
    const own = await startServer(kind, testCatalog, { now: T0 * 1000 });
    try {
      // 4,000 rows of 10 KB each: 40 MB, far more than the socket buffers between the two ends.
      const big = "x".repeat(10_240);
      for (let i = 0; i < 4; i++) {
        const rows = Array.from({ length: 1000 }, (_, j) => ({ userId: "u", entity: "user", entityId: "u", field: "f", from: null, to: big, cause: `c${i * 1000 + j}`, at: new Date(T0 * 1000) }));
        await own.db.prisma.$transaction((tx) => appendToFeed(sqlOf(own.db, tx), rows));
      }
      const body = JSON.stringify({ query: QUERY, variables: { after: encodeFeedCursor(0) } });
      const { port } = new URL(own.url);
      const socket = connect(Number(port), "127.0.0.1");
      // The client sends its request and then never reads a byte of the stream.
      socket.pause();
      socket.write(
        `POST /graphql/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${own.readKey}\r\nAccept: text/event-stream\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await new Promise((r) => setTimeout(r, 4000));
      expect(own.app.live.active).toBe(1);
      // Without backpressure the server pulls all 4,000 rows into memory within this time.
      expect(own.app.live.delivered).toBeLessThan(2_000);
      socket.destroy();
      for (let i = 0; i < 50 && own.app.live.active > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(own.app.live.active).toBe(0);
    } finally {
      await own.stop();
    }
  });

  it("ends the subscription of a graphql-sse client that disconnects while nothing happens", async () => {
    const c = client();
    const before = s.app.live.active;
    const it = c.iterate<{ transitions: Received }>({ query: QUERY, variables: { userId: "user_l" } });
    const pending = it.next();
    for (let i = 0; i < 50 && s.app.live.active === before; i++) await new Promise((r) => setTimeout(r, 100));
    expect(s.app.live.active).toBe(before + 1);
    c.dispose();
    await pending.catch(() => undefined);
    for (let i = 0; i < 50 && s.app.live.active > before; i++) await new Promise((r) => setTimeout(r, 100));
    expect(s.app.live.active).toBe(before);
  });
});
