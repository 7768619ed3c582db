// What the server needs from the world, as Effect services: its settings, the plan catalog, the
// database, a clock, a logger and the providers' APIs. `verity serve` provides the live layers
// (read from the environment and the catalog file); tests provide their own (a database made
// per test, a clock they move, a silent logger). The app itself is built from whichever layers
// were provided, so nothing in it reads the environment or the wall clock.
import { Context, Effect, Layer } from "effect";
import type { Catalog } from "../domain/catalog.js";
import { loadCatalog } from "../config/catalog.js";
import { readSettings, type Settings } from "../config/env.js";
import { limitStateCache } from "../store/components.js";
import { checkpointInBackground, openDatabase, type Database } from "../store/database.js";
import type { AppOptions } from "./app.js";
import { stderrLogger, type Logger } from "./logger.js";
import type { ProviderApis } from "./provider-api.js";

export class ServerSettings extends Context.Tag("verity/ServerSettings")<ServerSettings, Settings>() {}
export class PlanCatalog extends Context.Tag("verity/PlanCatalog")<PlanCatalog, Catalog>() {}
export class Db extends Context.Tag("verity/Database")<Db, Database>() {}
export class Clock extends Context.Tag("verity/Clock")<Clock, { readonly now: () => number }>() {}
export class Log extends Context.Tag("verity/Log")<Log, Logger>() {}
export class ProviderApiAccess extends Context.Tag("verity/ProviderApis")<ProviderApiAccess, ProviderApis>() {}

/** Settings from the environment, with the command line's overrides; a SettingsError lists every problem. */
export const SettingsLive = (env: NodeJS.ProcessEnv, overrides: { port?: string; config?: string }) => Layer.effect(ServerSettings, readSettings(env, overrides));

/** The catalog file the settings name; a ConfigError lists every problem with its JSON path. */
export const CatalogLive = Layer.effect(
  PlanCatalog,
  Effect.flatMap(ServerSettings, (s) => loadCatalog(s.configPath)),
);

/** The database DATABASE_URL names, migrated, closed when the layer is released. */
export const DatabaseLive = Layer.scoped(
  Db,
  Effect.gen(function* () {
    const s = yield* ServerSettings;
    const log = stderrLogger(s.logLevel);
    const db = yield* Effect.acquireRelease(
      Effect.promise(() => openDatabase(s.databaseUrl, { onFlushFailure: (e) => log.error("the database can no longer be written: restart Verity", { error: e.message }) })),
      (db) => Effect.promise(() => db.close()),
    );
    limitStateCache(db, s.stateCache);
    yield* Effect.acquireRelease(
      Effect.sync(() => checkpointInBackground(db, (message) => log.warn("background checkpoint failed", { error: message }))),
      (c) => Effect.promise(() => c?.stop() ?? Promise.resolve()),
    );
    return db;
  }),
);

export const ClockLive = Layer.succeed(Clock, { now: () => Date.now() });

export const LogLive = Layer.effect(Log, Effect.map(ServerSettings, (s) => stderrLogger(s.logLevel)));

/** Stripe's API when STRIPE_SECRET_KEY is set (for the line items some checkouts need). */
export const ProviderApisLive = Layer.effect(
  ProviderApiAccess,
  Effect.map(ServerSettings, (s): ProviderApis => (s.stripeSecretKey === null ? {} : { stripe: { secretKey: s.stripeSecretKey, baseUrl: s.stripeApiBase, timeoutMs: 5000 } })),
);

/**
 * Everything `verity serve` runs on, from the environment. The settings and the catalog are read
 * before the database is opened, so a broken configuration is refused before anything is written.
 */
export const ServeLive = (env: NodeJS.ProcessEnv, overrides: { port?: string; config?: string }) =>
  Layer.mergeAll(DatabaseLive, ProviderApisLive, ClockLive, LogLive).pipe(Layer.provideMerge(CatalogLive.pipe(Layer.provideMerge(SettingsLive(env, overrides)))));

/** The app's options from the services (the settings' HTTP limits and secrets, the rest as provided). */
export const appOptions: Effect.Effect<AppOptions, never, ServerSettings | PlanCatalog | Db | Clock | Log | ProviderApiAccess> = Effect.gen(function* () {
  const s = yield* ServerSettings;
  const clock = yield* Clock;
  return {
    db: yield* Db,
    catalog: yield* PlanCatalog,
    secrets: s.webhookSecrets,
    apis: yield* ProviderApiAccess,
    maxBodyBytes: s.maxBodyBytes,
    graphiql: s.graphiql,
    introspection: s.introspection,
    dashboard: s.dashboard,
    metrics: s.metrics,
    now: clock.now,
    log: yield* Log,
  };
});
