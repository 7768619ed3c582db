// POST /api/admin/events/{id}/reprocess: an operator re-derives the users of one stored event (the
// webhook-replay other tools offer, without asking the provider to resend). Projections damaged
// behind Verity's back come back; a second call changes nothing and streams nothing new.
import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { PRICES, testCatalog } from "../builders/histories.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

describe.each(KINDS)("admin reprocess on %s", (kind) => {
  let s: RunningServer | null = null;
  afterEach(async () => {
    await s?.stop();
    s = null;
  });

  it("re-derives the event's users: damaged rows come back, a second call is a no-op, and it needs the admin scope", async () => {
    const now = Math.floor(Date.now() / 1000);
    s = await startServer(kind, testCatalog);
    const server = s;
    await deliver(server.url, stripeEvent({ id: "evt_adm_c", type: "customer.created", created: now - 100, object: customer({ id: "cus_adm", metadata: { user_id: "u_adm" } }) }));
    await deliver(
      server.url,
      stripeEvent({ id: "evt_adm_s", type: "customer.subscription.created", created: now - 50, object: subscription({ id: "sub_adm", customer: "cus_adm", status: "active", priceId: PRICES.proMonthly, periodStart: now - 60, periodEnd: now + 30 * 86_400, shape: "basil" }) }),
    );
    const entitlements = async () => (await (await fetch(`${server.url}/api/users/u_adm/entitlements`, { headers: { authorization: `Bearer ${server.readKey}` } })).json()) as { entitlements: { feature: string }[] };
    const granted = (await entitlements()).entitlements.map((e) => e.feature).sort();
    expect(granted.length).toBeGreaterThan(0);

    // Damage behind Verity's back: the user's grants and subscription rows are gone.
    const user = await server.db.prisma.user.findFirstOrThrow({ where: { appUserId: "u_adm" } });
    await server.db.prisma.entitlement.deleteMany({ where: { userId: user.id } });
    await server.db.prisma.subscription.deleteMany({ where: { userId: user.id } });

    const admin = (await createApiKey(server.db, ["admin"], new Date())).key;
    const reprocess = (id: string, key = admin, method = "POST") => fetch(`${server.url}/api/admin/events/${encodeURIComponent(id)}/reprocess`, { method, headers: { authorization: `Bearer ${key}` } });
    const feedBefore = await server.db.prisma.transitionFeed.count();
    const first = await reprocess("stripe:evt_adm_s");
    expect(first.status).toBe(200);
    const answer = (await first.json()) as { event: string; seq: number; users: string[] };
    expect(answer).toMatchObject({ event: "stripe:evt_adm_s", users: ["u_adm"] });
    expect((await entitlements()).entitlements.map((e) => e.feature).sort()).toEqual(granted);
    expect(await server.db.prisma.subscription.count({ where: { userId: user.id } })).toBe(1);
    // The log held these transitions already: nothing new is streamed.
    expect(await server.db.prisma.transitionFeed.count()).toBe(feedBefore);

    // Again, by seq: the same answer, nothing changes.
    const rows = async () => JSON.stringify(await server.db.prisma.entitlement.findMany({ where: { userId: user.id }, orderBy: { id: "asc" } }));
    const before = await rows();
    expect(await (await reprocess(String(answer.seq))).json()).toEqual(answer);
    expect(await rows()).toBe(before);
    expect(await server.db.prisma.transitionFeed.count()).toBe(feedBefore);

    expect((await reprocess("stripe:evt_adm_s", server.readKey)).status).toBe(403);
    expect((await reprocess("stripe:evt_nope")).status).toBe(404);
    expect(await (await reprocess("evt_adm_s")).json()).toEqual({ error: { code: "event_not_found", message: 'no stored event is "evt_adm_s" (give provider:eventId, e.g. stripe:evt_123, or its seq)' } });
    expect((await reprocess("stripe:evt_adm_s", admin, "GET")).status).toBe(405);
  });
});
