// What a newcomer sees when the database cannot be reached: which server, which database, and what
// to do about it, instead of the driver's bare "connect ECONNREFUSED" or "database … does not exist".
// The URL's password is never repeated.
import { Data } from "effect";

/** The store cannot be opened; `message` says what to check. */
export class DatabaseUnavailable extends Data.TaggedError("DatabaseUnavailable")<{ readonly message: string }> {}

type Where = { readonly host: string; readonly port: string; readonly database: string; readonly user: string };

const whereOf = (url: string): Where => {
  try {
    const u = new URL(url);
    return { host: u.hostname || "localhost", port: u.port || "5432", database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "(default)", user: decodeURIComponent(u.username) || "(default)" };
  } catch {
    return { host: "?", port: "?", database: "?", user: "?" };
  }
};

/** A PostgreSQL connection failure explained, or null when it is not one of the usual ones. */
export const explainPostgresError = (url: string, error: unknown): DatabaseUnavailable | null => {
  const e = error as { code?: string; message?: string };
  const { host, port, database, user } = whereOf(url);
  const server = `PostgreSQL at ${host}:${port}`;
  const say = (message: string) => new DatabaseUnavailable({ message });
  switch (e.code) {
    case "3D000":
      return say(`${server} has no database "${database}". Create it, e.g. createdb -h ${host} -p ${port} -U ${user === "(default)" ? "postgres" : user} ${database} (or CREATE DATABASE "${database}"; in psql), then start again.`);
    case "28000":
      return say(`${server} refused the role "${user}" (${e.message ?? "no such role"}): check the user in DATABASE_URL, or create the role.`);
    case "28P01":
      return say(`${server} refused the password for "${user}": check DATABASE_URL.`);
    case "ECONNREFUSED":
      return say(`cannot connect to ${server}: connection refused. Is PostgreSQL running, and listening on that host and port? (DATABASE_URL says ${host}:${port})`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return say(`cannot connect to ${server}: the host name "${host}" does not resolve. Check DATABASE_URL.`);
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return say(`cannot connect to ${server}: no answer (${e.code}). Is the host reachable from here, and the port open?`);
    default:
      if (/timeout expired|Connection terminated due to connection timeout/i.test(e.message ?? "")) return say(`cannot connect to ${server}: no answer within 10 seconds. Is the host reachable from here, and the port open?`);
      return null;
  }
};

/** A SQLite file that cannot be opened or created, explained. */
export const explainSqliteError = (file: string, error: unknown): DatabaseUnavailable => {
  const e = error as { code?: string; message?: string };
  return new DatabaseUnavailable({
    message: `cannot open the SQLite database ${file} (${e.code ?? e.message ?? String(error)}): check that its folder exists or can be created, and that Verity may write there.`,
  });
};
