// Compiles src to dist once (run when the package installs, and by `npm run build`), so the CLI and
// `npm start` run JavaScript instead of compiling TypeScript on every start. The dashboard's own
// files are copied beside the compiled server; `dist/.built` marks a finished build: bin/verity.mjs
// runs dist only when no source is newer than that mark. The client package (packages/client) is
// compiled to its own dist with its own, stricter-for-browsers tsconfig, which type-checks it too.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tsc = (project) => execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", project], { stdio: "inherit" });
tsc("tsconfig.build.json");
cpSync("src/dashboard", "dist/dashboard", { recursive: true });
writeFileSync("dist/.built", `${new Date().toISOString()}\n`);
// Emptied first: a module removed from the package's src must not linger in what it publishes.
rmSync("packages/client/dist", { recursive: true, force: true });
tsc("packages/client/tsconfig.json");
