// Pothos setup only: the context every resolver receives, the scalars, the Prisma plugin.
import SchemaBuilder from "@pothos/core";
import PrismaPlugin from "@pothos/plugin-prisma";
import { GraphQLError } from "graphql";
import type { Catalog } from "../domain/catalog.js";
import type { TransitionHub } from "./live.js";
import type { Principal, Scope } from "./scopes.js";
import type { Database } from "../store/database.js";
import type { ReadModel } from "../store/read-model.js";
import type { RejectionLog } from "../store/rejections.js";
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
  /** Users, grants, subscriptions and keys from memory (see store/read-model.ts). */
  readonly reads: ReadModel;
  /** Every event up to this seq is in the projections this request reads. */
  readonly projectedThrough: number;
  /** Aborts when the client goes away: ends its subscriptions at once. */
  readonly signal: AbortSignal;
};

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes;
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date }; JSON: { Input: unknown; Output: unknown } };
}>({
  plugins: [PrismaPlugin],
  defaultFieldNullability: false,
  prisma: { client: (ctx) => ctx.db.prisma, dmmf: getDatamodel(), filterConnectionTotalCount: true },
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

/** Fails the field with a clear error unless the request's API key has `scope`. */
export const requireScope = (ctx: Context, scope: Scope): void => {
  if (ctx.principal === null) {
    throw new GraphQLError("an API key is required: send Authorization: Bearer <key>", { extensions: { code: "unauthorized" } });
  }
  if (!ctx.principal.scopes.has(scope)) {
    throw new GraphQLError(`this API key lacks the "${scope}" scope`, { extensions: { code: "forbidden" } });
  }
};

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (v) => v,
  parseValue: (v) => v,
});

builder.queryType({});
builder.subscriptionType({});
