// How long the CLI takes to start: `verity --help` and `verity keys list` (which opens the store),
// median of several runs, against bare Node starting and exiting in the same run.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = new URL("../bin/verity.mjs", import.meta.url).pathname;
const RUNS = 5;

const medianMs = (args: readonly string[], env: NodeJS.ProcessEnv = process.env): number => {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, args, { env, stdio: "ignore" });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
};

export type CliBench = { readonly helpMs: number; readonly keysListMs: number; readonly bareNodeMs: number; readonly compiled: boolean };

export const benchCli = async (): Promise<CliBench> => {
  const dir = mkdtempSync(join(tmpdir(), "verity-bench-cli-"));
  try {
    const env = { ...process.env, DATABASE_URL: `file:${join(dir, "cli.db")}` };
    execFileSync(process.execPath, [BIN, "migrate"], { env, stdio: "ignore" });
    const compiled = !execFileSync(process.execPath, [BIN, "--version"], { encoding: "utf8" }).includes("TypeScript sources");
    const result = { helpMs: medianMs([BIN, "--help"]), keysListMs: medianMs([BIN, "keys", "list"], env), bareNodeMs: medianMs(["-e", "0"]), compiled };
    console.log(
      `cli: verity --help ${result.helpMs.toFixed(0)} ms, verity keys list ${result.keysListMs.toFixed(0)} ms; bare Node ${result.bareNodeMs.toFixed(0)} ms` +
        (compiled ? "" : " (from the TypeScript sources: run npm run build first)"),
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
