// Test databases that live for one test: each opened one is closed and dropped after the test
// that opened it (call at the top level of a test file, where vitest's afterEach applies).
import { afterEach } from "vitest";
import { openTestDatabase, type DatabaseKindUnderTest } from "./databases.js";

export const databasesPerTest = (): ((kind: DatabaseKindUnderTest) => ReturnType<typeof openTestDatabase>) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });
  return async (kind) => {
    const opened = await openTestDatabase(kind);
    cleanup.push(opened.close);
    return opened;
  };
};
