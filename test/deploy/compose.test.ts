// The deployment files as far as this machine can check them without a Docker engine:
// docker-compose.yml is valid for docker compose (`config`, when a compose binary is here: CI
// installs one), and the image's entrypoint, environment and health checks work when run as the
// image would run them, without Docker: a folder laid out like the image (dist, bin, migrations,
// production dependencies; no src, no TypeScript), the Dockerfile's ENV with compose's environment
// on top, PostgreSQL where compose puts it.
import { execFile, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { freePort, kill, sleep, type Child } from "../support/child-server.js";
import { createTestDatabase, HAS_POSTGRES, type TestDatabase } from "../support/databases.js";
import { spawn } from "node:child_process";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as {
  services: Record<string, { environment?: Record<string, string>; command?: string[]; healthcheck?: { test: string[] }; depends_on?: Record<string, { condition: string }>; volumes?: string[]; env_file?: string }>;
  volumes?: Record<string, unknown>;
};
const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");

/** The compose binary here, if any: the v2 plugin or the standalone one. */
const composeCommand = (): string[] | null => {
  if (spawnSync("docker", ["compose", "version"]).status === 0) return ["docker", "compose"];
  if (spawnSync("docker-compose", ["version"]).status === 0) return ["docker-compose"];
  return null;
};
const COMPOSE = composeCommand();
const REQUIRED = process.env.VERITY_REQUIRE_COMPOSE === "1";
if (COMPOSE === null) console.warn(`${REQUIRED ? "FAILING" : "SKIPPED"}: no docker compose binary to validate docker-compose.yml (apt-get install docker-compose)`);

const dir = mkdtempSync(join(tmpdir(), "verity-compose-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ENV lines of the Dockerfile's final stage, and its ENTRYPOINT and CMD (exec form). */
const imageSpec = () => {
  const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  const env = Object.fromEntries([...final.matchAll(/^ENV (.+)$/gm)].flatMap((m) => [...m[1]!.matchAll(/(\w+)=(\S+)/g)].map((kv) => [kv[1]!, kv[2]!])));
  const json = (instruction: string) => JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, "m").exec(final)![1]!) as string[];
  return { env, entrypoint: json("ENTRYPOINT"), cmd: json("CMD"), user: /^USER (\S+)$/m.exec(final)?.[1] };
};

describe("docker-compose.yml and the Dockerfile", () => {
  it.skipIf(COMPOSE === null && !REQUIRED)("is a valid compose file (docker compose config), with secrets required from .env", async () => {
    expect(COMPOSE, "a docker compose binary").not.toBeNull();
    const project = join(dir, "project");
    mkdirSync(project);
    for (const f of ["docker-compose.yml", "verity.config.json", ".env.example"]) cpSync(join(ROOT, f), join(project, f));
    writeFileSync(join(project, ".env"), `${readFileSync(join(ROOT, ".env.example"), "utf8")}\nPOSTGRES_PASSWORD=compose-test-pw\n`);
    const { stdout } = await run(COMPOSE![0]!, [...COMPOSE!.slice(1), "config"], { cwd: project });
    const resolved = parse(stdout) as typeof compose;
    expect(resolved.services.verity!.environment!.DATABASE_URL).toBe("postgresql://verity:compose-test-pw@postgres:5432/verity");
    // Without the password, compose refuses to start anything.
    writeFileSync(join(project, ".env"), readFileSync(join(ROOT, ".env.example"), "utf8"));
    const refused = await run(COMPOSE![0]!, [...COMPOSE!.slice(1), "config"], { cwd: project }).then(() => null, (e: { stderr: string }) => e.stderr);
    expect(refused).toContain("set POSTGRES_PASSWORD in .env");
  });

  it("declares what production needs: health checks, a named volume, secrets from .env, a non-root image", () => {
    const { verity, postgres } = compose.services;
    expect(verity!.env_file).toBe(".env");
    expect(verity!.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(verity!.healthcheck!.test.join(" ")).toContain("/readyz");
    expect(postgres!.healthcheck!.test.join(" ")).toContain("pg_isready");
    expect(postgres!.volumes).toContain("pgdata:/var/lib/postgresql/data");
    expect(Object.keys(compose.volumes ?? {})).toContain("pgdata");
    expect(imageSpec().user).toBe("node");
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  describe("the image's command, run without Docker", () => {
    const started = new Set<Child>();
    let database: TestDatabase | null = null;
    afterEach(async () => {
      for (const child of started) await kill(child);
      await database?.drop();
      database = null;
    }, 30_000);

    it.skipIf(!HAS_POSTGRES)("serves from dist alone with the image's entrypoint and compose's environment, and its health checks pass", async () => {
      // The image's /app: what the Dockerfile copies into the final stage.
      const app = join(dir, "app");
      mkdirSync(join(app, "bin"), { recursive: true });
      mkdirSync(join(app, "prisma"), { recursive: true });
      cpSync(join(ROOT, "bin", "verity.mjs"), join(app, "bin", "verity.mjs"));
      cpSync(join(ROOT, "package.json"), join(app, "package.json"));
      cpSync(join(ROOT, "verity.config.json"), join(app, "verity.config.json"));
      symlinkSync(join(ROOT, "dist"), join(app, "dist"), "dir");
      symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
      symlinkSync(join(ROOT, "prisma", "migrations"), join(app, "prisma", "migrations"), "dir");

      database = await createTestDatabase("postgresql");
      const image = imageSpec();
      const service = compose.services.verity!;
      const port = await freePort();
      const url = new URL(database.url);
      // Compose's DATABASE_URL names the postgres service; here it is the test database.
      const composeUrl = new URL(service.environment!.DATABASE_URL!.replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", "pw"));
      expect(composeUrl.hostname).toBe("postgres");
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        ...image.env,
        ...service.environment,
        DATABASE_URL: url.href,
        VERITY_CONFIG: join(app, "verity.config.json"),
        PORT: String(port),
        STRIPE_WEBHOOK_SECRET: "whsec_compose",
      };
      expect(image.entrypoint[0]).toBe("node");
      const child = spawn(process.execPath, [...image.entrypoint.slice(1), ...(service.command ?? image.cmd)], { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
      started.add({ process: child, exited, alive: () => child.exitCode === null && child.signalCode === null, output: () => output });

      // The health checks exactly as compose and the Dockerfile run them (their port swapped for this one).
      const check = async (test: readonly string[]) => {
        const args = test.slice(test[0] === "CMD" ? 2 : 1).map((a) => a.replaceAll("4000", String(port)).replace("(process.env.PORT||4000)", String(port)));
        return run(process.execPath, args, { env }).then(() => 0, (e: { code: number }) => e.code);
      };
      const dockerHealth = JSON.parse(/^HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
      let ready = 1;
      for (const deadline = Date.now() + 60_000; ready !== 0 && Date.now() < deadline; ) {
        if (child.exitCode !== null) throw new Error(output);
        ready = await check(service.healthcheck!.test);
        if (ready !== 0) await sleep(200);
      }
      expect(ready, output).toBe(0);
      expect(await check(["CMD", ...dockerHealth])).toBe(0);
      // Compiled JavaScript, not the sources: there are none in the image.
      expect(output).toContain(`Verity listening on http://127.0.0.1:${port} (database: postgresql`);
      const version = await run(process.execPath, [join(app, "bin", "verity.mjs"), "--version"], { cwd: app, env });
      expect(version.stdout.trim()).toMatch(/^verity \d+\.\d+\.\d+$/);
    }, 120_000);
  });
});
