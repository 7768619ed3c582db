#!/usr/bin/env node
// Entry point of `verity` and `npm start`: runs the compiled JavaScript in dist (built when the
// package installs, or by `npm run build`). When a source is newer than that build (someone is
// editing src) or there is none, it runs the TypeScript sources through tsx instead, so what runs
// is always what src says.
import { readdirSync, statSync } from "node:fs";

const root = new URL("../", import.meta.url);

/** The newest modification time under a folder, in ms. */
const newest = (dir) => {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
};

const built = (() => {
  try {
    return statSync(new URL("dist/.built", root)).mtimeMs;
  } catch {
    return -1;
  }
})();

/** The newest source's time, or -1 where there are no sources (an image holds only dist). */
const sources = (() => {
  try {
    return newest(new URL("src", root).pathname);
  } catch {
    return -1;
  }
})();

let main;
if (built >= 0 && sources <= built) {
  ({ main } = await import("../dist/cli/main.js"));
} else {
  // `verity --version` says so: a stale build is otherwise invisible but for the slower start.
  process.env.VERITY_FROM_SOURCES = "1";
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2), undefined, { dotenvDir: process.cwd() });
