// The quota holds across processes: two `verity serve` processes on one PostgreSQL, 50 callers
// racing for the last 10 units of one user through both at once. Each record is decided in the
// transaction that stores it, under the lock every append takes, so exactly 10 are accepted.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { openDatabase, type Database } from "../../src/store/database.js";
import { childEnv, kill, startVerityProcess, type Child, type Server } from "../support/child-server.js";
import { createTestDatabase, HAS_POSTGRES, type TestDatabase } from "../support/databases.js";
import { subscribe } from "../support/usage.js";

const catalogJson = JSON.stringify({
  plans: {
    starter: {
      name: "Starter",
      prices: { stripe: ["price_starter_monthly"] },
      features: { api_calls: { limit: 100, per: "month", overage: "block" } },
    },
  },
});

describe.skipIf(!HAS_POSTGRES)("two processes racing for the last units of a quota (PostgreSQL)", () => {
  const started = new Set<Child>();
  let database: TestDatabase;
  let dir: string;
  let db: Database;
  let servers: Server[] = [];
  let key: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "verity-race-"));
    writeFileSync(join(dir, "verity.config.json"), catalogJson);
    database = await createTestDatabase("postgresql");
    const env = childEnv(database.url, join(dir, "verity.config.json"));
    // One first, so migrations are applied once; then the second on the migrated database.
    servers = [await startVerityProcess(env, started)];
    servers.push(await startVerityProcess(env, started));
    db = await openDatabase(database.url);
    key = (await createApiKey(db, ["read", "usage:write"], new Date())).key;
  }, 120_000);

  afterAll(async () => {
    for (const child of started) await kill(child);
    await db?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const usage = async (server: Server, units: number, idempotencyKey: string): Promise<number> => {
    const res = await fetch(`${server.url}/v1/usage`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ userId: "u_race", feature: "api_calls", units, idempotencyKey }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  it("accepts exactly the units left, whichever process each caller reaches", async () => {
    const now = Math.floor(Date.now() / 1000);
    await subscribe(servers[0]!, "u_race", "price_starter_monthly", { created: now - 60, periodStart: now - 86_400, periodEnd: now + 29 * 86_400 });
    // The other process learns of the subscription through NOTIFY; wait until it answers for the user.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${servers[1]!.url}/v1/check`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ userId: "u_race", feature: "api_calls" }),
      });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await usage(servers[0]!, 90, "base")).toBe(200);
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => usage(servers[i % 2]!, 1, `race-${i}`)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    const counters = await db.prisma.usageCounter.findMany({ where: { subject: "u_race" } });
    expect(counters.map((c) => Number(c.used))).toEqual([100]);
    expect(await db.prisma.event.count({ where: { provider: "app" } })).toBe(11);
  }, 60_000);
});
