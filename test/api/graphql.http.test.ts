// GraphQL over the real HTTP server: keys and scopes, the documented queries, and no mutations.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printedSchema } from "../../src/api/schema.js";
import { createApiKey } from "../../src/server/auth.js";
import { customer, stripeEvent, subscription } from "../builders/stripe.js";
import { testCatalog } from "../builders/histories.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

const T0 = 1_735_689_600;
const PLAN = Object.values(testCatalog.plans).find((p) => !p.lifetime && (p.prices.stripe?.length ?? 0) > 0)!;

describe.each(KINDS)("GraphQL /graphql on %s", (kind) => {
  let s: RunningServer;
  let eventsOnlyKey: string;
  const gql = async (query: string, key: string | null, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] };
  };

  beforeAll(async () => {
    s = await startServer(kind, testCatalog, { now: T0 * 1000 + 1000 });
    eventsOnlyKey = (await createApiKey(s.db, ["events"], new Date())).key;
    await deliver(s.url, stripeEvent({ id: "evt_c", type: "customer.created", created: T0, object: customer({ id: "cus_G", metadata: { user_id: "user_g" } }) }), { timestamp: T0 });
    const sub = subscription({ id: "sub_G", customer: "cus_G", status: "active", priceId: PLAN.prices.stripe![0]!, periodStart: T0, periodEnd: T0 + 86400 * 30, shape: "basil" });
    await deliver(s.url, stripeEvent({ id: "evt_s", type: "customer.subscription.created", created: T0, object: sub }), { timestamp: T0 });
  });
  afterAll(async () => s.stop());

  it("answers the documented user query by app id and by customer id", async () => {
    const query = `query($id: String!) { user(id: $id) { id entitlements { feature enabled source limit used remaining resetsAt }
      subscription { provider id plan status currentPeriodEnd cancelAtPeriodEnd } } }`;
    for (const id of ["user_g", "cus_G"]) {
      const r = await gql(query, s.readKey, { id });
      expect(r.errors).toBeUndefined();
      const user = r.data!.user as { id: string; entitlements: { feature: string; enabled: boolean; source: string }[]; subscription: Record<string, unknown> };
      expect(user.id).toBe("user_g");
      expect(user.subscription).toEqual({ provider: "stripe", id: "sub_G", plan: PLAN.code, status: "active", currentPeriodEnd: new Date((T0 + 86400 * 30) * 1000).toISOString(), cancelAtPeriodEnd: false });
      expect(user.entitlements.filter((e) => e.enabled).map((e) => e.source)).toEqual(Object.keys(PLAN.features).map(() => PLAN.code));
    }
  });

  it("answers entitlement(userId, feature) and the transition log", async () => {
    const feature = Object.keys(PLAN.features)[0]!;
    const r = await gql(`{ entitlement(userId: "cus_G", feature: "${feature}") { enabled remaining resetsAt } transitions(userId: "user_g") { entity field from to cause } }`, s.readKey);
    expect(r.errors).toBeUndefined();
    expect((r.data!.entitlement as { enabled: boolean }).enabled).toBe(true);
    expect(r.data!.transitions).toContainEqual({ entity: "subscription", field: "status", from: null, to: "active", cause: "stripe:evt_s" });
  });

  it("refuses without a key and without the scope, with a clear error", async () => {
    const none = await gql(`{ user(id: "user_g") { id } }`, null);
    expect(none.errors?.[0]?.extensions?.code).toBe("unauthorized");
    const wrong = await gql(`{ user(id: "user_g") { id } }`, eventsOnlyKey);
    expect(wrong.errors?.[0]?.message).toMatch(/lacks the "read" scope/);
    const events = await gql(`{ events(limit: 1) { events { id type rawBody } next } }`, eventsOnlyKey);
    expect(events.errors).toBeUndefined();
    expect((events.data!.events as { next: string | null }).next).not.toBeNull();
  });

  it("has no mutations: the API is read-only", async () => {
    const r = await gql(`mutation { anything }`, s.readKey);
    expect(r.errors?.[0]?.message).toMatch(/mutation/i);
    const roots = await gql(`{ __schema { queryType { name } mutationType { name } subscriptionType { name } } }`, s.readKey);
    expect(roots.data).toEqual({ __schema: { queryType: { name: "Query" }, mutationType: null, subscriptionType: { name: "Subscription" } } });
  });
});

describe("schema.graphql", () => {
  it("is the schema printed from the code (run `npm run schema` after changing it)", () => {
    expect(readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8")).toBe(printedSchema());
  });
});
