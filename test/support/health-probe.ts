// Runs a hostile request against a running Verity while a separate process (health-prober.mjs)
// asks /healthz every 5 ms, and reports the median latency of the checks sent while the hostile
// request was in flight. The prober is its own process so that neither the test's work (building
// and signing the request) nor a server sharing the test's event loop can skew the measure.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const PROBER = new URL("./health-prober.mjs", import.meta.url).pathname;

type Check = { readonly sentAt: number; readonly ms: number; readonly status: number };

const epochNow = () => performance.timeOrigin + performance.now();

/** The hostile request's result, and the median latency of the health checks sent meanwhile. */
export const whileHealthChecked = async <T>(url: string, hostile: () => Promise<T>): Promise<{ readonly result: T; readonly healthMs: number }> => {
  const prober = spawn(process.execPath, [PROBER, url], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: prober.stdout! })[Symbol.asyncIterator]();
  if ((await lines.next()).value !== "ready") throw new Error("the health prober did not start");
  const start = epochNow();
  const result = await hostile();
  // At least 50 ms of checks, even when the hostile request was answered at once.
  const end = Math.max(epochNow(), start + 50);
  while (epochNow() < end + 20) await new Promise((r) => setTimeout(r, 10));
  prober.stdin!.write("stop\n");
  const checks = JSON.parse((await lines.next()).value as string) as Check[];
  const during = checks.filter((c) => c.sentAt >= start && c.sentAt <= end);
  if (during.length === 0 || during.some((c) => c.status !== 200)) throw new Error(`health checks failed or none ran: ${JSON.stringify(during.slice(0, 5))}`);
  const sorted = during.map((c) => c.ms).sort((a, b) => a - b);
  return { result, healthMs: sorted[Math.floor(sorted.length / 2)]! };
};

/** The health check bound the hostile-input tests hold the server to (the median of checks sent meanwhile). */
export const HEALTH_BOUND_MS = 100;
