// The CLI as a user runs it: a child process of bin/verity.mjs.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { authenticate } from "../../src/server/auth.js";
import { openDatabase } from "../../src/store/database.js";
import { signingKeys } from "../../src/store/signing-keys.js";

const run = promisify(execFile);
const BIN = new URL("../../bin/verity.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "verity-cli-"));
const env = { ...process.env, DATABASE_URL: `file:${join(dir, "cli.db")}` };

const verity = async (...args: string[]) => {
  try {
    const r = await run("node", [BIN, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("verity CLI", () => {
  it("runs the JavaScript compiled when the package installed (npm test builds first), not the TypeScript sources", async () => {
    const r = await verity("--version");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.trim()).toMatch(/^verity \d+\.\d+\.\d+$/);
  });

  it("migrates, then reports the database up to date", async () => {
    expect((await verity("migrate")).stdout).toMatch(/applied 0001_init, 0002_append_only, 0003_raw_only_and_rejection_counts/);
    expect((await verity("migrate")).stdout).toMatch(/up to date/);
  });

  it("creates an API key whose last stdout line is the key, stored hashed with its scopes", async () => {
    const r = await verity("keys", "create", "--scopes", "read,events");
    expect(r.code).toBe(0);
    const key = r.stdout.trim().split("\n").at(-1)!;
    expect(key).toMatch(/^vty_/);
    const db = await openDatabase(env.DATABASE_URL);
    try {
      const principal = await authenticate(db, `Bearer ${key}`);
      expect([...(principal?.scopes ?? [])].sort()).toEqual(["events", "read"]);
      expect(await db.prisma.apiKey.count({ where: { hash: key } })).toBe(0);
    } finally {
      await db.close();
    }
  });

  it("registers endpoints for webhooks out: the secret is the last line, list shows them, bad input exits 2", async () => {
    const created = await verity("endpoints", "create", "--url", "https://app.example.com/hooks", "--filter", "entity=subscription");
    expect(created.code).toBe(0);
    const secret = created.stdout.trim().split("\n").at(-1)!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const id = /created endpoint (we_[0-9a-f]+)/.exec(created.stdout)![1]!;
    expect((await verity("endpoints", "list")).stdout).toContain(`${id}\thttps://app.example.com/hooks\tentity=subscription`);
    const rolled = await verity("endpoints", "roll-secret", id);
    expect(rolled.stdout.trim().split("\n").at(-1)).not.toBe(secret);
    expect(await verity("endpoints", "delete", id)).toMatchObject({ code: 0 });
    expect((await verity("endpoints", "list")).stdout).not.toContain(id);
    expect(await verity("endpoints", "create", "--url", "ftp://x")).toMatchObject({ code: 2, stderr: expect.stringContaining("--url must be an http or https URL") });
    expect(await verity("endpoints", "create", "--url", "https://x", "--filter", "plan=pro")).toMatchObject({ code: 2, stderr: expect.stringContaining('--filter: filter "plan=pro" is not key=value') });
    expect((await verity("endpoints", "delete", "we_missing")).code).toBe(2);
  });

  it("adds a token signing key that becomes the newest, keeping the older ones", async () => {
    const first = await verity("keys", "rotate-signing");
    const second = await verity("keys", "rotate-signing");
    expect(first).toMatchObject({ code: 0, stdout: expect.stringMatching(/^added token signing key vk_\S+; servers sign with it within a minute/) });
    const ids = [first, second].map((r) => /key (vk_\S+);/.exec(r.stdout)![1]!);
    const db = await openDatabase(env.DATABASE_URL);
    try {
      expect((await signingKeys(db)).map((k) => k.id)).toEqual([ids[1], ids[0]]);
    } finally {
      await db.close();
    }
    expect((await verity("keys", "rotate-signing", "now")).code).toBe(2);
  });

  it("revokes a key by its id: it is gone from the list and no longer authenticates", async () => {
    const created = await verity("keys", "create", "--scopes", "read");
    const key = created.stdout.trim().split("\n").at(-1)!;
    const id = /created API key (key_[0-9a-f]+)/.exec(created.stdout)![1]!;
    expect((await verity("keys", "list")).stdout).toContain(id);
    const revoked = await verity("keys", "revoke", id);
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringContaining(`revoked ${id}`) });
    expect((await verity("keys", "list")).stdout).not.toContain(id);
    const db = await openDatabase(env.DATABASE_URL);
    try {
      expect(await authenticate(db, `Bearer ${key}`)).toBeNull();
    } finally {
      await db.close();
    }
    const again = await verity("keys", "revoke", id);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no key has the id/);
  });

  it.each([
    [["keys", "revoke"], /revoke needs the key's id/],
    [["keys", "create", "--scope", "read"], /Unknown option '--scope'/],
    [["keys", "create", "--scopes", "write"], /unknown scope "write"/],
    [["keys", "create"], /--scopes is required/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["serve", "--port", "http"], /PORT must be an integer/],
  ])("refuses %j with a clear error and exit code 2", async (args, message) => {
    const r = await verity(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("refuses to serve with a broken plan catalog, naming the path of the mistake", async () => {
    const config = join(dir, "broken.json");
    writeFileSync(config, JSON.stringify({ plans: { pro: { features: { api: { limit: -5, per: "month" } } } } }));
    const r = await verity("serve", "--config", config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("plans.pro.features.api.limit");
  });

  it("prints help for every command", async () => {
    for (const cmd of ["serve", "migrate", "keys", "export", "replay", "verify", "reprocess", "backup", "simulate", "sync"]) {
      const r = await verity(cmd, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: verity/);
    }
    const serve = await verity("serve", "--help");
    for (const variable of ["STRIPE_WEBHOOK_SECRET", "PADDLE_WEBHOOK_SECRET", "LEMONSQUEEZY_WEBHOOK_SECRET", "CREEM_WEBHOOK_SECRET"]) {
      expect(serve.stdout).toContain(variable);
    }
  });
});
