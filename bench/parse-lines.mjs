// The floor of any replay: read an export's lines and parse each line and the body it carries,
// nothing else. Reports like measure-cli.mjs: `measured {"ms":…,"maxRssBytes":…,"lines":…}`.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

const start = performance.now();
let lines = 0;
for await (const line of createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity })) {
  if (line.trim() === "") continue;
  const record = JSON.parse(line);
  JSON.parse(record.bodyBase64 === undefined ? record.body : Buffer.from(record.bodyBase64, "base64").toString("utf8"));
  lines++;
}
const ms = performance.now() - start;
process.stderr.write(`\nmeasured ${JSON.stringify({ ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, lines })}\n`);
