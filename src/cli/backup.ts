// `verity backup --out FILE`: a consistent copy of the SQLite store, taken with SQLite's online
// backup while a server may be writing (readers and writers carry on; the copy is of one instant).
// Written to FILE.partial and renamed when complete, so FILE is never half a database. PostgreSQL
// has its own tool for this: the command says which.
import { existsSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import Sqlite from "better-sqlite3";
import { databaseKind, sqlitePath } from "../store/url.js";
import { InputError, parse, settingsFor, UsageError, type Io } from "./args.js";

export const BACKUP_HELP = `Usage: verity backup --out FILE [--force]

Copies the SQLite database (DATABASE_URL) to FILE with SQLite's online backup: safe while
\`verity serve\` runs and writes; the copy holds the store as of one instant, events and
projections alike. Restore by pointing DATABASE_URL at the copy (file:FILE).
  --out FILE   where to write the copy (refused if it exists, unless --force)
  --force      replace FILE
On PostgreSQL, use pg_dump (e.g. pg_dump -Fc -f verity.dump "$DATABASE_URL"; restore with pg_restore).`;

export const backupCommand = async (args: string[], io: Io): Promise<number> => {
  const { values } = parse(args, { out: { type: "string" }, force: { type: "boolean" } });
  if (values.help) return io.out(BACKUP_HELP), 0;
  const settings = settingsFor();
  if (databaseKind(settings.databaseUrl) === "postgresql") {
    throw new InputError({ message: 'DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. pg_dump -Fc -f verity.dump "$DATABASE_URL" (restore with pg_restore -d <database> verity.dump)' });
  }
  if (typeof values.out !== "string" || values.out.trim() === "") throw new UsageError({ message: "--out FILE is required" });
  const source = sqlitePath(settings.databaseUrl);
  const out = resolve(values.out);
  if (!existsSync(source)) throw new InputError({ message: `no database at ${source} (DATABASE_URL=${settings.databaseUrl})` });
  if (resolve(source) === out) throw new InputError({ message: "--out names the database itself" });
  if (existsSync(out) && values.force !== true) throw new InputError({ message: `${out} exists; choose another file or pass --force` });
  const partial = `${out}.partial`;
  rmSync(partial, { force: true });
  const db = new Sqlite(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    const started = Date.now();
    // After the first step, every remaining page in one step: a copy made in many small steps starts
    // over whenever the server writes in between, and a busy server writes all the time.
    const { totalPages } = await db.backup(partial, { progress: () => 0x7fffffff });
    renameSync(partial, out);
    io.out(`backed up ${source} to ${out} (${totalPages} pages, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  } finally {
    db.close();
  }
};
