// The GraphQL fast lane answers exactly what yoga answers: every query the suites and the example
// client send, over a generated history, first through yoga (a first sighting always goes there),
// then again through the fast lane: same status, same content type, same bytes. What the fast lane
// cannot answer exactly (errors, a key without the scope, an unknown field) still gets yoga's answer.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { arbUserScript, buildHistory, testCatalog } from "../builders/histories.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

const example = (name: string) => readFileSync(new URL(`../../examples/client/${name}.graphql`, import.meta.url), "utf8");
const FRAGMENT = example("entitlement-fields");

type Case = {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly key?: "read" | "events" | "none";
  readonly accept?: string;
  /** A browser's cross-origin request: yoga answers it, with its CORS headers. */
  readonly origin?: string;
};

describe.each(KINDS)("GraphQL fast lane on %s", (kind) => {
  let s: RunningServer;
  let eventsKey: string;
  let userIds: string[];
  beforeAll(async () => {
    const history = buildHistory(fc.sample(arbUserScript, { seed: 77, numRuns: 6 }), 5);
    const latest = Math.max(...history.events.map((e) => e.created));
    s = await startServer(kind, testCatalog, { now: (latest + 86_400) * 1000 });
    eventsKey = (await createApiKey(s.db, ["events"], new Date())).key;
    for (const e of history.events) await deliver(s.url, e, { timestamp: latest + 86_400 });
    userIds = (await s.db.prisma.userIdentity.findMany({ where: { kind: { in: ["app", "customer"] } }, select: { value: true } })).map((i) => i.value);
    expect(userIds.length).toBeGreaterThan(3);
  });
  afterAll(async () => s?.stop());

  const send = async (c: Case) => {
    const key = c.key === "none" ? null : c.key === "events" ? eventsKey : s.readKey;
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(c.accept ? { accept: c.accept } : {}),
        ...(c.origin ? { origin: c.origin } : {}),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ query: c.query, variables: c.variables }),
    });
    return { status: res.status, contentType: res.headers.get("content-type"), cors: res.headers.get("access-control-allow-origin"), body: await res.text() };
  };

  const cases = (): Case[] => [
    ...userIds.flatMap((id): Case[] => [
      { query: `${example("user")}\n${FRAGMENT}`, variables: { id } },
      { query: `${example("entitlement")}\n${FRAGMENT}`, variables: { userId: id, feature: "export" } },
      { query: example("transitions"), variables: { userId: id } },
      {
        query: `query($id: String!) { user(id: $id) { id verityId appUserId email status createdAt customerIds
          entitlements { feature enabled source limit used remaining resetsAt }
          subscription { provider id plan status currentPeriodEnd cancelAtPeriodEnd }
          subscriptions { provider id plan priceIds status providerStatus currentPeriodStart currentPeriodEnd cancelAtPeriodEnd canceledAt startedAt endedAt trialStart trialEnd }
          orders { provider id kind plan amount amountRefunded currency status paidAt }
          transitions { entity entityId field from to at cause } } }`,
        variables: { id },
        accept: "application/json",
      },
      {
        query: `{ a: entitlement(userId: ${JSON.stringify(id)}, feature: "api_calls") { enabled limit remaining resetsAt } b: user(id: "nobody") { id } }`,
        accept: "application/graphql-response+json, application/json",
      },
    ]),
    { query: example("events"), variables: { limit: 5 }, key: "events" },
    { query: '{ entitlement(userId: "nobody", feature: "export") { enabled } }', origin: "https://app.example.com" },
    { query: "{ events(limit: 3) { events { id type rawBody payload rawOnlyReason } next } rejectedDeliveries { code count } }", key: "events" },
    { query: "{ __schema { queryType { name } types { name } } }" },
    // What the fast lane must leave to yoga: errors of every kind.
    { query: '{ user(id: "user_x") { id } }', key: "events" },
    { query: "{ events(limit: 3) { next } }" },
    { query: '{ user(id: "x") { nope } }' },
    { query: '{ events(limit: 0) { next } }', key: "events" },
  ];

  it("answers every query a second time, through the fast lane, exactly as yoga answered it the first time", async () => {
    const all = cases();
    const servedBefore = s.app.fastLane!.served;
    for (const c of all) {
      const fromYoga = await send(c);
      const second = await send(c);
      expect({ query: c.query, variables: c.variables, ...second }).toEqual({ query: c.query, variables: c.variables, ...fromYoga });
    }
    // Every query without errors was served by the fast lane the second time.
    const withoutErrors = all.length - 6; // the five with errors, and the cross-origin one
    expect(s.app.fastLane!.served - servedBefore).toBeGreaterThanOrEqual(withoutErrors - 1);
  });
});
