// The server's log as an operator reads it: every line on stderr one JSON object with its time,
// level and message; a webhook's lines (its answer, a refusal) carry the delivery's request id;
// VERITY_LOG_LEVEL=debug adds a line per request; a secret never appears.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { stripeSignatureHeader } from "../../src/providers/stripe/verify.js";
import { customer, stripeEvent, toRawBody } from "../builders/stripe.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, sleep, startVerityProcess, type Child } from "../support/child-server.js";
import { TEST_SECRET } from "../support/stripe-delivery.js";

const dir = mkdtempSync(join(tmpdir(), "verity-logs-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
const started = new Set<Child>();
afterEach(async () => {
  for (const child of started) await kill(child);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Line = { time: string; level: string; msg: string; requestId?: string; [k: string]: unknown };
const jsonLines = (output: string): Line[] => output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Line);

describe("logs", () => {
  it("writes JSON lines with the request id of the delivery on each of its lines", async () => {
    const server = await startVerityProcess(childEnv(`file:${join(dir, "logs.db")}`, configPath, { VERITY_LOG_LEVEL: "debug" }), started);
    const body = toRawBody(stripeEvent({ id: "evt_log", type: "customer.created", created: Math.floor(Date.now() / 1000), object: customer({ id: "cus_log", metadata: { user_id: "u_log" } }) }));
    const post = (requestId: string, secret: string) =>
      fetch(`${server.url}/webhooks/stripe`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": requestId, "stripe-signature": stripeSignatureHeader(body, secret, Math.floor(Date.now() / 1000)) },
        body: Buffer.from(body),
      });
    expect((await post("req-log-accepted", TEST_SECRET)).status).toBe(200);
    expect((await post("req-log-forged", "whsec_forged")).status).toBe(400);
    expect((await fetch(`${server.url}/api/users/u_log/entitlements`, { headers: { "x-request-id": "req-log-read" } })).status).toBe(401);
    let lines: Line[] = [];
    for (let i = 0; i < 50 && !lines.some((l) => l.requestId === "req-log-read"); i++) (await sleep(50)), (lines = jsonLines(server.output()));

    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(["debug", "info", "warn", "error"]).toContain(line.level);
      expect(typeof line.msg).toBe("string");
    }
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", msg: "webhook", requestId: "req-log-accepted", provider: "stripe", outcome: "accepted", event: "evt_log" }));
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", requestId: "req-log-forged", provider: "stripe", code: "signature_mismatch" }));
    expect(lines).toContainEqual(expect.objectContaining({ level: "debug", msg: "request", requestId: "req-log-read", method: "GET", path: "/api/users/u_log/entitlements", status: 401 }));
    expect(server.output()).not.toContain(TEST_SECRET);
  }, 60_000);

  it("writes no line per request at the default level", async () => {
    const server = await startVerityProcess(childEnv(`file:${join(dir, "quiet.db")}`, configPath), started);
    await fetch(`${server.url}/api/users/nobody/entitlements`, { headers: { "x-request-id": "req-quiet" } });
    await sleep(200);
    expect(jsonLines(server.output()).filter((l) => l.requestId === "req-quiet")).toEqual([]);
  }, 60_000);

  it("refuses an unknown VERITY_LOG_LEVEL, naming the levels", async () => {
    const env = childEnv(`file:${join(dir, "bad.db")}`, configPath, { VERITY_LOG_LEVEL: "verbose" });
    await expect(startVerityProcess(env, started)).rejects.toThrow('VERITY_LOG_LEVEL must be one of debug, info, warn, error, silent, got "verbose"');
  }, 60_000);
});
