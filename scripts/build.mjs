// Compiles src to dist once (run when the package installs, and by `npm run build`), so the CLI and
// `npm start` run JavaScript instead of compiling TypeScript on every start. The dashboard's own
// files are copied beside the compiled server; `dist/.built` marks a finished build: bin/verity.mjs
// runs dist only when no source is newer than that mark.
import { execFileSync } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { stdio: "inherit" });
cpSync("src/dashboard", "dist/dashboard", { recursive: true });
writeFileSync("dist/.built", `${new Date().toISOString()}\n`);
