// @verity/client as another project gets it: a project outside this repository links the package
// (as a `file:` dependency or `npm install ../verity/packages/client` does) and imports each entry
// with plain Node, React only from @verity/client/react; TypeScript type-checks a consumer against
// the published declarations; `npm pack` would publish dist (and the README) and nothing else; the package's
// dependencies are the versions the repository installs.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PACKAGE = join(ROOT, "packages", "client");
const manifest = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as {
  name: string;
  version: string;
  type: string;
  sideEffects: boolean;
  files: string[];
  exports: Record<string, { types: string; import: string } | string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
};

describe("the @verity/client package from another project", () => {
  let consumer: string;
  beforeAll(() => {
    consumer = mkdtempSync(join(tmpdir(), "verity-client-consumer-"));
    mkdirSync(join(consumer, "node_modules", "@verity"), { recursive: true });
    symlinkSync(PACKAGE, join(consumer, "node_modules", "@verity", "client"), "dir");
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: { "@verity/client": `file:${PACKAGE}` } }));
  });
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it("is publishable: ESM, exports with types, dist only, React an optional peer, the repository's dependency versions", async () => {
    expect(manifest).toMatchObject({ name: "@verity/client", version: "0.1.0", type: "module", sideEffects: false, files: ["dist"] });
    expect(Object.keys(manifest.exports).sort()).toEqual([".", "./express", "./next", "./package.json", "./react", "./tokens"]);
    const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const installed = { ...root.devDependencies, ...root.dependencies };
    expect(manifest.dependencies).toEqual({ "graphql-sse": installed["graphql-sse"], jose: installed.jose });
    expect(manifest.peerDependenciesMeta).toEqual({ react: { optional: true } });

    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PACKAGE, timeout: 30_000 });
    const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    expect(files.filter((f) => !f.startsWith("dist/")).sort()).toEqual(["README.md", "package.json"]);
    expect(files.filter((f) => f.startsWith("dist/generated/"))).toEqual(["dist/generated/graphql.d.ts", "dist/generated/graphql.js", "dist/generated/graphql.js.map"]);
    for (const entry of Object.values(manifest.exports)) {
      if (typeof entry === "string") continue;
      expect(files).toContain(entry.types.slice(2));
      expect(files).toContain(entry.import.slice(2));
    }
  }, 30_000);

  it("imports every entry by name with plain Node, React only from the react entry", async () => {
    writeFileSync(
      join(consumer, "no-react.mjs"),
      `import { register } from "node:module";
      register("data:text/javascript," + encodeURIComponent('export async function resolve(s, c, next) { if (s === "react" || s.startsWith("react/") || s === "react-dom") throw new Error("loaded " + s); return next(s, c); }'));
      const root = await import("@verity/client");
      const express = await import("@verity/client/express");
      const next = await import("@verity/client/next");
      const tokens = await import("@verity/client/tokens");
      const client = root.createVerityClient({ url: "http://verity.test", apiKey: "k", fetch: async (url) => new Response(JSON.stringify({ plans: [], url: String(url) })) });
      console.log(JSON.stringify({ root: Object.keys(root).sort(), express: Object.keys(express), next: Object.keys(next).sort(), tokens: Object.keys(tokens).sort(), plans: await client.plans() }));`,
    );
    const { stdout } = await run(process.execPath, ["no-react.mjs"], { cwd: consumer, timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({
      root: ["QuotaError", "VerityError", "VerityUnavailableError", "createVerityClient", "secondsUntil"],
      express: ["requireQuota"],
      next: ["quotaResponse", "withQuota"],
      tokens: ["TOKEN_ISSUER", "TokenError", "featureOf", "hasFeature", "verifyEntitlementToken"],
      plans: { plans: [], url: "http://verity.test/api/plans" },
    });
    writeFileSync(join(consumer, "react.mjs"), `const react = await import("@verity/client/react"); console.log(JSON.stringify(Object.keys(react).sort()));`);
    expect(JSON.parse((await run(process.execPath, ["react.mjs"], { cwd: consumer, timeout: 30_000 })).stdout)).toEqual(["VerityProvider", "useEntitlement", "useVerityClient"]);
  }, 60_000);

  it("type-checks a TypeScript consumer against the published declarations", async () => {
    writeFileSync(
      join(consumer, "app.ts"),
      `import { createVerityClient, QuotaError, type CheckResult, type EntitlementsAnswer } from "@verity/client";
      import { requireQuota } from "@verity/client/express";
      import { withQuota } from "@verity/client/next";
      import { useEntitlement } from "@verity/client/react";
      import { hasFeature, verifyEntitlementToken } from "@verity/client/tokens";
      const client = createVerityClient({ url: "http://localhost:4000", apiKey: "vty_…" });
      const all: EntitlementsAnswer = await client.entitlements("user_123");
      const check: CheckResult = await client.check({ userId: "user_123", feature: "api_calls", units: 2 });
      const reason: string | null = check.allowed ? null : check.error.code;
      try {
        await client.recordUsage({ userId: "user_123", feature: "api_calls", units: 1, idempotencyKey: "req-1" });
      } catch (e) {
        if (e instanceof QuotaError) console.log(e.status, e.code, e.resetsAt, e.retryAfterSeconds());
      }
      for await (const t of client.live({ userId: "user_123" })) console.log(t.cursor, t.entity, t.to);
      const gate = requireQuota({ client, feature: "api_calls", userId: (req) => String(req.headers["x-user"]) });
      export const POST = withQuota(async (request: Request, _context: { params: Promise<{}> }) => Response.json({ ok: request.url }), { client, feature: "api_calls", userId: () => "user_123" });
      const claims = await verifyEntitlementToken("token", { url: "http://localhost:4000", audience: "shop.example.com" });
      const hook: (u: string) => boolean = (u) => useEntitlement(u, "export").enabled && hasFeature(claims, "export");
      console.log(all, reason, gate, hook);
      const wrong: number = all.entitlements[0]!.resetsAt;
      `,
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2022", "DOM", "DOM.AsyncIterable"], strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ["app.ts"] }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const failed = await run(process.execPath, [tsc, "-p", "."], { cwd: consumer, timeout: 60_000 }).then(() => null, (e: { stdout: string }) => e.stdout);
    // The one mistake planted on purpose is the only error: every entry and its types resolve, and the declarations check.
    expect(failed).toMatch(/app\.ts\(\d+,\d+\): error TS2322: Type 'string \| null' is not assignable to type 'number'/);
    expect(failed!.match(/error TS\d+/g)).toHaveLength(1);
  }, 60_000);
});
