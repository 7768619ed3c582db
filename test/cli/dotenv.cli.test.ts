// `.env` as a user keeps it: `verity serve` started in a folder holding one takes its database and
// webhook secret (a secret there used to be ignored, leaving every webhook refused with 503); a
// variable set in the shell wins; a line it cannot read stops the command with its number.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { customer, stripeEvent } from "../builders/stripe.js";
import { testCatalogJson } from "../offline/support.js";
import { childEnv, kill, runVerity, startVerityProcess, type Child } from "../support/child-server.js";
import { deliver } from "../support/stripe-delivery.js";

const dir = mkdtempSync(join(tmpdir(), "verity-dotenv-cli-"));
const started = new Set<Child>();
const SECRET = "whsec_from_the_dotenv_file";

/** The test environment without what .env is meant to provide. */
const bareEnv = (): NodeJS.ProcessEnv => {
  const env = childEnv("unused", join(dir, "verity.config.json"));
  delete env.DATABASE_URL;
  delete env.STRIPE_WEBHOOK_SECRET;
  return env;
};

afterEach(async () => {
  for (const child of started) await kill(child);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(".env in the working directory", () => {
  it("serve takes DATABASE_URL and the webhook secret from it, and says which names it read", async () => {
    writeFileSync(join(dir, "verity.config.json"), testCatalogJson);
    writeFileSync(join(dir, ".env"), `# kept beside the app\nDATABASE_URL=file:./from-dotenv.db\nSTRIPE_WEBHOOK_SECRET="${SECRET}"\n`);
    const server = await startVerityProcess(bareEnv(), started, dir);
    const res = await deliver(server.url, stripeEvent({ id: "evt_dotenv", type: "customer.created", created: Math.floor(Date.now() / 1000), object: customer({ id: "cus_dotenv", metadata: { user_id: "u_dotenv" } }) }), { secret: SECRET });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(existsSync(join(dir, "from-dotenv.db"))).toBe(true);
    expect(server.output()).toContain(`read DATABASE_URL, STRIPE_WEBHOOK_SECRET from ${join(dir, ".env")}`);
    expect(server.output()).not.toContain(SECRET);
  }, 60_000);

  it("a variable set in the shell wins over the file", async () => {
    writeFileSync(join(dir, ".env"), "DATABASE_URL=file:./from-dotenv-2.db\n");
    const migrated = await runVerity(["migrate"], { ...bareEnv(), DATABASE_URL: `file:${join(dir, "from-shell.db")}` }, started, dir);
    expect(migrated.code).toBe(0);
    expect(existsSync(join(dir, "from-shell.db"))).toBe(true);
    expect(existsSync(join(dir, "from-dotenv-2.db"))).toBe(false);
  });

  it("a line it cannot read stops the command with exit 2, naming the file and line", async () => {
    writeFileSync(join(dir, ".env"), "DATABASE_URL=file:./never.db\nSTRIPE_WEBHOOK_SECRET whsec_missing_equals\n");
    const r = await runVerity(["migrate"], bareEnv(), started, dir);
    expect(r.code).toBe(2);
    expect(r.output).toContain(`verity: ${join(dir, ".env")} line 2: expected NAME=value, got "STRIPE_WEBHOOK_SECRET whsec_missing_equals"`);
    expect(existsSync(join(dir, "never.db"))).toBe(false);
  });
});
