// `.env`: settings kept in a file beside the app (secrets, DATABASE_URL) rather than exported in the
// shell. The CLI reads the one in its working directory before anything else; a variable set in the
// environment wins over the file. The format is the common one (KEY=value, `export KEY=value`,
// "double" or 'single' quotes, # comments); a line it cannot read is an error naming the line, not
// a setting silently lost.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Data, Either } from "effect";

export class DotEnvError extends Data.TaggedError("DotEnvError")<{ readonly message: string }> {}

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

const valueOf = (raw: string): Either.Either<string, string> => {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const end = raw.indexOf(quote, 1);
    // A backslash escapes a double quote inside double quotes.
    const close = quote === '"' ? /^"((?:[^"\\]|\\.)*)"/.exec(raw) : end > 0 ? [raw.slice(0, end + 1), raw.slice(1, end)] : null;
    if (close === null) return Either.left(`the ${quote === '"' ? "double" : "single"} quote is not closed on this line`);
    const rest = raw.slice(close[0]!.length).trim();
    if (rest !== "" && !rest.startsWith("#")) return Either.left(`unexpected text after the closing quote: ${JSON.stringify(rest.slice(0, 20))}`);
    return Either.right(quote === '"' ? close[1]!.replace(/\\(.)/g, (m, c: string) => ESCAPES[c] ?? m) : close[1]!);
  }
  // Unquoted: up to a " #" comment, trimmed.
  return Either.right(raw.replace(/\s+#.*$/, "").trim());
};

/** The variables a .env text sets, in order; or the first line it cannot read. */
export const parseDotEnv = (text: string, file = ".env"): Either.Either<ReadonlyMap<string, string>, DotEnvError> => {
  const vars = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = LINE.exec(trimmed);
    const fail = (why: string) => Either.left(new DotEnvError({ message: `${file} line ${i + 1}: ${why}` }));
    if (match === null) return fail(`expected NAME=value, got ${JSON.stringify(trimmed.length > 60 ? `${trimmed.slice(0, 60)}…` : trimmed)}`);
    const value = valueOf(match[2]!);
    if (Either.isLeft(value)) return fail(value.left);
    vars.set(match[1]!, value.right);
  }
  return Either.right(vars);
};

/**
 * Reads `dir`/.env into `env` where `env` does not already set a variable. Returns the names it set
 * (none when there is no file), or the file's first unreadable line.
 */
export const loadDotEnv = (dir: string, env: NodeJS.ProcessEnv): Either.Either<readonly string[], DotEnvError> => {
  const file = join(dir, ".env");
  if (!existsSync(file)) return Either.right([]);
  return Either.map(parseDotEnv(readFileSync(file, "utf8"), file), (vars) => {
    const set: string[] = [];
    for (const [name, value] of vars) if (env[name] === undefined) (env[name] = value), set.push(name);
    return set;
  });
};
