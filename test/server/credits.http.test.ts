// Credits on the real server: a paid period grants subscription credits, a credit pack one-time
// credits; a credit-priced use debits subscription credits first, atomically, never below zero (402
// when short); the renewal's payment expires what was left without rollover and grants the next
// period's; a refund revokes its purchase's credits; the ledger sums to the balances; verify agrees.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Catalog } from "../../src/domain/catalog.js";
import { replay } from "../../src/offline/replay.js";
import { verify } from "../../src/offline/verify.js";
import { exportLines } from "../offline/support.js";
import { charge, customer, invoice, stripeEvent, subscription } from "../builders/stripe.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";
import { post, T0, usageKey } from "../support/usage.js";

const PRO = "price_credits_pro";
const PACK = "price_credit_pack";
const catalog: Catalog = {
  plans: {
    pro: {
      code: "pro",
      name: "Pro",
      prices: { stripe: [PRO] },
      features: { ai_image: { _tag: "Credits", credits: 5 } },
      credits: { amount: 500, per: "period", rollover: false, expiresAfterDays: null },
      lifetime: false,
      price: null,
    },
    pack: {
      code: "pack",
      name: "Credit pack",
      prices: { stripe: [PACK] },
      features: {},
      credits: { amount: 100, per: "once", rollover: false, expiresAfterDays: 365 },
      lifetime: false,
      price: null,
    },
  },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id"],
};

const DAY = 86_400;
const NOW = (T0 + 5 * DAY) * 1000;

describe.each(KINDS)("credits (%s)", (kind) => {
  let server: RunningServer;
  let key: string;
  const signed = () => ({ timestamp: Math.floor(server.clock.now / 1000) });
  const sub = (start: number) =>
    subscription({ id: "sub_cr", customer: "cus_cr", status: "active", priceId: PRO, periodStart: start, periodEnd: start + 30 * DAY, shape: "basil" });
  const paid = (id: string, created: number, priceId: string, subscriptionId: string | null, chargeId: string | null = null) =>
    stripeEvent({
      id: `evt_${id}`,
      type: "invoice.paid",
      created,
      object: invoice({ id, customer: "cus_cr", subscription: subscriptionId, priceId, amountPaid: 1000, billingReason: subscriptionId === null ? "manual" : "subscription_cycle", charge: chargeId, created, shape: "legacy" }),
    });
  const credits = async () => (await fetch(`${server.url}/api/users/u_cr/credits`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<any>;
  const use = (units: number, idempotencyKey: string) => post(server, "/v1/usage", key, { userId: "u_cr", feature: "ai_image", units, idempotencyKey });

  beforeAll(async () => {
    server = await startServer(kind, catalog, { now: NOW });
    key = await usageKey(server);
    await deliver(server.url, stripeEvent({ id: "evt_cr_c", type: "customer.created", created: T0, object: customer({ id: "cus_cr", metadata: { user_id: "u_cr" } }) }), signed());
    await deliver(server.url, stripeEvent({ id: "evt_cr_s", type: "customer.subscription.created", created: T0, object: sub(T0) }), signed());
    await deliver(server.url, paid("in_cr_1", T0, PRO, "sub_cr"), signed());
    await deliver(server.url, paid("in_cr_pack", T0 + 60, PACK, null, "ch_cr_pack"), signed());
  });
  afterAll(async () => server?.stop());

  it("grants subscription credits with the paid period and one-time credits with the pack", async () => {
    const c = await credits();
    expect(c.balances).toEqual({ subscription: 500, oneTime: 100 });
    expect(c.ledger.map((e: any) => [e.kind, e.bucket, e.amount, e.balanceAfter])).toEqual([
      ["grant", "subscription", 500, 500],
      ["grant", "oneTime", 100, 100],
    ]);
  });

  it("debits subscription credits first, then one-time, and refuses what the balance cannot pay (402, nothing recorded)", async () => {
    expect((await use(2, "u1")).body).toMatchObject({ feature: "ai_image", used: 2, credits: { subscription: 490, oneTime: 100 } });
    expect((await use(90, "u2")).body).toMatchObject({ credits: { subscription: 40, oneTime: 100 } });
    const before = await server.db.prisma.event.count({ where: { provider: "app" } });
    const short = await use(29, "u3");
    expect(short.status).toBe(402);
    expect(short.body.error).toMatchObject({ code: "insufficient_credits", cost: 145, credits: { subscription: 40, oneTime: 100 } });
    expect(await server.db.prisma.event.count({ where: { provider: "app" } })).toBe(before);
    const checked = await post(server, "/v1/check", key, { userId: "u_cr", feature: "ai_image", units: 29 });
    expect(checked).toMatchObject({ status: 402, body: { allowed: false, error: { code: "insufficient_credits" } } });
    expect((await use(10, "u4")).body).toMatchObject({ credits: { subscription: 0, oneTime: 90 } });
    // A repeated key answers with the balances of its first answer and draws nothing.
    expect((await use(10, "u4")).body).toMatchObject({ credits: { subscription: 0, oneTime: 90 } });
    expect((await credits()).balances).toEqual({ subscription: 0, oneTime: 90 });
  });

  it("expires what was left without rollover when the renewal's payment arrives, and grants the next period", async () => {
    await deliver(server.url, stripeEvent({ id: "evt_cr_s2", type: "customer.subscription.updated", created: T0 + 30 * DAY, object: sub(T0 + 30 * DAY) }), signed());
    server.clock.now = (T0 + 31 * DAY) * 1000;
    // Only the clock has moved past the period: nothing is granted until the renewal is paid.
    expect((await credits()).balances).toEqual({ subscription: 0, oneTime: 90 });
    await deliver(server.url, paid("in_cr_2", T0 + 30 * DAY, PRO, "sub_cr"), signed());
    const c = await credits();
    expect(c.balances).toEqual({ subscription: 500, oneTime: 90 });
    expect(c.ledger.at(-1)).toMatchObject({ kind: "grant", bucket: "subscription", amount: 500, balanceAfter: 500 });
  });

  it("revokes a refunded pack's credits down to zero, noting the shortfall", async () => {
    await deliver(
      server.url,
      stripeEvent({ id: "evt_cr_refund", type: "charge.refunded", created: T0 + 31 * DAY, object: charge({ id: "ch_cr_pack", customer: "cus_cr", paymentIntent: null, amount: 1000, amountRefunded: 1000 }) }),
      signed(),
    );
    const c = await credits();
    expect(c.balances).toEqual({ subscription: 500, oneTime: 0 });
    expect(c.ledger.find((e: any) => e.kind === "revocation")).toMatchObject({ bucket: "oneTime", amount: -90, balanceAfter: 0, note: "refund; shortfall 10" });
    // The ledger sums to the balances, bucket by bucket.
    for (const bucket of ["subscription", "oneTime"]) {
      expect(c.ledger.filter((e: any) => e.bucket === bucket).reduce((s: number, e: any) => s + e.amount, 0)).toBe(c.balances[bucket]);
    }
    expect((await use(1, "after-refund")).body).toMatchObject({ credits: { subscription: 495, oneTime: 0 } });
  });

  it("lets 50 concurrent callers draw no more than the balance", async () => {
    const before = (await credits()).balances;
    expect(before).toEqual({ subscription: 495, oneTime: 0 });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => use(20, `race${i}`)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
    expect(answers.filter((a) => a.status === 402)).toHaveLength(46);
    expect((await credits()).balances).toEqual({ subscription: 95, oneTime: 0 });
  });

  it.each([
    ["/api/users/u_cr/credits?limit=0", 400, "invalid_parameter"],
    ["/api/users/u_cr/credits?limit=501", 400, "invalid_parameter"],
    ["/api/users/u_cr/credits?after=bm9wZQ", 400, "invalid_parameter"],
    ["/api/users/nobody/credits", 404, "user_not_found"],
  ])("refuses %s with %i", async (path, status, code) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error.code).toBe(code);
  });

  it("answers the same over GraphQL", async () => {
    const res = await post(server, "/graphql", key, { query: '{ user(id: "u_cr") { credits { balances { subscription oneTime } ledger(first: 20) { kind bucket amount balanceAfter cause } } } }' });
    const rest = await credits();
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.user.credits.balances).toEqual(rest.balances);
    expect(res.body.data.user.credits.ledger).toEqual(rest.ledger.map((e: any) => ({ kind: e.kind, bucket: e.bucket, amount: e.amount, balanceAfter: e.balanceAfter, cause: e.cause })));
  });

  it("pages the ledger and verifies the uses against their records", async () => {
    const first = await (await fetch(`${server.url}/api/users/u_cr/credits?limit=2`, { headers: { authorization: `Bearer ${key}` } })).json() as any;
    expect(first.ledger).toHaveLength(2);
    const rest = await (await fetch(`${server.url}/api/users/u_cr/credits?limit=500&after=${first.next}`, { headers: { authorization: `Bearer ${key}` } })).json() as any;
    expect([...first.ledger, ...rest.ledger]).toEqual((await credits()).ledger);
    expect(rest.next).toBeNull();
    expect((await verify(server.db, catalog, { at: server.clock.now })).differences).toEqual([]);
    // An export replays to the same draws from each lot.
    const replayed = await replay(await exportLines(server.db), catalog, { at: server.clock.now });
    const stored = await server.db.prisma.creditUse.findMany({ orderBy: [{ subject: "asc" }, { lot: "asc" }] });
    expect(replayed.creditUses).toEqual(Object.fromEntries(stored.map((u) => [`${u.subject}#${u.lot}`, u.used])));
    expect(Object.keys(replayed.creditUses)).toHaveLength(3);
    await server.db.prisma.creditUse.updateMany({ data: { used: 7 } });
    expect((await verify(server.db, catalog, { at: server.clock.now })).differences.length).toBeGreaterThan(0);
  });
});
