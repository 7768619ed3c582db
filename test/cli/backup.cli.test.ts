// `verity backup` as an operator runs it: beside a running server that keeps taking webhooks, the
// copy is a whole database (integrity check passes, `verify` finds the projections match the log),
// holding every event acknowledged before the backup began; FILE is never left half-written.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { Either } from "effect";
import { loadCatalog } from "../../src/config/catalog.js";
import { Projector } from "../../src/projection/projector.js";
import { openDatabase } from "../../src/store/database.js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { customer, stripeEvent } from "../builders/stripe.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, startVerityProcess, type Child } from "../support/child-server.js";
import { deliver } from "../support/stripe-delivery.js";

const dir = mkdtempSync(join(tmpdir(), "verity-backup-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
const started = new Set<Child>();
afterEach(async () => {
  for (const child of started) await kill(child);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const created = (n: number) => stripeEvent({ id: `evt_bk_${n}`, type: "customer.created", created: Math.floor(Date.now() / 1000), object: customer({ id: `cus_bk_${n}`, metadata: { user_id: `u_bk_${n}` } }) });

describe("verity backup", () => {
  it("copies the store while the server writes: a whole database that verifies, with every event acknowledged before", async () => {
    const env = childEnv(`file:${join(dir, "live.db")}`, configPath);
    const server = await startVerityProcess(env, started);
    for (let n = 0; n < 50; n++) expect((await deliver(server.url, created(n))).status).toBe(200);
    // Deliveries keep coming while the backup runs.
    let writing = true;
    let n = 50;
    const traffic = (async () => {
      while (writing) await deliver(server.url, created(n++), { settle: false });
    })();
    const out = join(dir, "copy.db");
    const backup = await runVerity(["backup", "--out", out], env, started);
    writing = false;
    await traffic;
    expect(backup.code, backup.output).toBe(0);
    expect(backup.output).toMatch(new RegExp(`backed up .*live\\.db to ${out} \\(\\d+ pages`));
    expect(existsSync(`${out}.partial`)).toBe(false);

    const copy = new Sqlite(out, { readonly: true });
    try {
      expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
      const ids = new Set(copy.prepare(`SELECT "providerEventId" FROM "Event"`).pluck().all() as string[]);
      for (let k = 0; k < 50; k++) expect(ids.has(`evt_bk_${k}`)).toBe(true);
    } finally {
      copy.close();
    }
    // The copy holds one instant: an event stored then may not have been projected yet. Restored,
    // a server catches up on it at start; then the projections are exactly a replay of the log.
    const restored = await openDatabase(`file:${out}`);
    try {
      await new Projector(restored, Either.getOrThrow(loadCatalog(configPath))).catchUp();
    } finally {
      await restored.close();
    }
    const verified = await runVerity(["verify", "--config", configPath], { ...env, DATABASE_URL: `file:${out}` }, started);
    expect(verified.code, verified.output).toBe(0);

    const again = await runVerity(["backup", "--out", out], env, started);
    expect(again.code).toBe(2);
    expect(again.output).toContain(`${out} exists; choose another file or pass --force`);
    expect((await runVerity(["backup", "--out", out, "--force"], env, started)).code).toBe(0);
  }, 120_000);

  it("on PostgreSQL says to use pg_dump", async () => {
    const r = await runVerity(["backup", "--out", join(dir, "x.db")], childEnv("postgresql://verity@127.0.0.1:5432/verity", configPath), started);
    expect(r.code).toBe(2);
    expect(r.output).toContain('DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. pg_dump -Fc -f verity.dump "$DATABASE_URL"');
  });
});
