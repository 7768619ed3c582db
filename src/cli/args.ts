// What every command shares: strict flag parsing (an unknown flag is a usage error, exit 2), the
// error kinds that map to exit codes, and the streams a command writes to.
import { existsSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { Data, Either } from "effect";
import { loadCatalog } from "../config/catalog.js";
import { readSettings, type Settings } from "../config/env.js";
import type { Catalog } from "../domain/catalog.js";
import { parseOperatorInstant } from "../domain/time.js";
import { openDatabase, type Database } from "../store/database.js";
import { databaseKind, sqlitePath } from "../store/url.js";

/** A wrong flag, value or argument: exit 2, with a pointer to --help. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Input that cannot be used (a missing file, a malformed line, an invalid catalog): exit 2. */
export class InputError extends Data.TaggedError("InputError")<{ readonly message: string }> {}

export type Io = {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Where streamed output goes (export); defaults to process.stdout. */
  readonly stdout?: NodeJS.WritableStream;
  /** Where `-` reads from (replay); defaults to process.stdin. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Where progress goes, only when it is a terminal; defaults to process.stderr. */
  readonly stderr?: NodeJS.WritableStream & { readonly isTTY?: boolean };
};

/** Flags parsed strictly (an unknown flag or a missing value is a UsageError); every command also takes --help. */
export type Parsed = { readonly values: Readonly<Record<string, string | boolean | undefined>>; readonly positionals: readonly string[] };

export const parse = (args: string[], options: NonNullable<ParseArgsConfig["options"]>, allowPositionals = false): Parsed => {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError({ message: (e as Error).message });
  }
};

/**
 * An ISO 8601 date or date-time given to a flag (src/domain/time.ts: without an offset, UTC).
 */
export const parseInstant = (text: string, flag: string): number => {
  const t = parseOperatorInstant(text);
  if (t === null) throw new UsageError({ message: `${flag} expects an ISO 8601 date or date-time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z), got "${text}"` });
  return t;
};

/** The plan catalog, or an InputError listing every problem with its JSON path. */
export const catalogAt = (file: string): Catalog => Either.getOrThrowWith(loadCatalog(file), (e) => new InputError({ message: e.message }));

/** The settings from the environment (and a --config flag), or an InputError listing every problem. */
export const settingsFor = (config?: string): Settings =>
  Either.getOrThrowWith(readSettings(process.env, config === undefined ? {} : { config }), (e) => new InputError({ message: e.message }));

/**
 * Opens an existing database. An SQLite file that does not exist is an error here (opening would
 * create an empty one, and an empty log verifies and exports nothing).
 */
export const openExisting = async (url: string): Promise<Database> => {
  if (databaseKind(url) === "sqlite") {
    const file = sqlitePath(url);
    if (file !== ":memory:" && !existsSync(file)) throw new InputError({ message: `no database at ${file} (DATABASE_URL=${url})` });
  }
  return openDatabase(url);
};
