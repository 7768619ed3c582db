// The real server as a child process (`node bin/verity.mjs serve`), for tests that must not share
// an event loop with it: a crash (SIGKILL) mid-burst, or measuring whether hostile input stalls it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiKey } from "../../src/server/auth.js";
import { openDatabase, type Database } from "../../src/store/database.js";
import { testCatalogJson } from "../offline/support.js";
import { createTestDatabase, type DatabaseKindUnderTest } from "./databases.js";
import { TEST_SECRET } from "./stripe-delivery.js";

const BIN = new URL("../../bin/verity.mjs", import.meta.url).pathname;
const HEALTH_TIMEOUT_MS = 60_000;

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

export type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };

export type Child = {
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly alive: () => boolean;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  readonly output: () => string;
};

/** The environment a child runs with: ours, minus anything that would configure Verity otherwise. */
export const childEnv = (databaseUrl: string, configPath: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith("VERITY_") || name.endsWith("_WEBHOOK_SECRET") || name.startsWith("STRIPE_") || /^(PADDLE|LEMONSQUEEZY|CREEM)_API_/.test(name)) delete env[name];
  }
  delete env.PORT;
  return { ...env, DATABASE_URL: databaseUrl, VERITY_CONFIG: configPath, STRIPE_WEBHOOK_SECRET: TEST_SECRET, HOST: "127.0.0.1", ...extra };
};

export const spawnVerity = (args: readonly string[], env: NodeJS.ProcessEnv, started: Set<Child>, cwd?: string): Child => {
  const child = spawn(process.execPath, [...(process.env.VERITY_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.VERITY_CPU_PROF}`] : []), BIN, ...args], { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (s: string) => {
    tail = (tail + s).slice(-20_000);
  };
  child.stdout!.setEncoding("utf8").on("data", keep);
  child.stderr!.setEncoding("utf8").on("data", keep);
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once("error", (e) => {
      keep(`\n[spawn error] ${e.message}\n`);
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once("close", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const handle: Child = { process: child, exited, alive: () => !done, output: () => tail };
  started.add(handle);
  void exited.then(() => started.delete(handle));
  return handle;
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Server = Child & { readonly url: string };

/** `verity serve` on a free port; resolves once GET /readyz answers 200 (started, caught up). */
export const startVerityProcess = async (env: NodeJS.ProcessEnv, started: Set<Child>, cwd?: string): Promise<Server> => {
  const port = await freePort();
  const child = spawnVerity(["serve", "--port", String(port)], env, started, cwd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!child.alive()) throw new Error(`verity serve exited before it was healthy (${JSON.stringify(await child.exited)}):\n${child.output()}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return { ...child, url };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  child.process.kill("SIGKILL");
  throw new Error(`verity serve was not healthy within ${HEALTH_TIMEOUT_MS} ms:\n${child.output()}`);
};

export const kill = async (child: Child): Promise<Exit> => {
  if (child.alive()) child.process.kill("SIGKILL");
  return child.exited;
};

/** `verity <args>` to completion. */
export const runVerity = async (args: readonly string[], env: NodeJS.ProcessEnv, started: Set<Child>, cwd?: string): Promise<Exit & { output: string }> => {
  const child = spawnVerity(args, env, started, cwd);
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 60_000);
  const exit = await child.exited;
  clearTimeout(timer);
  return { ...exit, output: child.output() };
};


/** A `verity serve` process on a fresh database, with the database opened beside it for checks. */
export type ChildVerity = {
  readonly url: string;
  readonly db: Database;
  readonly readKey: string;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
};

/**
 * Starts `verity serve` on a new database of `kind` with the test catalog and `env` (e.g. other
 * providers' secrets); stop() ends it (SIGTERM, SIGKILL after 5 s) and drops the database.
 */
export const startChildVerity = async (kind: DatabaseKindUnderTest, env: NodeJS.ProcessEnv = {}): Promise<ChildVerity> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-child-"));
  const configPath = join(dir, "verity.config.json");
  writeFileSync(configPath, testCatalogJson);
  const database = await createTestDatabase(kind);
  const started = new Set<Child>();
  let server: Server;
  try {
    server = await startVerityProcess(childEnv(database.url, configPath, env), started);
  } catch (e) {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const db = await openDatabase(database.url);
  const readKey = (await createApiKey(db, ["read", "events"], new Date())).key;
  return {
    url: server.url,
    db,
    readKey,
    output: server.output,
    stop: async () => {
      if (server.alive()) server.process.kill("SIGTERM");
      const forced = setTimeout(() => server.process.kill("SIGKILL"), 5000);
      await server.exited;
      clearTimeout(forced);
      await db.close().catch(() => undefined);
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
