// The database mistakes a newcomer makes, as `verity serve` and `verity migrate` answer them: which
// server and database, and what to do; never the password from DATABASE_URL.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, freePort, kill, runVerity, type Child } from "../support/child-server.js";
import { HAS_POSTGRES, POSTGRES_ADMIN_URL } from "../support/databases.js";

const dir = mkdtempSync(join(tmpdir(), "verity-db-errors-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
const started = new Set<Child>();
afterEach(async () => {
  for (const child of started) await kill(child);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withUrl = (url: string) => childEnv(url, configPath);

describe("database errors", () => {
  it("a refused connection names the host and port and says the server may not be running", async () => {
    const port = await freePort();
    for (const command of [["migrate"], ["serve", "--port", String(await freePort())]]) {
      const r = await runVerity(command, withUrl(`postgresql://verity:s3cret-pw@127.0.0.1:${port}/verity`), started);
      expect(r.code).toBe(1);
      expect(r.output).toContain(`cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused. Is PostgreSQL running, and listening on that host and port?`);
      expect(r.output).not.toContain("s3cret-pw");
    }
  });

  it.skipIf(!HAS_POSTGRES)("a database that does not exist is named, with the command that creates it", async () => {
    const admin = new URL(POSTGRES_ADMIN_URL);
    const name = `verity_missing_${process.pid}_${Date.now()}`;
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const r = await runVerity(["migrate"], withUrl(url.href), started);
    expect(r.code).toBe(1);
    const host = `${admin.hostname}:${admin.port || "5432"}`;
    expect(r.output).toContain(`PostgreSQL at ${host} has no database "${name}". Create it, e.g. createdb -h ${admin.hostname} -p ${admin.port || "5432"} -U ${admin.username || "postgres"} ${name}`);
  });

  it("a SQLite file that cannot be created says where and why", async () => {
    writeFileSync(join(dir, "a-file"), "");
    const r = await runVerity(["migrate"], withUrl(`file:${join(dir, "a-file", "data", "verity.db")}`), started);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`cannot open the SQLite database ${join(dir, "a-file", "data", "verity.db")} (ENOTDIR): check that its folder exists or can be created, and that Verity may write there.`);
  });
});
