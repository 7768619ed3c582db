// API keys across processes, as an operator uses them: `verity keys create --name` in one process,
// a running server in another; the key works at once, and `verity keys revoke` stops it in the
// server at once (on SQLite the next request; on PostgreSQL as soon as NOTIFY arrives), well
// before the key cache's 5-second backstop. A missing key and an unknown one are told apart.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { KEY_TTL_MS } from "../../src/store/read-model.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, sleep, startVerityProcess, type Child } from "../support/child-server.js";
import { createTestDatabase, KINDS, type TestDatabase } from "../support/databases.js";

const dir = mkdtempSync(join(tmpdir(), "verity-keys-"));
const configPath = join(dir, "verity.config.json");
writeFileSync(configPath, testCatalogJson);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const body = async (res: Response) => ({ status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } });

describe.each(KINDS)("API keys across processes (%s)", (kind) => {
  const started = new Set<Child>();
  let database: TestDatabase | null = null;

  afterEach(async () => {
    for (const child of started) await kill(child);
    await database?.drop();
    database = null;
  }, 30_000);

  it("a key made by the CLI works at once; revoked by the CLI, the running server refuses it at once with invalid_api_key", async () => {
    database = await createTestDatabase(kind);
    const env = childEnv(database.url, configPath);
    const server = await startVerityProcess(env, started);

    const created = await runVerity(["keys", "create", "--scopes", "read", "--name", "billing page"], env, started);
    expect(created.code).toBe(0);
    const key = created.output.trim().split("\n").at(-1)!;
    const id = /created API key (key_[0-9a-f]+) "billing page"/.exec(created.output)![1]!;
    expect((await runVerity(["keys", "list"], env, started)).output).toMatch(new RegExp(`^${id}\\tbilling page\\tread\\t\\d{4}-`, "m"));

    const read = (headers: Record<string, string>) => fetch(`${server.url}/api/users/nobody/entitlements`, { headers }).then(body);
    const graphql = (headers: Record<string, string>) =>
      fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query: "{ user(id: \"nobody\") { id } }" }) }).then(body);
    const withKey = { authorization: `Bearer ${key}` };
    // Accepted (the user is unknown, the key is not), twice: the second answer comes from the key cache.
    expect((await read(withKey)).body.error?.code).toBe("user_not_found");
    expect((await read(withKey)).body.error?.code).toBe("user_not_found");
    expect((await graphql(withKey)).status).toBe(200);

    expect(await read({})).toEqual({ status: 401, body: { error: { code: "unauthorized", message: "an API key is required: send Authorization: Bearer <key>" } } });
    expect(await read({ authorization: "Bearer vty_not_a_key" })).toEqual({ status: 401, body: { error: { code: "invalid_api_key", message: "this key is not known or was revoked" } } });
    expect((await graphql({ authorization: "Bearer vty_not_a_key" })).status).toBe(401);

    const revoked = await runVerity(["keys", "revoke", id], env, started);
    expect(revoked.code).toBe(0);
    const since = Date.now();
    let answer = await read(withKey);
    // SQLite: the very next request. PostgreSQL: NOTIFY is asynchronous; allow it a moment.
    while (kind === "postgresql" && answer.status !== 401 && Date.now() - since < 1_000) (await sleep(20)), (answer = await read(withKey));
    expect(answer).toEqual({ status: 401, body: { error: { code: "invalid_api_key", message: "this key is not known or was revoked" } } });
    expect(Date.now() - since).toBeLessThan(KEY_TTL_MS / 2);
    expect((await graphql(withKey)).body).toMatchObject({ errors: [{ extensions: { code: "invalid_api_key" } }] });
  }, 90_000);
});

describe("keys create", () => {
  const started = new Set<Child>();
  afterEach(async () => {
    for (const child of started) await kill(child);
  });

  it("refuses an unknown scope or an unusable name, naming the scopes", async () => {
    const env = childEnv(`file:${join(dir, "flags.db")}`, configPath);
    const scope = await runVerity(["keys", "create", "--scopes", "read,write"], env, started);
    expect(scope.code).toBe(2);
    expect(scope.output).toContain('unknown scope "write"; scopes are read, events, usage:write, tokens:write, dashboard, metrics, admin');
    const name = await runVerity(["keys", "create", "--scopes", "read", "--name", "tab\there"], env, started);
    expect(name.code).toBe(2);
    expect(name.output).toContain("--name must be 1 to 64 letters, digits, punctuation or spaces");
  });
});
