// The export's filters and cut, replay's handling of input it cannot use, and the library entry
// `verity/replay` as a package consumer imports it.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportEvents } from "../../src/offline/export.js";
import { decodeLine } from "../../src/offline/ndjson.js";
import { ExportFormatError, replay } from "../../src/offline/replay.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { snapshotOf } from "../../src/offline/verify.js";
import type { Database } from "../../src/store/database.js";
import { testCatalog } from "../builders/histories.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { appendStripeEvent } from "../support/append.js";
import { openTestDatabase } from "../support/databases.js";
import { seedDatabase, seedHistory } from "../support/seed.js";
import { exportLines } from "./support.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const history = seedHistory(
  {
    subscription: { trial: true, renewals: 2, pastDue: "recovered", cancel: "at_period_end", planChange: "switch", paymentSucceededToo: true },
    oneTime: { ownCustomer: true, delayDays: 3, expandRefunds: true, refundTie: true },
  },
  11,
);

describe("export", () => {
  let db: Database;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ db, close } = await openTestDatabase("sqlite"));
    await seedDatabase(db, history);
  });
  afterEach(async () => close());

  it("--since keeps the events that occurred at or after T, still in canonical order", async () => {
    const all = (await exportLines(db)).map((l) => decodeLine(l)!);
    const since = all[Math.floor(all.length / 2)]!.occurredAt;
    const some = (await exportLines(db, { since })).map((l) => decodeLine(l)!);
    expect(some.length).toBeGreaterThan(0);
    expect(some.map((e) => e.providerEventId)).toEqual(all.filter((e) => e.occurredAt >= since).map((e) => e.providerEventId));
  });

  it("--provider keeps one provider's events", async () => {
    expect(await exportLines(db, { provider: "paddle" })).toEqual([]);
    expect(await exportLines(db, { provider: "stripe" })).toHaveLength(history.events.length);
  });

  it("holds the events stored when it began, even while more arrive", async () => {
    const iterator = exportEvents(db, { pageSize: 2 });
    const first = await iterator.next();
    expect(first.done).toBe(false);
    await appendStripeEvent(db, stripeEvent({ id: "evt_late", type: "customer.created", created: 1_900_000_000, object: customer({ id: "cus_late" }) }));
    let count = 1;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) count += 1;
    expect(count).toBe(history.events.length);
  });

  it("replays to the projections from lines in any order, with duplicates and blank lines", async () => {
    const lines = await exportLines(db);
    const shuffled = ["", ...[...lines].reverse(), lines[0]!, "  "];
    const r = await replay(shuffled, testCatalog, { at: new Date("2024-07-01T00:00:00Z") });
    expect(snapshotOf(r)).toEqual(await databaseSnapshot(db));
    expect(r.events).toBe(lines.length);
    expect(r.at).toBe("2024-07-01T00:00:00.000Z");
    const user = r.entitlements.find((u) => u.appUserId === "user_1")!;
    expect(user.entitlements.find((e) => e.feature === "export")).toMatchObject({ enabled: true });
  });

  it("replay refuses a body that is not JSON, naming its line", async () => {
    const lines = await exportLines(db);
    const broken = JSON.stringify({ ...JSON.parse(lines[1]!), body: "{oops" });
    await expect(replay([lines[0]!, broken], testCatalog, { at: 0 })).rejects.toThrow(ExportFormatError);
    await expect(replay([lines[0]!, broken], testCatalog, { at: 0 })).rejects.toThrow(/^line 2: stripe event evt_\w+: body is not valid JSON/);
  });
});

describe("the library entry verity/replay", () => {
  // A project outside this repository that depends on Verity (as `npm install ../verity` links it),
  // importing the compiled entry with plain Node and type-checking against its declarations.
  let consumer: string;
  beforeEach(() => {
    consumer = mkdtempSync(join(tmpdir(), "verity-consumer-"));
    mkdirSync(join(consumer, "node_modules"));
    symlinkSync(ROOT, join(consumer, "node_modules", "verity"), "dir");
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  });
  afterEach(() => rmSync(consumer, { recursive: true, force: true }));

  const script = `
    import { replay } from "verity/replay";
    const body = JSON.stringify({ id: "evt_a", object: "event", type: "customer.created", created: 1717200000,
      data: { object: { id: "cus_A", object: "customer", email: "a@example.com", metadata: { user_id: "u1" } } } });
    const r = await replay([{ provider: "stripe", providerEventId: "evt_a", type: "customer.created", occurredAt: "2024-06-01T00:00:00Z", body }],
      { plans: {}, grace: { pastDueDays: 0 }, userIdKeys: ["user_id"] }, { at: 0 });
    const emails: (string | null)[] = r.users.map((u) => u.email);
    console.log(JSON.stringify({ users: r.users, emails }));`;

  it("imports by package name with plain Node from another project and replays records", async () => {
    writeFileSync(join(consumer, "audit.mjs"), script.replace(": (string | null)[]", ""));
    const { stdout } = await run(process.execPath, ["audit.mjs"], { cwd: consumer, timeout: 30_000 });
    expect(JSON.parse(stdout).users).toEqual([expect.objectContaining({ appUserId: "u1", email: "a@example.com", keys: ["app:u1", "customer:stripe:cus_A"] })]);
  });

  it("type-checks a TypeScript consumer against the published declarations", async () => {
    writeFileSync(join(consumer, "audit.ts"), `${script}\nconst wrong: number = r.users[0]!.email;\n`);
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ["audit.ts"] }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const failed = await run(process.execPath, [tsc, "-p", "."], { cwd: consumer, timeout: 60_000 }).then(() => null, (e: { stdout: string }) => e.stdout);
    // The one mistake planted on purpose is the only error: the entry and its types resolve.
    expect(failed).toMatch(/audit\.ts\(\d+,\d+\): error TS2322: Type 'string \| null' is not assignable to type 'number'/);
    expect(failed!.match(/error TS\d+/g)).toHaveLength(1);
  }, 60_000);
});
