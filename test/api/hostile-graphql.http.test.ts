// Hostile GraphQL requests against the real server process, on SQLite and PostgreSQL: a request
// without a valid key is refused 401 before any parsing; with a key, what a request may cost is
// bounded before it executes (body size, tokens, depth, aliases, directives, estimated cost) and
// refused 400 with a stable code; strings no stored value can hold (NUL) are a 400; the health
// check keeps answering meanwhile. Introspection and GraphiQL follow the operator's settings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KINDS } from "../support/databases.js";
import { startChildVerity, type ChildVerity } from "../support/child-server.js";
import { HEALTH_BOUND_MS, whileHealthChecked } from "../support/health-probe.js";

type GraphqlAnswer = {
  readonly status: number;
  readonly body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[]; error?: { code: string; message: string } };
};

const post = async (url: string, payload: string, key: string | null, path = "/graphql"): Promise<GraphqlAnswer> => {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: payload,
  });
  return { status: res.status, body: (await res.json()) as GraphqlAnswer["body"] };
};
const query = (url: string, text: string, key: string | null, variables?: unknown) => post(url, JSON.stringify({ query: text, variables }), key);

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: user(id: "u${i}") { entitlements { feature } subscription { status } }`).join(" ")} }`;
/** A user with (nearly) every field: its estimated cost is 108, ten of them cost more than 1,000. */
const RICH_USER =
  "user(id: \"u\") { id verityId appUserId email status createdAt customerIds entitlements { feature enabled source limit used remaining resetsAt } " +
  "subscriptions { provider id plan status priceIds currentPeriodStart currentPeriodEnd cancelAtPeriodEnd canceledAt startedAt endedAt trialStart trialEnd providerStatus } " +
  "orders { id provider kind plan amount amountRefunded currency status paidAt } transitions { entity entityId field from to at cause } }";
const richAliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${RICH_USER}`).join(" ")} }`;
const INTROSPECTION = "{ __schema { queryType { name } types { name fields { name type { name ofType { name ofType { name } } } } } } }";

const codeOf = (a: GraphqlAnswer) => a.body.errors?.[0]?.extensions?.code ?? a.body.error?.code;

describe.each(KINDS)("hostile GraphQL on %s", (kind) => {
  let s: ChildVerity;
  beforeAll(async () => {
    s = await startChildVerity(kind);
  }, 90_000);
  afterAll(async () => s?.stop());

  it("refuses a 650 KB alias bomb without a key, or with a wrong one, with 401 before parsing it, and stays healthy", async () => {
    const bomb = JSON.stringify({ query: aliases(20_000) });
    expect(bomb.length).toBeGreaterThan(650_000);
    for (const [key, code, message] of [
      [null, "unauthorized", "an API key is required: send Authorization: Bearer <key>"],
      ["vty_wrong", "invalid_api_key", "this key is not known or was revoked"],
    ] as const) {
      const { result, healthMs } = await whileHealthChecked(s.url, () => post(s.url, bomb, key));
      expect(result.status).toBe(401);
      expect(result.body.error).toEqual({ code, message });
      expect(codeOf(result)).toBe(code);
      expect(healthMs).toBeLessThan(HEALTH_BOUND_MS);
    }
  });

  it("with a key, refuses what would cost too much before executing it, each with a clear 400 (413 for the body)", async () => {
    const cases: [name: string, payload: string, status: number, code: string, message: RegExp][] = [
      ["20,000 aliases (650 KB)", JSON.stringify({ query: aliases(20_000) }), 413, "payload_too_large", /at most 65536 bytes/],
      ["1,500 aliases (under the body limit)", JSON.stringify({ query: aliases(1_500).slice(0, 60_000) }), 400, "query_too_complex", /Token limit of 1000/],
      ["16 aliases", JSON.stringify({ query: aliases(16) }), 400, "query_too_complex", /Aliases limit of 15/],
      ["a selection nested 20,000 deep", JSON.stringify({ query: `${"{a".repeat(20_000)}${"}".repeat(20_000)}` }), 400, "query_too_complex", /Token limit/],
      ["a list argument nested 100,000 deep", JSON.stringify({ query: `{ user(id: ${"[".repeat(100_000)}${"]".repeat(100_000)}) { id } }` }), 413, "payload_too_large", /bytes/],
      ["a list argument nested 30,000 deep", JSON.stringify({ query: `{ user(id: ${"[".repeat(30_000)}${"]".repeat(30_000)}) { id } }` }), 400, "query_too_complex", /Token limit/],
      ["fields nested 10 deep", JSON.stringify({ query: '{ user(id: "u") { a { b { c { d { e { f { g { h { i } } } } } } } } } }' }), 400, "query_too_complex", /Query depth limit of 8/],
      ["10 aliases of a user with every field", JSON.stringify({ query: richAliases(10) }), 400, "query_too_complex", /Query Cost limit of 1000 exceeded/],
      ["11 directives", JSON.stringify({ query: `{ __typename ${"@skip(if: false) ".repeat(11)} }` }), 400, "query_too_complex", /Directives limit of 10/],
    ];
    for (const [name, payload, status, code, message] of cases) {
      const { result, healthMs } = await whileHealthChecked(s.url, () => post(s.url, payload, s.readKey));
      expect({ name, status: result.status, code: codeOf(result) }).toEqual({ name, status, code });
      expect(result.body.errors?.[0]?.message ?? "").toMatch(message);
      expect(healthMs).toBeLessThan(HEALTH_BOUND_MS);
    }
    // The documented queries stay well within every limit.
    const documented = await query(
      s.url,
      `{ user(id: "user_123") { id entitlements { feature enabled source limit used remaining resetsAt } subscription { provider id plan status currentPeriodEnd cancelAtPeriodEnd } } }`,
      s.readKey,
    );
    expect(documented).toEqual({ status: 200, body: { data: { user: null } } });
    expect((await query(s.url, aliases(15), s.readKey)).status).toBe(200);
    expect((await query(s.url, richAliases(6), s.readKey)).status).toBe(200);
  });

  it("refuses NUL in a literal or a variable with 400 invalid_parameter", async () => {
    const literal = await query(s.url, '{ user(id: "\\u0000") { id } }', s.readKey);
    const variable = await query(s.url, "query($id: String!) { user(id: $id) { id } }", s.readKey, { id: "a\u0000b" });
    const filter = await query(s.url, '{ entitlement(userId: "u", feature: "x\\u0000") { enabled } }', s.readKey);
    for (const answer of [literal, variable, filter]) {
      expect(answer.status).toBe(400);
      expect(codeOf(answer)).toBe("invalid_parameter");
    }
  });

  it("introspects with any valid key and not without one (the default); serves GraphiQL from itself", async () => {
    const withKey = await query(s.url, INTROSPECTION, s.readKey);
    expect(withKey.status).toBe(200);
    expect((withKey.body.data as { __schema: { queryType: { name: string } } }).__schema.queryType.name).toBe("Query");
    expect((await query(s.url, INTROSPECTION, null)).status).toBe(401);
    const page = await fetch(`${s.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("GraphiQL");
    // Nothing is fetched from a CDN: no script or stylesheet from another host.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
    expect(html).not.toContain("unpkg.com");
  });
});

describe("GraphQL settings (VERITY_INTROSPECTION, VERITY_GRAPHIQL)", () => {
  const servers: ChildVerity[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  const start = async (env: NodeJS.ProcessEnv) => {
    const s = await startChildVerity("sqlite", env);
    servers.push(s);
    return s;
  };

  it("public: introspection without a key, and nothing else", async () => {
    const s = await start({ VERITY_INTROSPECTION: "public" });
    expect((await query(s.url, INTROSPECTION, null)).status).toBe(200);
    const data = await query(s.url, '{ __typename user(id: "u") { id } }', null);
    expect(data.status).toBe(401);
    expect(codeOf(data)).toBe("unauthorized");
    // The limits hold for requests without a key too.
    expect(codeOf(await query(s.url, aliases(1_500).slice(0, 60_000), null))).toBe("query_too_complex");
  }, 90_000);

  it("off: no introspection even with a key; GraphiQL off: the page is not served", async () => {
    const s = await start({ VERITY_INTROSPECTION: "off", VERITY_GRAPHIQL: "off" });
    const answer = await query(s.url, INTROSPECTION, s.readKey);
    expect(answer.status).toBe(403);
    expect(codeOf(answer)).toBe("introspection_disabled");
    expect(answer.body.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    expect((await query(s.url, '{ user(id: "u") { id } }', s.readKey)).status).toBe(200);
    const page = await fetch(`${s.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(401);
  }, 90_000);

  it("a wrong setting stops the server with a clear error", async () => {
    await expect(startChildVerity("sqlite", { VERITY_INTROSPECTION: "sometimes" })).rejects.toThrow(/VERITY_INTROSPECTION must be one of key, public, off, got "sometimes"/);
  }, 90_000);
});
