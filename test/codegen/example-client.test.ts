// The example client (examples/client/) and its generated typed documents against the real server:
// the documents are valid for the running schema, and the typed results match what Verity answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerityClient, VerityRequestError, type VerityClient } from "../../examples/client/client.js";
import { EntitlementDocument, EventsDocument, TransitionsDocument, UserDocument } from "../../examples/client/generated/graphql.js";
import { liveTransitions, type LiveTransition } from "../../examples/client/live.js";
import { report } from "../../examples/client/main.js";
import { createApiKey } from "../../src/server/auth.js";
import { encodeFeedCursor, lastFeedSeq } from "../../src/store/feed.js";
import { testCatalog } from "../builders/histories.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

const T0 = 1_735_689_600;
const PLAN = Object.values(testCatalog.plans).find((p) => !p.lifetime && (p.prices.stripe?.length ?? 0) > 0)!;

describe("example client (typed documents over plain fetch)", () => {
  let s: RunningServer;
  let client: VerityClient;

  beforeAll(async () => {
    s = await startServer("sqlite", testCatalog, { now: T0 * 1000 + 1000 });
    client = createVerityClient({ url: s.url, apiKey: s.readKey });
    await deliver(s.url, stripeEvent({ id: "evt_c", type: "customer.created", created: T0, object: customer({ id: "cus_X", metadata: { user_id: "user_x" } }) }), { timestamp: T0 });
    const sub = subscription({ id: "sub_X", customer: "cus_X", status: "active", priceId: PLAN.prices.stripe![0]!, periodStart: T0, periodEnd: T0 + 86400 * 30, shape: "basil" });
    await deliver(s.url, stripeEvent({ id: "evt_s", type: "customer.subscription.created", created: T0, object: sub }), { timestamp: T0 });
  });
  afterAll(async () => s?.stop());

  it("runs every generated document with typed variables and results", async () => {
    const { user } = await client.request(UserDocument, { id: "cus_X" });
    expect(user?.id).toBe("user_x");
    expect(user?.subscription).toMatchObject({ provider: "stripe", id: "sub_X", plan: PLAN.code, status: "active", cancelAtPeriodEnd: false });
    expect(user?.entitlements.filter((e) => e.enabled).map((e) => e.feature).sort()).toEqual(Object.keys(PLAN.features).sort());

    const feature = Object.keys(PLAN.features)[0]!;
    const { entitlement } = await client.request(EntitlementDocument, { userId: "user_x", feature });
    expect(entitlement).toMatchObject({ feature, enabled: true, source: PLAN.code });
    expect((await client.request(EntitlementDocument, { userId: "nobody", feature })).entitlement).toBeNull();

    const { transitions } = await client.request(TransitionsDocument, { userId: "user_x" });
    expect(transitions).toContainEqual(expect.objectContaining({ entity: "subscription", field: "status", from: null, to: "active", cause: "stripe:evt_s" }));

    const first = await client.request(EventsDocument, { limit: 1 });
    expect(first.events.events.map((e) => e.id)).toEqual(["evt_c"]);
    expect(first.events.next).not.toBeNull();
    const rest = await client.request(EventsDocument, { since: first.events.next, limit: 10 });
    expect(rest.events.events.map((e) => e.id)).toEqual(["evt_s"]);
  });

  it("turns GraphQL errors into VerityRequestError with the error code", async () => {
    const noEvents = createVerityClient({ url: s.url, apiKey: (await createApiKey(s.db, ["read"], new Date())).key });
    const forbidden = await noEvents.request(EventsDocument, { limit: 1 }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(VerityRequestError);
    expect((forbidden as VerityRequestError).code).toBe("forbidden");
    const unauthorized = await createVerityClient({ url: s.url, apiKey: "vk_wrong" }).request(UserDocument, { id: "user_x" }).catch((e: unknown) => e);
    expect((unauthorized as VerityRequestError).code).toBe("invalid_api_key");
  });

  it("prints the example report", async () => {
    const lines = await report(client, "user_x");
    expect(lines[0]).toMatch(/^user user_x /);
    expect(lines.join("\n")).toContain("subscription stripe:sub_X");
    expect(lines.join("\n")).toContain("stripe:evt_s");
  });

  it("follows live transitions and, after the server cuts the connection, resumes with nothing missed or repeated", async () => {
    const aborter = new AbortController();
    const stream = liveTransitions({ url: s.url, apiKey: s.readKey }, { userId: "user_x", after: encodeFeedCursor(await lastFeedSeq(s.db)) }, { signal: aborter.signal, backoff: () => 50 });
    const email = (id: string, created: number, address: string) =>
      deliver(s.url, stripeEvent({ id, type: "customer.updated", created, object: customer({ id: "cus_X", email: address, metadata: { user_id: "user_x" } }) }), { timestamp: T0 });
    const got: LiveTransition[] = [];
    const next = async () => {
      const { value } = await stream.next();
      got.push(value as LiveTransition);
    };
    const first = next();
    await new Promise((r) => setTimeout(r, 300));
    await email("evt_e1", T0 + 10, "one@example.com");
    await first;
    s.app.server.closeAllConnections();
    // Let this process's own HTTP pool see its keep-alive sockets closed before it sends again.
    await new Promise((r) => setTimeout(r, 50));
    await email("evt_e2", T0 + 20, "two@example.com");
    await next();
    aborter.abort();
    expect(got.map((t) => [t.field, t.to, t.cause])).toEqual([
      ["email", "one@example.com", "stripe:evt_e1"],
      ["email", "two@example.com", "stripe:evt_e2"],
    ]);
    expect(new Set(got.map((t) => t.cursor)).size).toBe(2);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("throws VerityRequestError when Verity refuses the subscription", async () => {
    const refused = await liveTransitions({ url: s.url, apiKey: "vty_wrong" }, { userId: "user_x" }).next().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VerityRequestError);
    expect((refused as VerityRequestError).code).toBe("invalid_api_key");
  });
});
