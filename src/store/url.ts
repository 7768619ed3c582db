// What a DATABASE_URL names: an SQLite file or a PostgreSQL server.
import { resolve } from "node:path";
import { Data } from "effect";

export type DatabaseKind = "sqlite" | "postgresql";

/** A DATABASE_URL of no database Verity supports. */
export class DatabaseUrlError extends Data.TaggedError("DatabaseUrlError")<{ readonly message: string }> {}

export const databaseKind = (url: string): DatabaseKind => {
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  if (url.startsWith("file:")) return "sqlite";
  throw new DatabaseUrlError({ message: `DATABASE_URL must start with "file:" (SQLite) or "postgresql://", got "${url}"` });
};

/** The SQLite file a `file:` URL points at, resolved against the working directory. */
export const sqlitePath = (url: string): string => {
  const path = url.slice("file:".length).split("?")[0]!;
  return path === ":memory:" ? path : resolve(path);
};

