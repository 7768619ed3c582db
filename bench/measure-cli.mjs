// Runs one `verity` command in this process and reports, on stderr's last line, how long the
// command itself took (without the TypeScript loader's start) and the process's peak memory:
// `node bench/measure-cli.mjs <verity args…>` → `measured {"ms":…,"maxRssBytes":…,"exitCode":…}`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
const start = performance.now();
const exitCode = await main(process.argv.slice(2));
const ms = performance.now() - start;
process.stderr.write(`\nmeasured ${JSON.stringify({ ms, maxRssBytes: process.resourceUsage().maxRSS * 1024, exitCode })}\n`);
process.exit(exitCode);
