// The offline commands as a user runs them: child processes of bin/verity.mjs against a small
// SQLite database filled through the store (appended and projected as the server does).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Either } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/config/catalog.js";
import { databaseSnapshot, type Snapshot } from "../../src/offline/snapshot.js";
import { openDatabase } from "../../src/store/database.js";
import { testCatalog } from "../builders/histories.js";
import { testCatalogJson } from "../offline/support.js";
import { seedDatabase, seedHistory } from "../support/seed.js";

const BIN = new URL("../../bin/verity.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "verity-offline-cli-"));
const DATABASE_URL = `file:${join(dir, "verity.db")}`;
const CONFIG = join(dir, "verity.config.json");
const env = { ...process.env, DATABASE_URL, VERITY_CONFIG: CONFIG };

type Result = { code: number; stdout: string; stderr: string };

const verity = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn("node", [BIN, ...args], { env: options.env ?? env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });

const history = seedHistory(
  {
    subscription: { trial: false, renewals: 1, pastDue: "none", cancel: "immediately", planChange: "none", paymentSucceededToo: false },
    oneTime: { ownCustomer: false, delayDays: 2, expandRefunds: false, refundTie: false },
  },
  5,
);

const live = async (): Promise<Snapshot> => {
  const db = await openDatabase(DATABASE_URL);
  try {
    return await databaseSnapshot(db);
  } finally {
    await db.close();
  }
};

const withoutReplayFields = (r: Record<string, unknown>): Snapshot => {
  const { users, identities, subscriptions, orders, grants, transitions } = r as Snapshot;
  return { users, identities, subscriptions, orders, grants, transitions };
};

beforeAll(async () => {
  writeFileSync(CONFIG, testCatalogJson);
  const db = await openDatabase(DATABASE_URL);
  try {
    await seedDatabase(db, history);
  } finally {
    await db.close();
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("verity export / replay / verify / reprocess", () => {
  it("uses a config file equal to the test catalog", () => {
    expect(Either.getOrThrow(loadCatalog(CONFIG))).toEqual(testCatalog);
  });

  it("exports to a file and to stdout, and replays the export to exactly the projections", async () => {
    const file = join(dir, "events.ndjson");
    const exported = await verity(["export", "--out", file]);
    expect(exported).toMatchObject({ code: 0, stdout: "" });
    expect(exported.stderr).toMatch(new RegExp(`exported ${history.events.length} events to`));
    const text = readFileSync(file, "utf8");
    expect(text.trimEnd().split("\n")).toHaveLength(history.events.length);
    expect((await verity(["export"])).stdout).toBe(text);

    const replayed = await verity(["replay", file, "--format", "json", "--at", "2024-06-05T00:00:00Z"]);
    expect(replayed.code).toBe(0);
    const result = JSON.parse(replayed.stdout);
    expect(withoutReplayFields(result)).toEqual(await live());
    expect(result.at).toBe("2024-06-05T00:00:00.000Z");
    expect(result.events).toBe(history.events.length);
    const user = result.entitlements.find((u: { appUserId: string }) => u.appUserId === "user_1");
    expect(user.entitlements.find((e: { feature: string }) => e.feature === "export")).toMatchObject({ enabled: true, source: "lifetime" });

    const fromStdin = await verity(["replay", "-", "--format", "json", "--at", "2024-06-05", "--config", CONFIG], { input: text });
    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual(result);

    const table = await verity(["replay", file]);
    expect(table.code).toBe(0);
    for (const heading of ["USERS", "SUBSCRIPTIONS", "ORDERS", "ENTITLEMENTS AT", "TRANSITIONS"]) expect(table.stdout).toContain(heading);
    expect(table.stdout).toMatch(/stripe:sub_U1\s+user_1\s+pro\s+canceled/);
  }, 120_000);

  it("exports only what --since and --provider select", async () => {
    const all = (await verity(["export"])).stdout.trimEnd().split("\n");
    const late = await verity(["export", "--since", "2024-06-02"]);
    expect(late.code).toBe(0);
    const lines = late.stdout.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(all.length);
    expect(all.slice(all.length - lines.length)).toEqual(lines);
    expect((await verity(["export", "--provider", "paddle"])).stdout).toBe("");
  }, 60_000);

  it("verifies clean, finds a forged projection row (exit 1), and is clean again after reprocess", async () => {
    const clean = await verity(["verify"]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^no differences: \d+ events replayed/);

    const db = await openDatabase(DATABASE_URL);
    try {
      await db.prisma.$executeRawUnsafe(`UPDATE "Subscription" SET "status" = 'active' WHERE "id" = 'stripe:sub_U1'`);
    } finally {
      await db.close();
    }
    const dirty = await verity(["verify", "--config", CONFIG]);
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toContain(`subscription stripe:sub_U1 status: projections "active", replay "canceled"`);
    expect(dirty.stdout).toMatch(/1 difference between the projections/);

    const fixed = await verity(["reprocess", "--verbose"]);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(new RegExp(`^reprocessed ${history.events.length} events in one transaction`));
    expect(fixed.stdout).toContain("subscriptions: 0 added, 0 removed, 1 changed");
    expect(fixed.stdout).toContain("users: 0 added, 0 removed, 0 changed");
    expect(fixed.stdout).toContain(`subscription stripe:sub_U1 status: before "active", after "canceled"`);

    expect((await verity(["verify"])).code).toBe(0);
    expect((await verity(["reprocess"])).stdout).toContain("no changes");
  }, 120_000);

  it("reports a malformed line with its line number", async () => {
    const file = join(dir, "broken.ndjson");
    const good = (await verity(["export"])).stdout.split("\n")[0]!;
    writeFileSync(file, `${good}\n\n{"provider":"stripe",oops}\n`);
    const r = await verity(["replay", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3: not valid JSON`);
    writeFileSync(file, `${good}\n{"provider":"stripe","type":"x","occurredAt":"2024-06-01","body":"{}"}\n`);
    expect((await verity(["replay", file])).stderr).toContain(`${file}:2: "providerEventId" must be a non-empty string`);
  }, 60_000);

  it.each([
    [["replay", join(dir, "nope.ndjson")], /cannot read .*nope\.ndjson: no such file/],
    [["replay"], /FILE is required/],
    [["replay", "a.ndjson", "b.ndjson"], /unexpected argument "b.ndjson"/],
    [["replay", "-", "--format", "yaml"], /--format must be json or table, got "yaml"/],
    [["replay", "-", "--at", "next tuesday"], /--at expects an ISO 8601 date/],
    [["replay", "-", "--config", join(dir, "missing.json")], /invalid plan catalog .*missing\.json/],
    [["export", "--since", "2024-13-45"], /--since expects an ISO 8601 date/],
    [["export", "--provider", "paypal"], /unknown provider "paypal"/],
    [["export", "--out", join(dir, "no-such-dir", "x.ndjson")], /cannot write .*x\.ndjson/],
    [["export", "--bogus"], /Unknown option '--bogus'/],
    [["replay", "-", "--bogus"], /Unknown option '--bogus'/],
    [["verify", "--bogus"], /Unknown option '--bogus'/],
    [["reprocess", "--bogus"], /Unknown option '--bogus'/],
  ])("refuses %j with a clear error and exit code 2", async (args, message) => {
    const r = await verity(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it("refuses to work on a database that does not exist", async () => {
    const missing = `file:${join(dir, "absent.db")}`;
    for (const cmd of ["export", "verify", "reprocess"]) {
      const r = await verity([cmd], { env: { ...env, DATABASE_URL: missing } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no database at ${join(dir, "absent.db")}`);
    }
  }, 60_000);

  it("prints help for every command, and lists the offline commands", async () => {
    for (const cmd of ["serve", "migrate", "keys", "export", "replay", "verify", "reprocess"]) {
      const r = await verity([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: verity ${cmd}`));
    }
    const top = await verity(["--help"]);
    for (const cmd of ["export", "replay", "verify", "reprocess"]) expect(top.stdout).toMatch(new RegExp(`^  ${cmd}\\s`, "m"));
  }, 60_000);
});
