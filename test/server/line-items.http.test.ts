// A one-time checkout whose event does not say what was bought: Verity fetches the line items
// from (a local stand-in of) Stripe's API, stores the answer as an event of its own, and the
// lifetime plan it names is granted. Replay then needs no network.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkoutSession, stripeEvent } from "../builders/stripe.js";
import { testCatalog } from "../builders/histories.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot } from "../../src/offline/verify.js";

const T0 = 1_735_689_600;
const LIFETIME_PRICE = Object.values(testCatalog.plans).find((p) => p.lifetime)!.prices.stripe![0]!;
const LIFETIME_PLAN = Object.values(testCatalog.plans).find((p) => p.lifetime)!.code;

describe.each(KINDS)("checkout line items from Stripe's API on %s", (kind) => {
  let stripe: Server;
  let s: RunningServer;
  let requests: { url: string; auth: string | undefined }[] = [];
  const listBody = JSON.stringify(
    { object: "list", data: [{ id: "li_1", object: "item", price: { id: LIFETIME_PRICE, object: "price" }, quantity: 1 }], has_more: false, url: "/v1/checkout/sessions/cs_L/line_items" },
    null,
    2,
  );

  beforeAll(async () => {
    requests = [];
    stripe = createServer((req, res) => {
      requests.push({ url: req.url ?? "", auth: req.headers.authorization });
      if (req.url?.startsWith("/v1/checkout/sessions/cs_L/line_items")) {
        res.writeHead(200, { "content-type": "application/json" }).end(listBody);
      } else res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"No such checkout session"}}');
    });
    await new Promise<void>((r) => stripe.listen(0, "127.0.0.1", r));
    const baseUrl = `http://127.0.0.1:${(stripe.address() as AddressInfo).port}`;
    s = await startServer(kind, testCatalog, { stripeApi: { secretKey: "sk_test_local", baseUrl, timeoutMs: 2000 }, now: T0 * 1000 });
  });
  afterAll(async () => {
    await s.stop();
    await new Promise((r) => stripe.close(r));
  });

  it("fetches, stores the answer byte for byte as its own event, and grants the purchased plan", async () => {
    const session = checkoutSession({ id: "cs_L", mode: "payment", customer: "cus_L", clientReferenceId: "user_l", paymentIntent: "pi_L", amountTotal: 9900, currency: "usd" });
    const res = await deliver(s.url, stripeEvent({ id: "evt_cs_L", type: "checkout.session.completed", created: T0, object: session }), { timestamp: T0 });
    expect(res.status).toBe(200);
    // The fetch runs behind the answer, then its answer is projected like any event.
    await s.app.settle();
    expect(requests.slice(-1)).toEqual([{ url: "/v1/checkout/sessions/cs_L/line_items?limit=100", auth: "Bearer sk_test_local" }]);
    const fetched = await s.db.prisma.event.findFirstOrThrow({ where: { type: "verity.checkout.line_items" } });
    expect(fetched).toMatchObject({ providerEventId: "line_items:cs_L", origin: "fetched" });
    expect(Buffer.from(fetched.rawBody).toString("utf8")).toBe(listBody);
    const ents = await fetch(`${s.url}/api/users/user_l/entitlements`, { headers: { authorization: `Bearer ${s.readKey}` } });
    const body = (await ents.json()) as { entitlements: { enabled: boolean; source: string | null }[] };
    expect(body.entitlements.filter((e) => e.enabled).map((e) => e.source)).toContain(LIFETIME_PLAN);
    const snap = await databaseSnapshot(s.db);
    expect(snap.orders).toEqual([expect.objectContaining({ id: "stripe:cs_L", plan: LIFETIME_PLAN, status: "paid", amount: 9900 })]);
    expect(snap).toEqual(await replaySnapshot(s.db, testCatalog));
  });

  it("does not call the API when the session metadata names the price", async () => {
    const before = requests.length;
    const session = checkoutSession({ id: "cs_M", mode: "payment", customer: "cus_M", paymentIntent: "pi_M", amountTotal: 9900, currency: "usd", metadata: { price_id: LIFETIME_PRICE } });
    const res = await deliver(s.url, stripeEvent({ id: "evt_cs_M", type: "checkout.session.completed", created: T0, object: session }), { timestamp: T0 });
    expect(res.status).toBe(200);
    await s.app.settle();
    expect(requests.length).toBe(before);
    expect((await databaseSnapshot(s.db)).orders).toContainEqual(expect.objectContaining({ id: "stripe:cs_M", plan: LIFETIME_PLAN }));
  });
});
