// The published provider fixtures, read in place: $VERITY_FIXTURES, by default
// ../shared/fixtures/providers next to the repo, one folder per provider. A provider whose folder is
// absent has its conformance suites skipped (describe.skipIf(!fixtures.exist)), and one warning
// says where they were looked for, so a skipped suite is never mistaken for a passing one.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Provider } from "../../src/domain/provider.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixturesRoot = process.env["VERITY_FIXTURES"] ?? path.resolve(repoRoot, "../shared/fixtures/providers");

export type ProviderFixtures = {
  readonly dir: string;
  readonly exist: boolean;
  /** A file's exact bytes: what the provider signed. */
  readonly bytes: (file: string) => Buffer;
  readonly json: (file: string) => unknown;
  /** The top-level event bodies: every .json file but the signature vectors, sorted. */
  readonly eventFiles: () => string[];
};

/** One provider's fixture folder; `name` is how the warning spells the provider ("Lemon Squeezy"). */
export const providerFixtures = (provider: Provider, name: string): ProviderFixtures => {
  const dir = path.join(fixturesRoot, provider);
  const exist = existsSync(dir);
  if (!exist) {
    console.warn(`[${provider} conformance] SKIPPED: no ${name} fixtures at ${dir} (set VERITY_FIXTURES to the providers fixture folder)`);
  }
  const bytes = (file: string): Buffer => readFileSync(path.join(dir, file));
  return {
    dir,
    exist,
    bytes,
    json: (file) => JSON.parse(bytes(file).toString("utf8")),
    eventFiles: () =>
      readdirSync(dir)
        .filter((f) => f.endsWith(".json") && !f.startsWith("signature_vectors") && statSync(path.join(dir, f)).isFile())
        .sort(),
  };
};
