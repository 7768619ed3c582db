// /healthz and /readyz as an orchestrator sees them when a server starts on a store with a
// backlog: alive at once, not ready (and every other route a 503 "starting" with Retry-After)
// while it catches up, then ready with no projection lag.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.js";
import { appendEvents, type NewEvent } from "../../src/store/events.js";
import { customer, stripeEvent, toRawBody, type StripeEvent } from "../builders/stripe.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, freePort, kill, sleep, spawnVerity, type Child } from "../support/child-server.js";
import { createTestDatabase, KINDS, type TestDatabase } from "../support/databases.js";

const dir = mkdtempSync(join(tmpdir(), "verity-readyz-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BACKLOG = 8_000;
const T0 = 1_735_689_600;

const asNew = (e: StripeEvent): NewEvent => {
  const rawBody = toRawBody(e);
  return { provider: "stripe", providerEventId: e.id, type: e.type, occurredAt: e.created * 1000, receivedAt: Date.now(), origin: "webhook", rawBody, payload: JSON.parse(Buffer.from(rawBody).toString("utf8")) };
};

type Probe = { status: number; body: { ready?: boolean; phase?: string; reason?: string; projectionLag?: { events: number; seconds: number; failed: number } } };

describe.each(KINDS)("readiness while catching up (%s)", (kind) => {
  const started = new Set<Child>();
  let database: TestDatabase | null = null;
  afterEach(async () => {
    for (const child of started) await kill(child);
    await database?.drop();
    database = null;
  }, 30_000);

  it("is alive at once, not ready until the backlog is projected, then ready with no lag", async () => {
    database = await createTestDatabase(kind);
    // Events stored but never projected: what a crash, or another process, leaves behind.
    const db = await openDatabase(database.url);
    try {
      const events = Array.from({ length: BACKLOG }, (_, i) =>
        asNew(stripeEvent({ id: `evt_backlog_${i}`, type: "customer.created", created: T0 + i, object: customer({ id: `cus_backlog_${i}`, metadata: { user_id: `u_backlog_${i}` } }) })),
      );
      for (let i = 0; i < events.length; i += 500) await appendEvents(db, events.slice(i, i + 500));
    } finally {
      await db.close();
    }

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawnVerity(["serve", "--port", String(port)], childEnv(database.url, configPath), started);
    const probe = async (path: string): Promise<Probe> => {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { status: res.status, body: (await res.json()) as Probe["body"] };
    };
    // Alive as soon as it listens.
    let health: Probe | null = null;
    for (const deadline = Date.now() + 60_000; health === null && Date.now() < deadline; ) {
      if (!child.alive()) throw new Error(child.output());
      health = await probe("/healthz").catch(() => null);
      if (health === null) await sleep(50);
    }
    expect(health?.status).toBe(200);

    const seen: Probe[] = [];
    let starting: Response | null = null;
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; ) {
      const ready = await probe("/readyz");
      seen.push(ready);
      if (ready.status === 200) break;
      starting ??= await fetch(`${url}/api/users/u_backlog_0/entitlements`);
      await sleep(20);
    }
    const first = seen[0]!;
    expect(first).toMatchObject({ status: 503, body: { ready: false } });
    expect(seen).toContainEqual({ status: 503, body: { ready: false, phase: "catchingup", reason: "catching up on stored events" } });
    expect(starting?.status).toBe(503);
    expect(starting?.headers.get("retry-after")).toBe("5");
    expect(await starting?.json()).toEqual({ error: { code: "starting", message: "Verity is catching up on stored events; retry shortly" } });
    expect(seen.at(-1)).toEqual({ status: 200, body: { ready: true, phase: "serving", migrations: "applied", projectionLag: { events: 0, seconds: 0, failed: 0 } } });
    expect((await probe("/healthz")).body).toMatchObject({ ok: true, phase: "serving" });
  }, 120_000);
});
