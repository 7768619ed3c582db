// Stripe webhooks through the real HTTP server: every way a delivery can be wrong gets its
// status and reason, and changes nothing; good deliveries are stored once and projected.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripeSignatureHeader } from "../../src/providers/stripe/verify.js";
import { customer, stripeEvent, subscription, toRawBody } from "../builders/stripe.js";
import { testCatalog } from "../builders/histories.js";
import { appendStripeEvent } from "../support/append.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver, TEST_SECRET } from "../support/stripe-delivery.js";

const T0 = 1_735_689_600;
const PLAN = Object.values(testCatalog.plans).find((p) => !p.lifetime && (p.prices.stripe?.length ?? 0) > 0)!;
const PRICE = PLAN.prices.stripe![0]!;

const customerEvent = (id: string) => stripeEvent({ id, type: "customer.created", created: T0, object: customer({ id: "cus_H", email: "h@example.com", metadata: { user_id: "user_h" } }) });

describe.each(KINDS)("POST /webhooks/stripe on %s", (kind) => {
  let s: RunningServer;
  const counts = async () => ({ events: await s.db.prisma.event.count(), rejected: await s.db.prisma.rejectedDelivery.count() });

  beforeAll(async () => {
    s = await startServer(kind, testCatalog, { maxBodyBytes: 64 * 1024, now: T0 * 1000 + 60_000 });
  });
  afterAll(async () => s.stop());

  const refused = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
  };

  it("refuses each bad delivery with a reason, stores nothing, and records the rejection", async () => {
    const before = await counts();
    const e = customerEvent("evt_bad");
    const body = toRawBody(e);
    await refused(await deliver(s.url, e, { timestamp: T0, header: null }), 400, "missing_signature");
    await refused(await deliver(s.url, e, { timestamp: T0, header: "v1=abc" }), 400, "malformed_signature");
    await refused(await deliver(s.url, e, { timestamp: T0, secret: "whsec_wrong" }), 400, "signature_mismatch");
    await refused(await deliver(s.url, e, { timestamp: T0 - 3600 }), 400, "stale_timestamp");
    const tampered = Buffer.from(body);
    const header = stripeSignatureHeader(body, TEST_SECRET, T0);
    tampered[tampered.length - 2] = 0x20;
    await refused(await deliver(s.url, tampered, { header }), 400, "signature_mismatch");
    await refused(await deliver(s.url, new TextEncoder().encode("not json at all"), { timestamp: T0 }), 400, "invalid_json");
    await refused(await deliver(s.url, new TextEncoder().encode('{"id":"evt_x","object":"event"}'), { timestamp: T0 }), 400, "invalid_event");
    await refused(await deliver(s.url, new Uint8Array(70 * 1024).fill(0x20), { timestamp: T0 }), 413, "payload_too_large");
    // Refusals are counted in memory per provider, reason and minute, and written in batches:
    // GraphQL answers with the counts at once, the database has them after the next write (each second).
    const gql = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.readKey}` },
      body: JSON.stringify({ query: "{ rejectedDeliveries(limit: 20) { provider code message bodyBytes count } }" }),
    });
    const listed = ((await gql.json()) as { data: { rejectedDeliveries: { provider: string; code: string; message: string; bodyBytes: number; count: number }[] } }).data
      .rejectedDeliveries;
    expect(Object.fromEntries(listed.map((r) => [r.code, r.count]))).toEqual({
      missing_signature: 1,
      malformed_signature: 1,
      signature_mismatch: 2,
      stale_timestamp: 1,
      invalid_json: 1,
      invalid_event: 1,
      payload_too_large: 1,
    });
    expect(listed.find((r) => r.code === "payload_too_large")).toMatchObject({ provider: "stripe", message: expect.stringContaining("limit"), bodyBytes: 70 * 1024 });
    expect(listed.every((r) => r.provider === "stripe" && r.message.length > 10)).toBe(true);
    await s.app.rejections.flush();
    const after = await counts();
    expect(after.events).toBe(before.events);
    expect(after.rejected).toBe(before.rejected + 7);
    const rows = await s.db.prisma.rejectedDelivery.findMany({ orderBy: { id: "asc" } });
    expect(rows.map((r) => [r.code, r.count])).toEqual([
      ["missing_signature", 1],
      ["malformed_signature", 1],
      ["signature_mismatch", 2],
      ["stale_timestamp", 1],
      ["invalid_json", 1],
      ["invalid_event", 1],
      ["payload_too_large", 1],
    ]);
  });

  it("stores a good delivery once, answers a duplicate with 2xx, and projects it", async () => {
    const before = await counts();
    const e = customerEvent("evt_good");
    const first = await deliver(s.url, e, { timestamp: T0 + 30 });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ received: true, duplicate: false, id: "evt_good" });
    const second = await deliver(s.url, e, { timestamp: T0 + 40 });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ received: true, duplicate: true, id: "evt_good" });
    expect((await counts()).events).toBe(before.events + 1);
    const user = await fetch(`${s.url}/api/users/user_h/subscription`, { headers: { authorization: `Bearer ${s.readKey}` } });
    expect(await user.json()).toEqual({ userId: "user_h", subscription: null, subscriptions: [] });
  });

  it("stores an unknown event type byte for byte, projects it, and derives nothing from it", async () => {
    const before = await counts();
    const projections = async () => ({ users: await s.db.prisma.user.count(), transitions: await s.db.prisma.transition.count(), feed: await s.db.prisma.transitionFeed.count() });
    const was = await projections();
    const e = stripeEvent({ id: "evt_unknown", type: "issuing_card.created", created: T0, object: { id: "ic_1", object: "issuing.card" } });
    const res = await deliver(s.url, e, { timestamp: T0 });
    expect(res.status).toBe(200);
    const { seq } = (await res.json()) as { seq: number };
    expect((await counts()).events).toBe(before.events + 1);
    const stored = await s.db.prisma.event.findUniqueOrThrow({ where: { seq } });
    expect(stored.type).toBe("issuing_card.created");
    expect(Buffer.from(stored.rawBody).equals(Buffer.from(toRawBody(e)))).toBe(true);
    // Projected (the projector has seen it) and changed nothing.
    expect(await s.db.prisma.projectedEvent.count({ where: { seq } })).toBe(1);
    expect(await projections()).toEqual(was);
    expect(await s.db.prisma.eventKey.count({ where: { eventSeq: seq } })).toBe(0);
  });

  it("accepts a future timestamp and any one matching v1 during secret rotation, and no v1 that does not match", async () => {
    const e = customerEvent("evt_rotate");
    const body = toRawBody(e);
    const good = stripeSignatureHeader(body, TEST_SECRET, T0 + 3600).split(",")[1]!;
    const before = await counts();
    // Without the matching v1, the same header is refused and stores nothing.
    await refused(await deliver(s.url, e, { header: `t=${T0 + 3600},v1=${"0".repeat(64)},v0=${"1".repeat(64)}` }), 400, "signature_mismatch");
    expect((await counts()).events).toBe(before.events);
    const res = await deliver(s.url, e, { header: `t=${T0 + 3600},v1=${"0".repeat(64)},${good},v0=${"1".repeat(64)}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: true, duplicate: false, id: "evt_rotate" });
    expect((await counts()).events).toBe(before.events + 1);
  });

  it("serves entitlements for a subscription ingested over HTTP", async () => {
    const sub = subscription({ id: "sub_H", customer: "cus_H", status: "active", priceId: PRICE, periodStart: T0, periodEnd: T0 + 30 * 86400, shape: "legacy" });
    const res = await deliver(s.url, stripeEvent({ id: "evt_sub_h", type: "customer.subscription.created", created: T0, object: sub }), { timestamp: T0 });
    expect(res.status).toBe(200);
    for (const id of ["user_h", "cus_H"]) {
      const ents = await fetch(`${s.url}/api/users/${id}/entitlements`, { headers: { authorization: `Bearer ${s.readKey}` } });
      expect(ents.status).toBe(200);
      const body = (await ents.json()) as { userId: string; entitlements: { feature: string; enabled: boolean; source: string | null }[] };
      expect(body.userId).toBe("user_h");
      const granted = Object.keys(PLAN.features).sort();
      expect(body.entitlements.filter((x) => x.enabled).map((x) => [x.feature, x.source])).toEqual(granted.map((f) => [f, PLAN.code]));
      expect(body.entitlements.filter((x) => !x.enabled).every((x) => x.source === null && !granted.includes(x.feature))).toBe(true);
    }
    const subRes = await fetch(`${s.url}/api/users/cus_H/subscription`, { headers: { authorization: `Bearer ${s.readKey}` } });
    expect(await subRes.json()).toMatchObject({
      userId: "user_h",
      subscription: { provider: "stripe", id: "sub_H", status: "active", cancelAtPeriodEnd: false, currentPeriodEnd: new Date((T0 + 30 * 86400) * 1000).toISOString() },
    });
  });

  it("stores one event for concurrent duplicate deliveries, answering each with 2xx", async () => {
    const before = await counts();
    const e = customerEvent("evt_concurrent");
    const answers = await Promise.all(Array.from({ length: 6 }, () => deliver(s.url, e, { timestamp: T0 + 50 })));
    expect(answers.map((r) => r.status)).toEqual(Array(6).fill(200));
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { duplicate: boolean; seq: number }[];
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    expect(new Set(bodies.map((b) => b.seq)).size).toBe(1);
    expect((await counts()).events).toBe(before.events + 1);
  });

  it("refuses a chunked body (no Content-Length) once it passes the limit", async () => {
    const before = await counts();
    const chunk = new Uint8Array(16 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${s.url}/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=00" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await refused(res, 413, "payload_too_large");
    expect((await counts()).events).toBe(before.events);
  });

  it("stores a signed body holding \\u0000 and serves the user", async () => {
    const e = stripeEvent({ id: "evt_nul_http", type: "customer.created", created: T0, object: customer({ id: "cus_nul", email: "a\u0000b@example.com", metadata: { user_id: "user_nul" } }) });
    const res = await deliver(s.url, e, { timestamp: T0 });
    expect(res.status).toBe(200);
    const user = await fetch(`${s.url}/api/users/user_nul/subscription`, { headers: { authorization: `Bearer ${s.readKey}` } });
    expect(user.status).toBe(200);
  });

  it("projects again, on redelivery, an event whose projection never happened", async () => {
    const e = stripeEvent({ id: "evt_unprojected", type: "customer.created", created: T0, object: customer({ id: "cus_late", metadata: { user_id: "user_late" } }) });
    // Stored, but the process stopped before projecting it.
    await appendStripeEvent(s.db, e);
    const ask = () => fetch(`${s.url}/api/users/user_late/subscription`, { headers: { authorization: `Bearer ${s.readKey}` } });
    expect((await ask()).status).toBe(404);
    const res = await deliver(s.url, e, { timestamp: T0 });
    expect(await res.json()).toMatchObject({ duplicate: true });
    expect((await ask()).status).toBe(200);
  });

  it("answers an unknown provider and a malformed id clearly", async () => {
    await refused(await fetch(`${s.url}/webhooks/unknown`, { method: "POST", body: "{}" }), 404, "unknown_provider");
    await refused(await fetch(`${s.url}/api/users/%E0%A4%A/entitlements`, { headers: { authorization: `Bearer ${s.readKey}` } }), 400, "invalid_parameter");
    await refused(await fetch(`${s.url}/api/users/x/entitlements`, { headers: { authorization: "Bearer nope" } }), 401, "invalid_api_key");
    await refused(await fetch(`${s.url}/api/events?limit=0`, { headers: { authorization: `Bearer ${s.readKey}` } }), 400, "invalid_parameter");
  });
});

describe("while serving", () => {
  it("picks up events stored but not projected, without a restart", async () => {
    const s = await startServer("sqlite", testCatalog, { now: T0 * 1000, catchUpIntervalMs: 100 });
    try {
      await appendStripeEvent(s.db, customerEvent("evt_background"));
      const deadline = Date.now() + 10_000;
      let status = 404;
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await fetch(`${s.url}/api/users/user_h/subscription`, { headers: { authorization: `Bearer ${s.readKey}` } })).status;
      }
      expect(status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
