// Test runner configuration. graphql is aliased to its CommonJS entry: Pothos and graphql-yoga
// load that one, and two copies of graphql in one process refuse to work together.
//
// Two projects: everything else in parallel, then the tests that bound the server's health-check
// latency while it takes hostile input, one file at a time once the rest is done. Those bounds are
// about the server, not about two cores shared with a dozen other test files: run beside them, the
// median check measured 105–230 ms against its 100 ms bound; alone, well under it.
import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

const LATENCY_BOUND = ["test/server/hostile-webhooks.http.test.ts", "test/api/hostile-graphql.http.test.ts"];

export default defineConfig({
  resolve: { alias: { graphql: require.resolve("graphql") } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    setupFiles: ["test/support/setup.ts"],
    projects: [
      { extends: true, test: { name: "main", include: ["test/**/*.test.ts"], exclude: LATENCY_BOUND, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: "latency", include: LATENCY_BOUND, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
