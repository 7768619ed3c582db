// Reads Verity's settings from the environment (and CLI flags), with a clear error for each
// value that is wrong.
import { Array as Arr, Data, Either } from "effect";
import type { Provider } from "../domain/provider.js";
import { webhookSchemes } from "../providers/registry.js";
import { DEFAULT_DATABASE_URL } from "../store/database.js";
import { databaseKind } from "../store/url.js";
import { LOG_LEVELS, type LogLevel } from "../server/logger.js";

export type Settings = {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly configPath: string;
  /** Webhook signing secrets per provider, from each provider's variable (e.g. STRIPE_WEBHOOK_SECRET). */
  readonly webhookSecrets: Readonly<Partial<Record<Provider, readonly string[]>>>;
  readonly stripeSecretKey: string | null;
  readonly stripeApiBase: string;
  /** Paddle's API (PADDLE_API_KEY, PADDLE_API_BASE), for `verity sync paddle`. */
  readonly paddleApiKey: string | null;
  readonly paddleApiBase: string;
  /** Lemon Squeezy's API (LEMONSQUEEZY_API_KEY, LEMONSQUEEZY_API_BASE), for `verity sync lemonsqueezy`. */
  readonly lemonSqueezyApiKey: string | null;
  readonly lemonSqueezyApiBase: string;
  /** Creem's API (CREEM_API_KEY, CREEM_API_BASE), for `verity sync creem`. */
  readonly creemApiKey: string | null;
  readonly creemApiBase: string;
  readonly maxBodyBytes: number;
  /** Whether GET /graphql in a browser serves the GraphiQL page (VERITY_GRAPHIQL). */
  readonly graphiql: boolean;
  /** Who may open /dashboard (VERITY_DASHBOARD): "loopback" (default: no key needed from this machine), "key" or "off". */
  readonly dashboard: "loopback" | "key" | "off";
  /** Who may read /metrics (VERITY_METRICS): "key" (a key with the metrics scope), "loopback" (also keyless from this machine), "off". */
  readonly metrics: "key" | "loopback" | "off";
  /** Who may introspect the GraphQL schema (VERITY_INTROSPECTION). */
  readonly introspection: "key" | "public" | "off";
  /** The least severe log lines written (VERITY_LOG_LEVEL): debug adds a line per request. */
  readonly logLevel: LogLevel;
  /** How many components' folded states a process keeps in memory (VERITY_STATE_CACHE). */
  readonly stateCache: number;
};

/** Environment variables that cannot be used, one line each. */
export class SettingsError extends Data.TaggedError("SettingsError")<{ readonly message: string }> {}

const positiveInt = (name: string, text: string, max: number): Either.Either<number, string> => {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n <= max ? Either.right(n) : Either.left(`${name} must be an integer from 1 to ${max}, got "${text}"`);
};

const oneOf = <T extends string>(name: string, text: string, allowed: readonly T[]): Either.Either<T, string> =>
  (allowed as readonly string[]).includes(text.trim())
    ? Either.right(text.trim() as T)
    : Either.left(`${name} must be one of ${allowed.join(", ")}, got "${text}"`);

/** Several secrets may be given comma-separated, for rotation. */
const secretList = (value: string | undefined): string[] =>
  (value ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);

export const readSettings = (env: NodeJS.ProcessEnv, overrides: { port?: string; config?: string } = {}): Either.Either<Settings, SettingsError> => {
  const port = positiveInt("PORT", overrides.port ?? env.PORT ?? "4000", 65535);
  const maxBody = positiveInt("VERITY_MAX_BODY_BYTES", env.VERITY_MAX_BODY_BYTES ?? String(1024 * 1024), 64 * 1024 * 1024);
  const graphiql = oneOf("VERITY_GRAPHIQL", env.VERITY_GRAPHIQL ?? "on", ["on", "off"] as const);
  const dashboard = oneOf("VERITY_DASHBOARD", env.VERITY_DASHBOARD ?? "loopback", ["loopback", "key", "off"] as const);
  const introspection = oneOf("VERITY_INTROSPECTION", env.VERITY_INTROSPECTION ?? "key", ["key", "public", "off"] as const);
  const metrics = oneOf("VERITY_METRICS", env.VERITY_METRICS ?? "key", ["key", "loopback", "off"] as const);
  const logLevel = oneOf("VERITY_LOG_LEVEL", env.VERITY_LOG_LEVEL ?? "info", LOG_LEVELS);
  const stateCache = positiveInt("VERITY_STATE_CACHE", env.VERITY_STATE_CACHE ?? "10000", 10_000_000);
  // Every problem at once, not the first: an operator fixes the environment in one go.
  const problems = Arr.getLefts([port, maxBody, graphiql, dashboard, introspection, metrics, logLevel, stateCache]);
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL.trim() !== "" ? env.DATABASE_URL.trim() : DEFAULT_DATABASE_URL;
  try {
    databaseKind(databaseUrl);
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (problems.length > 0) return Either.left(new SettingsError({ message: problems.join("\n") }));
  return Either.right({
    port: Either.getOrThrow(port),
    host: env.HOST ?? "0.0.0.0",
    databaseUrl,
    configPath: overrides.config ?? env.VERITY_CONFIG ?? "verity.config.json",
    webhookSecrets: Object.fromEntries(Object.values(webhookSchemes).map((scheme) => [scheme.provider, secretList(env[scheme.secretVariable])])),
    stripeSecretKey: env.STRIPE_SECRET_KEY?.trim() || null,
    stripeApiBase: env.STRIPE_API_BASE?.trim() || "https://api.stripe.com",
    paddleApiKey: env.PADDLE_API_KEY?.trim() || null,
    paddleApiBase: env.PADDLE_API_BASE?.trim() || "https://api.paddle.com",
    lemonSqueezyApiKey: env.LEMONSQUEEZY_API_KEY?.trim() || null,
    lemonSqueezyApiBase: env.LEMONSQUEEZY_API_BASE?.trim() || "https://api.lemonsqueezy.com",
    creemApiKey: env.CREEM_API_KEY?.trim() || null,
    creemApiBase: env.CREEM_API_BASE?.trim() || "https://api.creem.io",
    maxBodyBytes: Either.getOrThrow(maxBody),
    graphiql: Either.getOrThrow(graphiql) === "on",
    introspection: Either.getOrThrow(introspection),
    dashboard: Either.getOrThrow(dashboard),
    metrics: Either.getOrThrow(metrics),
    logLevel: Either.getOrThrow(logLevel),
    stateCache: Either.getOrThrow(stateCache),
  });
};
