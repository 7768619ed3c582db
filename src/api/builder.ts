// Pothos setup only: the context every resolver receives, the scalars, the Prisma plugin, and the
// scopes a field may require (scope-auth: a field declares `authScopes`, checked before it runs;
// test/api/scopes.test.ts fails for a root field that declares none).
import SchemaBuilder from "@pothos/core";
import PrismaPlugin from "@pothos/plugin-prisma";
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import type { Catalog } from "../domain/catalog.js";
import type { TransitionHub } from "./live.js";
import { SCOPES, type Principal, type Scope } from "./scopes.js";
import type { Database } from "../store/database.js";
import type { ReadModel } from "../store/read-model.js";
import type { RejectionLog } from "../store/rejections.js";
import type { HistoryCache } from "../store/metrics.js";
import type { QuotaBlockLog } from "../store/quota-blocks.js";
import type { LatencyWindow } from "./latency.js";
import type PrismaTypes from "../store/generated/pothos-types.js";
import { getDatamodel } from "../store/generated/pothos-types.js";

export type Context = {
  readonly db: Database;
  readonly catalog: Catalog;
  /** The instant time-dependent answers are computed at: one per request. */
  readonly now: number;
  readonly principal: Principal | null;
  /** Live transitions, for subscriptions. */
  readonly live: TransitionHub;
  /** Refused webhook deliveries, counted (some not written yet). */
  readonly rejections: RejectionLog;
  /** Subscription histories for the dashboard's metrics, held between projection changes. */
  readonly histories: HistoryCache;
  /** Requests refused by a quota, counted (some not written yet). */
  readonly quotaBlocks: QuotaBlockLog;
  /** How long this process took to answer POST /v1/check, recently. */
  readonly quotaLatency: LatencyWindow;
  /** Users, grants, subscriptions and keys from memory (see store/read-model.ts). */
  readonly reads: ReadModel;
  /** Every event up to this seq is in the projections this request reads. */
  readonly projectedThrough: number;
  /** Aborts when the client goes away: ends its subscriptions at once. */
  readonly signal: AbortSignal;
};

/** The first scope a failed check names (a field requires one scope, so that is the one it lacks). */
const missingScope = (failure: AuthFailure): string | null => {
  switch (failure.kind) {
    case AuthScopeFailureType.AuthScope:
      return failure.scope;
    case AuthScopeFailureType.AnyAuthScopes:
    case AuthScopeFailureType.AllAuthScopes:
      return failure.failures.map(missingScope).find((s) => s !== null) ?? null;
    default:
      return null;
  }
};

/** No key: unauthorized; a key without the scope: forbidden, naming it. */
const refusal = (ctx: Context, failure: AuthFailure): GraphQLError =>
  ctx.principal === null
    ? new GraphQLError("an API key is required: send Authorization: Bearer <key>", { extensions: { code: "unauthorized" } })
    : new GraphQLError(`this API key lacks the "${missingScope(failure) ?? "required"}" scope`, { extensions: { code: "forbidden" } });

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes;
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date }; JSON: { Input: unknown; Output: unknown } };
  /** `public` is granted to every request: a field open to all says so. */
  AuthScopes: Record<Scope | "public", boolean>;
}>({
  // Scope-auth first, so no other plugin's wrapper runs before the check.
  plugins: [ScopeAuthPlugin, PrismaPlugin],
  defaultFieldNullability: false,
  prisma: { client: (ctx) => ctx.db.prisma, dmmf: getDatamodel(), filterConnectionTotalCount: true },
  scopeAuth: {
    // A subscription is refused when it is made, not when its first event arrives.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({ public: true, ...Object.fromEntries(SCOPES.map((s) => [s, ctx.principal?.scopes.has(s) ?? false])) }) as Record<Scope | "public", boolean>,
    unauthorizedError: (_parent, ctx, _info, result) => refusal(ctx, result.failure),
  },
});

builder.scalarType("DateTime", {
  description: "An instant, as an ISO 8601 string in UTC.",
  serialize: (d) => d.toISOString(),
  parseValue: (v) => {
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) throw new GraphQLError(`not an ISO 8601 time: ${String(v)}`);
    return d;
  },
});

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (v) => v,
  parseValue: (v) => v,
});

builder.queryType({});
builder.subscriptionType({});
