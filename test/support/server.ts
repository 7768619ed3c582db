// Starts the real Verity HTTP server on a free port against a fresh database, with a fixed or
// controllable clock, and an API key for reads: the app built from the server's services
// (src/server/services.ts) with test layers in place of the live ones.
import { Effect, Layer } from "effect";
import type { Catalog } from "../../src/domain/catalog.js";
import type { Provider } from "../../src/domain/provider.js";
import { buildApp, type App } from "../../src/server/app.js";
import { createApiKey } from "../../src/server/auth.js";
import { silentLogger } from "../../src/server/logger.js";
import type { ApiAccess } from "../../src/server/provider-api.js";
import { appOptions, Clock, Db, Log, PlanCatalog, ProviderApiAccess, ServerSettings } from "../../src/server/services.js";
import { type Database, openDatabase } from "../../src/store/database.js";
import { openTestDatabase, type DatabaseKindUnderTest } from "./databases.js";
import { TEST_SECRET } from "./stripe-delivery.js";

export type RunningServer = {
  readonly url: string;
  readonly db: Database;
  /** The database URL, for a second server on the same database. */
  readonly databaseUrl: string;
  readonly app: App;
  readonly readKey: string;
  readonly clock: { now: number };
  readonly stop: () => Promise<void>;
};

export const startServer = async (
  kind: DatabaseKindUnderTest,
  catalog: Catalog,
  options: {
    maxBodyBytes?: number;
    /** Stripe's API (a local stand-in), for the line items some checkouts need. */
    stripeApi?: ApiAccess | null;
    /** Stripe's webhook secrets (default: TEST_SECRET). */
    secrets?: string[];
    /** Other providers' webhook secrets; a provider left out answers 503 provider_not_configured. */
    providerSecrets?: Partial<Record<Exclude<Provider, "stripe">, string[]>>;
    now?: number;
    catchUpIntervalMs?: number;
    livePollMs?: number;
    webhooksOutIntervalMs?: number;
    graphiql?: boolean;
    introspection?: "key" | "public" | "off";
    /** Who may open the dashboard (default "key", as buildApp). */
    dashboard?: "loopback" | "key" | "off";
    metrics?: "loopback" | "key" | "off";
    /** Share this (already created) database instead of creating one; it is not dropped on stop. */
    databaseUrl?: string;
  } = {},
): Promise<RunningServer> => {
  const { db, close, url } = options.databaseUrl
    ? await openDatabase(options.databaseUrl).then((d) => ({ db: d, close: async () => undefined, url: options.databaseUrl! }))
    : await openTestDatabase(kind);
  const clock = { now: options.now ?? Date.now() };
  const settings = {
    port: 0,
    host: "127.0.0.1",
    databaseUrl: url,
    configPath: "(test catalog)",
    webhookSecrets: { ...options.providerSecrets, stripe: options.secrets ?? [TEST_SECRET] },
    stripeSecretKey: options.stripeApi?.secretKey ?? null,
    stripeApiBase: options.stripeApi?.baseUrl ?? "http://127.0.0.1:9",
    paddleApiKey: null,
    paddleApiBase: "http://127.0.0.1:9",
    lemonSqueezyApiKey: null,
    lemonSqueezyApiBase: "http://127.0.0.1:9",
    creemApiKey: null,
    creemApiBase: "http://127.0.0.1:9",
    maxBodyBytes: options.maxBodyBytes ?? 256 * 1024,
    graphiql: options.graphiql ?? true,
    introspection: options.introspection ?? "key",
    dashboard: options.dashboard ?? "key",
    metrics: options.metrics ?? "key",
    logLevel: "silent" as const,
    stateCache: 10_000,
  };
  const testLayers = Layer.mergeAll(
    Layer.succeed(ServerSettings, settings),
    Layer.succeed(PlanCatalog, catalog),
    Layer.succeed(Db, db),
    Layer.succeed(Clock, { now: () => clock.now }),
    Layer.succeed(Log, silentLogger),
    Layer.succeed(ProviderApiAccess, options.stripeApi ? { stripe: options.stripeApi } : {}),
  );
  const app = buildApp({
    ...Effect.runSync(appOptions.pipe(Effect.provide(testLayers))),
    ...(options.catchUpIntervalMs === undefined ? {} : { catchUpIntervalMs: options.catchUpIntervalMs }),
    ...(options.livePollMs === undefined ? {} : { livePollMs: options.livePollMs }),
    ...(options.webhooksOutIntervalMs === undefined ? {} : { webhooksOutIntervalMs: options.webhooksOutIntervalMs }),
  });
  const { readKey } = { readKey: (await createApiKey(db, ["read", "events"], new Date())).key };
  const { url: listening } = await app.start(0, "127.0.0.1");
  return {
    url: listening,
    db,
    databaseUrl: url,
    app,
    readKey,
    clock,
    stop: async () => {
      await app.stop();
      await close();
    },
  };
};
