// What every `verity sync` CLI test sets up: a test catalog on disk, a fresh migrated database per
// case beside a provider's stand-in API, and everything stopped and dropped after each case.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect } from "vitest";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, type Child } from "../support/child-server.js";
import { createTestDatabase, type DatabaseKindUnderTest, type TestDatabase } from "../support/databases.js";

/** Call inside a describe: registers the cleanup, and returns how to set up a case and run the CLI. */
export const syncHarness = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `verity-${name}-`));
  const configPath = join(dir, "verity.config.json");
  writeFileSync(configPath, testCatalogJson);
  const started = new Set<Child>();
  const apis: { close(): Promise<void> }[] = [];
  let database: TestDatabase | null = null;
  afterEach(async () => {
    for (const child of started) await kill(child);
    for (const api of apis.splice(0)) await api.close();
    await database?.drop();
    database = null;
  }, 30_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    configPath,
    /** Children to stop after the case (a server started with startVerityProcess, say). */
    started,
    /** A fresh, migrated database of `kind`, and the environment that names it and the API's variables. */
    setup: async (kind: DatabaseKindUnderTest, api: { close(): Promise<void> }, variables: Record<string, string>) => {
      apis.push(api);
      database = await createTestDatabase(kind);
      const env = childEnv(database.url, configPath, variables);
      expect((await runVerity(["migrate"], env, started)).code).toBe(0);
      return { env, url: database.url };
    },
    run: (args: string[], env: NodeJS.ProcessEnv) => runVerity(args, env, started),
  };
};
