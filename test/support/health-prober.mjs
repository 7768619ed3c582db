// A separate process that asks a running Verity for /healthz every few milliseconds and records
// how long each answer took, so a test can tell whether a hostile request stalled the server
// without its own work (building and sending that request) skewing the measure. Usage:
// node health-prober.mjs <base url>; prints "ready" once the first check is answered; on any
// line on stdin it prints a JSON array of { sentAt (epoch ms), ms } and exits.
import http from "node:http";

const url = new URL("/healthz", process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const checks = [];
const now = () => performance.timeOrigin + performance.now();

const check = () =>
  new Promise((resolve) => {
    const sentAt = now();
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => {
        checks.push({ sentAt, ms: now() - sentAt, status: res.statusCode });
        resolve();
      });
    });
    req.on("error", () => {
      checks.push({ sentAt, ms: now() - sentAt, status: 0 });
      resolve();
    });
  });

await check();
process.stdout.write("ready\n");
const timer = setInterval(() => void check(), 5);
process.stdin.once("data", () => {
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify(checks)}\n`, () => process.exit(0));
});
