// Two server processes on one PostgreSQL answer reads from memory: a user one of them has read is
// dropped from its memory when the other projects a change to it (LISTEN/NOTIFY), so its next
// answer is the new state.
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testCatalog } from "../builders/histories.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { HAS_POSTGRES } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

const T0 = 1_735_689_600;

describe.skipIf(!HAS_POSTGRES)("reads from memory across processes (PostgreSQL)", () => {
  let a: RunningServer;
  let b: RunningServer;
  beforeAll(async () => {
    a = await startServer("postgresql", testCatalog, { now: T0 * 1000 + 60_000 });
    b = await startServer("postgresql", testCatalog, { now: T0 * 1000 + 60_000, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  const emailAt = async (s: RunningServer, id: string): Promise<string | null> => {
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.readKey}` },
      body: JSON.stringify({ query: `{ user(id: "${id}") { email } }` }),
    });
    return ((await res.json()) as { data: { user: { email: string | null } | null } }).data.user?.email ?? null;
  };
  const event = (id: string, type: string, created: number, email: string) =>
    stripeEvent({ id, type, created, object: customer({ id: "cus_two", email, metadata: { user_id: "user_two" } }) });

  it("answers another process's change once that process has projected it", async () => {
    await deliver(a.url, event("evt_two_1", "customer.created", T0, "one@example.com"), { timestamp: T0 });
    expect(await emailAt(b, "user_two")).toBe("one@example.com");
    const loads = b.app.reads.loads;
    expect(await emailAt(b, "cus_two")).toBe("one@example.com");
    expect(b.app.reads.loads).toBe(loads + 1); // the lookup by customer id; the user came from memory
    await deliver(a.url, event("evt_two_2", "customer.updated", T0 + 10, "two@example.com"), { timestamp: T0 });
    let seen: string | null = null;
    for (let i = 0; i < 100 && seen !== "two@example.com"; i++) {
      seen = await emailAt(b, "user_two");
      if (seen !== "two@example.com") await delay(20);
    }
    expect(seen).toBe("two@example.com");
  });
});
