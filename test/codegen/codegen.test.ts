// The typed clients generated from schema.graphql (the example client's examples/client/*.graphql and
// the client package's packages/client/src/operations/*.graphql) are current: the generator runs in
// memory (nothing is written) and its output must equal the committed files byte for byte. When
// this fails, run `npm run codegen` and commit the result.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateClient, TARGETS } from "../../codegen.js";

const root = new URL("../../", import.meta.url);

const readCommitted = (path: string): string | null => {
  try {
    return readFileSync(new URL(path, root), "utf8");
  } catch {
    return null;
  }
};

/** Where two texts first differ: line, column and a little of each side from there. */
const firstDifference = (generated: string, committed: string): string => {
  const a = generated.split("\n");
  const b = committed.split("\n");
  const i = a.findIndex((line, n) => line !== b[n]);
  const n = i === -1 ? a.length : i;
  const [x = "", y = ""] = [a[n], b[n]];
  let col = 0;
  while (col < x.length && x[col] === y[col]) col++;
  const around = (s: string | undefined) => (s === undefined ? "<end of file>" : JSON.stringify(s.slice(Math.max(0, col - 30), col + 50)));
  return `line ${n + 1}, column ${col + 1}: generated ${around(a[n])} / committed ${around(b[n])}`;
};

describe("generated GraphQL client (codegen.ts)", () => {
  it("is up to date with schema.graphql and the documents of the example client and the client package", async () => {
    const files = await generateClient();
    expect(files.map((f) => f.path)).toEqual(["examples/client/generated/graphql.ts", "packages/client/src/generated/graphql.ts"]);
    for (const file of files) {
      const committed = readCommitted(file.path);
      if (committed === null) expect.fail(`${file.path} is missing: run npm run codegen`);
      if (committed !== file.content) expect.fail(`${file.path} is stale (${firstDifference(file.content, committed)}): run npm run codegen`);
    }
    // No leftovers from an earlier run: each output folder holds exactly what the generator produces.
    for (const { outputFile } of TARGETS) {
      const folder = outputFile.slice(0, outputFile.lastIndexOf("/") + 1);
      const present = readdirSync(new URL(folder, root)).map((name) => folder + name).sort();
      expect(present, `stale files in ${folder}: delete them and run npm run codegen`).toEqual(files.filter((f) => f.path.startsWith(folder)).map((f) => f.path).sort());
    }
  });

  it("gives the same output on every run, free of machine-specific paths", async () => {
    const [a, b] = await Promise.all([generateClient(), generateClient()]);
    expect(a).toEqual(b);
    for (const file of a) expect(file.content).not.toContain(fileURLToPath(root));
  });
});
