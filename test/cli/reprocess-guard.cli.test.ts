// `verity reprocess` beside a running server: with the server's own catalog it rebuilds; with
// another one it refuses (the server would undo it), naming the server, unless --force; once the
// server has stopped, nothing stands in the way.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.js";
import { liveServers, STALE_AFTER_MS } from "../../src/store/servers.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, startVerityProcess, type Child } from "../support/child-server.js";
import { createTestDatabase, KINDS, type TestDatabase } from "../support/databases.js";

const dir = mkdtempSync(join(tmpdir(), "verity-reprocess-guard-"));
const serverCatalog = join(dir, "server.config.json");
const otherCatalog = join(dir, "other.config.json");
writeFileSync(serverCatalog, testCatalogJson);
writeFileSync(otherCatalog, JSON.stringify({ ...JSON.parse(testCatalogJson), grace: { pastDueDays: 99 } }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(KINDS)("reprocess while a server runs (%s)", (kind) => {
  const started = new Set<Child>();
  let database: TestDatabase | null = null;
  afterEach(async () => {
    for (const child of started) await kill(child);
    await database?.drop();
    database = null;
  }, 30_000);

  it("refuses another catalog than the running server's unless --force, and rebuilds with the same one", async () => {
    database = await createTestDatabase(kind);
    const env = childEnv(database.url, serverCatalog);
    const server = await startVerityProcess(env, started);

    const refused = await runVerity(["reprocess", "--config", otherCatalog], env, started);
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(new RegExp(`a server runs on this database with another plan catalog than ${otherCatalog} \\(pid ${server.process.pid} on [^,]+, seen \\d+ s ago\\)`));
    expect(refused.output).toContain("Restart it with the new catalog instead (it rebuilds at start), or stop it and run this again; --force rebuilds anyway.");
    expect(refused.output).not.toContain("reprocessed");

    const rebuilds = async (...args: string[]) => {
      const r = await runVerity(["reprocess", ...args], env, started);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain("reprocessed 0 events");
    };
    await rebuilds("--config", serverCatalog);
    await rebuilds("--config", otherCatalog, "--force");

    // A server that stops removes itself.
    server.process.kill("SIGTERM");
    await server.exited;
    await rebuilds("--config", otherCatalog);
  }, 90_000);

  it("counts a server that stopped saying it is alive as gone", async () => {
    database = await createTestDatabase(kind);
    const db = await openDatabase(database.url);
    try {
      const seenAt = new Date(1_800_000_000_000);
      await db.prisma.serverProcess.create({ data: { id: "srv_dead", catalog: "x", host: "h", pid: 1, startedAt: seenAt, seenAt } });
      expect((await liveServers(db, seenAt.getTime() + STALE_AFTER_MS)).map((s) => s.id)).toEqual(["srv_dead"]);
      expect(await liveServers(db, seenAt.getTime() + STALE_AFTER_MS + 1)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
