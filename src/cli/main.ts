// The `verity` command line: serve, migrate, keys, and the offline commands export, replay,
// verify, reprocess (./offline.ts). Each command parses its own flags strictly, answers --help,
// and reports a wrong flag or value clearly with a non-zero exit code.
import { endpointsCommand } from "./endpoints.js";
import { makeSigningKey } from "../server/tokens.js";
import { addSigningKey } from "../store/signing-keys.js";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Data, Effect, Either } from "effect";
import { loadDotEnv } from "../config/dotenv.js";
import { webhookSchemes } from "../providers/registry.js";
import { isScope, SCOPES, type Scope } from "../api/scopes.js";
import { createApiKey, listApiKeys, revokeApiKey } from "../server/auth.js";
import { openDatabase } from "../store/database.js";
import { applyMigrations } from "../store/migrate.js";
import { InputError, parse, settingsFor, UsageError, type Io } from "./args.js";
import { exportCommand, replayCommand, reprocessCommand, verifyCommand } from "./offline.js";
import { backupCommand } from "./backup.js";
import { simulateCommand } from "./simulate.js";
import { syncCommand } from "./sync.js";

const HELP = `verity: billing control plane (webhooks in, entitlements out)

Usage: verity <command> [options]

Commands:
  serve      start the HTTP server (default port 4000)
  migrate    apply database migrations and exit
  keys       create or list API keys
  export     write the event log as NDJSON, in canonical order
  replay     fold an exported log offline and print the state it gives
  verify     compare the projections with an offline replay of the event log
  reprocess  rebuild every projection from the event store, atomically
  backup     copy the SQLite store safely while the server runs
  simulate   post a provider's signed events for a scenario to a running Verity
  sync       store what missed webhooks left out, from the provider's API; --check for drift
  endpoints  where webhooks out go: create (prints the signing secret), list, delete, roll-secret

Run "verity <command> --help" for a command's options; "verity --version" for the version.
Environment (also read from ./.env; a variable set in the shell wins): DATABASE_URL, PORT, VERITY_CONFIG, VERITY_GRAPHIQL, VERITY_DASHBOARD, VERITY_INTROSPECTION, ${Object.values(webhookSchemes).map((scheme) => scheme.secretVariable).join(", ")},
STRIPE_SECRET_KEY (see README.md).`;

const SERVE_HELP = `Usage: verity serve [--port N] [--config FILE]

Starts Verity: applies migrations, validates the plan catalog, catches up on stored events,
then serves webhooks, REST and GraphQL.
  --port N        port to listen on (env PORT, default 4000)
  --config FILE   plan catalog (env VERITY_CONFIG, default verity.config.json)
Webhooks from a provider are accepted once its secret is set: ${Object.values(webhookSchemes).map((scheme) => scheme.secretVariable).join(", ")}.`;

const MIGRATE_HELP = `Usage: verity migrate

Applies pending migrations to DATABASE_URL (default file:./data/verity.db) and exits.`;

const KEYS_HELP = `Usage: verity keys create --scopes read,events [--name NAME]
       verity keys list
       verity keys revoke KEY_ID
       verity keys rotate-signing

  create   makes a new API key; the key is printed once, as the last line of stdout
  list     lists key ids, names, scopes and creation times (never the keys)
  revoke   deletes a key by its id (from list); every server refuses it at once (401 invalid_api_key)
  rotate-signing  adds a new key for signing entitlement tokens (POST /v1/tokens): servers sign with
           it within a minute; the older keys stay in /.well-known/jwks.json, so tokens already
           issued keep verifying until they expire
  --name   what the key is for ("billing page", "ci"), shown by list
  --scopes comma-separated: ${SCOPES.join(", ")}
           read: users, entitlements, subscriptions, checks; events: the event log;
           usage:write: record usage and take leases; tokens:write: issue entitlement tokens;
           dashboard: the dashboard's queries;
           metrics: /metrics; admin: operator actions`;

type Out = Io;

const serve = async (args: string[], io: Out): Promise<number> => {
  const { values } = parse(args, { port: { type: "string" }, config: { type: "string" } });
  if (values.help) return io.out(SERVE_HELP), 0;
  // The HTTP stack (GraphQL, Pothos) loads only for serve: the other commands start faster.
  const { buildApp } = await import("../server/app.js");
  const services = await import("../server/services.js");
  const program = Effect.gen(function* () {
    const s = yield* services.ServerSettings;
    const options = yield* services.appOptions;
    const app = buildApp(options);
    const { url } = yield* Effect.promise(() => app.start(s.port, s.host));
    io.out(`Verity listening on ${url} (database: ${options.db.kind}, plans: ${Object.keys(options.catalog.plans).length})`);
    const configured = Object.values(webhookSchemes).filter((scheme) => (s.webhookSecrets[scheme.provider] ?? []).length > 0);
    io.out(`  webhooks: ${url}/webhooks/{${Object.keys(webhookSchemes).join("|")}}   GraphQL: ${url}/graphql   REST: ${url}/api/users/{id}/entitlements`);
    if (configured.length === 0) {
      const variables = Object.values(webhookSchemes).map((scheme) => scheme.secretVariable).join(", ");
      io.err(`warning: no webhook secret is set (${variables}): every webhook will be refused`);
    } else {
      io.out(`  accepting webhooks from: ${configured.map((scheme) => scheme.provider).join(", ")}`);
    }
    yield* Effect.promise(
      () =>
        new Promise<void>((resolve) => {
          process.once("SIGINT", () => resolve());
          process.once("SIGTERM", () => resolve());
        }),
    );
    io.err("shutting down…");
    yield* Effect.promise(() => app.stop());
    return 0;
  });
  const flags = { port: values.port as string | undefined, config: values.config as string | undefined };
  const refused = (e: { readonly message: string }) => Effect.sync(() => (io.err(`verity: ${e.message}`), 2));
  return Effect.runPromise(
    program.pipe(Effect.provide(services.ServeLive(process.env, flags)), Effect.scoped, Effect.catchTags({ SettingsError: refused, ConfigError: refused })),
  );
};

const migrate = async (args: string[], io: Out): Promise<number> => {
  const { values } = parse(args, {});
  if (values.help) return io.out(MIGRATE_HELP), 0;
  const settings = settingsFor();
  const applied = await applyMigrations(settings.databaseUrl);
  io.out(applied.length === 0 ? "database is up to date" : `applied ${applied.join(", ")}`);
  return 0;
};

const keys = async (args: string[], io: Out): Promise<number> => {
  const { values, positionals } = parse(args, { scopes: { type: "string" }, name: { type: "string" } }, true);
  if (values.help || positionals.length === 0) return io.out(KEYS_HELP), values.help ? 0 : 2;
  const [sub, ...rest] = positionals;
  const extra = sub === "revoke" ? rest.slice(1) : rest;
  if (sub === "rotate-signing") {
    if (extra.length > 0) throw new UsageError({ message: `unexpected argument "${extra[0]}"` });
    const db = await openDatabase(settingsFor().databaseUrl);
    try {
      const key = await makeSigningKey();
      await addSigningKey(db, key, new Date());
      io.out(`added token signing key ${key.id}; servers sign with it within a minute, and the older keys stay published`);
      return 0;
    } finally {
      await db.close();
    }
  }
  if (extra.length > 0) throw new UsageError({ message: `unexpected argument "${extra[0]}"` });
  const settings = settingsFor();
  if (sub === "create") {
    const text = (values.scopes as string | undefined) ?? "";
    const scopes = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    if (scopes.length === 0) throw new UsageError({ message: "--scopes is required, e.g. --scopes read,events" });
    const unknown = scopes.filter((s) => !isScope(s));
    if (unknown.length > 0) throw new UsageError({ message: `unknown scope "${unknown[0]}"; scopes are ${SCOPES.join(", ")}` });
    const name = values.name === undefined ? null : String(values.name).trim();
    if (name !== null && !/^[\p{L}\p{N}\p{P}\p{Zs}]{1,64}$/u.test(name)) {
      throw new UsageError({ message: "--name must be 1 to 64 letters, digits, punctuation or spaces" });
    }
    const db = await openDatabase(settings.databaseUrl);
    try {
      const created = await createApiKey(db, scopes as Scope[], new Date(), name);
      io.out(`created API key ${created.id}${name === null ? "" : ` "${name}"`} with scopes ${created.scopes.join(",")}; it is shown only once:`);
      io.out(created.key);
      return 0;
    } finally {
      await db.close();
    }
  }
  if (sub === "list") {
    const db = await openDatabase(settings.databaseUrl);
    try {
      for (const k of await listApiKeys(db)) io.out(`${k.id}\t${k.name ?? "-"}\t${k.scopes.join(",")}\t${k.createdAt.toISOString()}`);
      return 0;
    } finally {
      await db.close();
    }
  }
  if (sub === "revoke") {
    const [id] = rest;
    if (id === undefined) throw new UsageError({ message: "revoke needs the key's id, e.g. verity keys revoke key_0123456789ab" });
    const db = await openDatabase(settings.databaseUrl);
    try {
      if (!(await revokeApiKey(db, id))) return io.err(`verity keys: no key has the id "${id}" (see verity keys list)`), 2;
      io.out(`revoked ${id}; every server refuses it from now on`);
      return 0;
    } finally {
      await db.close();
    }
  }
  throw new UsageError({ message: `unknown keys command "${sub}"; use create, list, revoke or rotate-signing` });
};

/** The version, and whether this run compiled the sources on the fly (bin/verity.mjs decides). */
const versionLine = (): string => {
  const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };
  const fromSources = process.env.VERITY_FROM_SOURCES === "1" ? " (running the TypeScript sources: the compiled build is missing or older than src; npm run build)" : "";
  return `verity ${version}${fromSources}`;
};

const COMMANDS: Record<string, (args: string[], io: Out) => Promise<number>> = {
  serve,
  migrate,
  keys,
  export: exportCommand,
  replay: replayCommand,
  verify: verifyCommand,
  reprocess: reprocessCommand,
  backup: backupCommand,
  simulate: simulateCommand,
  endpoints: endpointsCommand,
  sync: syncCommand,
};

const processIo = (): Out => {
  // A reader that goes away (`verity replay … | head`) ends the output quietly instead of crashing.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
  return { out: (s) => console.log(s), err: (s) => console.error(s) };
};

/**
 * Runs one command. `dotenvDir`: where to read `.env` from into process.env first (bin/verity.mjs
 * passes the working directory; tests calling main in-process pass nothing).
 */
export const main = async (argv: string[], io: Out = processIo(), options: { readonly dotenvDir?: string } = {}): Promise<number> => {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") return io.out(HELP), command === undefined ? 2 : 0;
  if (command === "--version" || command === "-v") return io.out(versionLine()), 0;
  const run = COMMANDS[command];
  if (!run) return io.err(`verity: unknown command "${command}"\n\n${HELP}`), 2;
  if (options.dotenvDir !== undefined) {
    const loaded = loadDotEnv(options.dotenvDir, process.env);
    if (Either.isLeft(loaded)) return io.err(`verity: ${loaded.left.message}`), 2;
    if (loaded.right.length > 0 && command === "serve") io.err(`read ${loaded.right.join(", ")} from ${join(options.dotenvDir, ".env")}`);
  }
  const report = (message: string, code: number) => Effect.sync(() => (io.err(`verity ${command}: ${message}`), code));
  // A command's failures become its exit status here, and only here: 2 for usage and input, 1 otherwise.
  return Effect.runPromise(
    Effect.tryPromise({
      try: () => run(rest, io),
      catch: (e) => (e instanceof UsageError || e instanceof InputError ? e : new CommandFailed({ cause: e })),
    }).pipe(
      Effect.catchTags({
        UsageError: (e) => report(`${e.message}\nRun "verity ${command} --help" for usage.`, 2),
        InputError: (e) => report(e.message, 2),
        CommandFailed: (e) => report(e.cause instanceof Error ? e.cause.message : String(e.cause), 1),
      }),
    ),
  );
};

/** Anything else a command threw: exit 1 with its message. */
class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly cause: unknown }> {}
