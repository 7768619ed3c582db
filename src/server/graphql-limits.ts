// What one GraphQL request may cost, checked before it executes: GraphQL Armor's plugins bound
// tokens (while parsing, so a huge or deeply nested document stops early), depth, aliases,
// directives and an estimated cost; strings carrying NUL (which no stored value holds) are refused;
// introspection follows the operator's policy. Every refusal is a 400 (401 for a key-less request
// that asks for more than introspection) with a stable code in `extensions.code`. Checks cost time
// linear in the document, which the body limit and the token limit keep small.
import { costLimitPlugin, costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin, maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin, maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin, maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ASTVisitor,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { holdsNul } from "../store/parsed-copy.js";

export const GRAPHQL_LIMITS = {
  /** Request body, in bytes (GET: the URL, bounded by Node's header limit). */
  maxBytes: 64 * 1024,
  maxTokens: 1000,
  maxDepth: 8,
  maxAliases: 15,
  maxDirectives: 10,
  /**
   * GraphQL Armor's estimate: 2 per object field, 1 per scalar, ×1.5 per level of depth. A user
   * with nearly every field (subscriptions, orders, transitions) costs about 108: nine fit.
   */
  maxCost: 1000,
} as const;

/** Who may introspect the schema: any valid key (the default), anyone, or nobody. */
export type IntrospectionPolicy = "key" | "public" | "off";

const NUL = String.fromCharCode(0);

/**
 * A refusal with its HTTP status. `spec: false` keeps the status for `application/json` clients too:
 * yoga answers ordinary validation errors 200 there (as the GraphQL-over-HTTP spec asks), but a
 * request refused for its cost or its key is a 4xx to every client and proxy.
 */
export const requestError = (message: string, code: string, status = 400): GraphQLError =>
  new GraphQLError(message, { extensions: { code, http: { status, spec: false } } });

/** A limit's refusal with Verity's code; reported (validation) or thrown (while parsing). */
const refuse = (context: ValidationContext | null, error: Error): void => {
  const e = requestError(`${error.message.replace(/^Syntax Error: /, "")} (see "GraphQL limits" in README)`, "query_too_complex");
  if (context === null) throw e;
  context.reportError(e);
};

const limited = () => ({ exposeLimits: true, propagateOnRejection: false, onReject: [refuse] });

const REFUSAL_CODES = new Set(["query_too_complex", "invalid_parameter", "unauthorized", "introspection_disabled"]);

const NUL_MESSAGE = "a string in this request contains a NUL character, which no id or value in Verity holds";

/** String literals of the document: none may hold NUL. */
const noNulLiterals: ValidationRule = (context): ASTVisitor => ({
  StringValue: (node) => {
    if (node.value.includes(NUL)) context.reportError(requestError(NUL_MESSAGE, "invalid_parameter"));
  },
});

/** graphql-js's rule against introspection, refusing with Verity's code and a 403. */
const noIntrospection: ValidationRule = (context) =>
  NoSchemaIntrospectionCustomRule(
    Object.create(context, {
      reportError: {
        value: (e: GraphQLError) => context.reportError(requestError(`${e.message} (VERITY_INTROSPECTION=off)`, "introspection_disabled", 403)),
      },
    }) as ValidationContext,
  );

const INTROSPECTION_FIELDS = new Set(["__schema", "__type", "__typename"]);

/** For a request without a key under the "public" policy: nothing but introspection. */
const introspectionOnly: ValidationRule = (context): ASTVisitor => ({
  OperationDefinition: (operation) => {
    const asksMore = operation.selectionSet.selections.some((s) => s.kind !== Kind.FIELD || !INTROSPECTION_FIELDS.has(s.name.value));
    if (asksMore) context.reportError(requestError("an API key is required: send Authorization: Bearer <key>", "unauthorized", 401));
  },
});

/**
 * The same limits and rules as validation rules, for the fast lane (graphql-fast-lane.ts), which
 * validates a document itself; for a request with a key, so introspection-only does not apply.
 */
export const limitRules = (introspection: IntrospectionPolicy): ValidationRule[] => [
  maxDepthRule({ n: GRAPHQL_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...limited() }),
  maxAliasesRule({ n: GRAPHQL_LIMITS.maxAliases, ...limited() }),
  maxDirectivesRule({ n: GRAPHQL_LIMITS.maxDirectives, ...limited() }),
  costLimitRule({ maxCost: GRAPHQL_LIMITS.maxCost, ignoreIntrospection: true, flattenFragments: true, ...limited() }),
  noNulLiterals,
  ...(introspection === "off" ? [noIntrospection] : []),
];

export const graphqlLimits = (options: {
  readonly introspection: IntrospectionPolicy;
  /** Whether the request (yoga's context) carries a valid key, checked before yoga parsed anything. */
  readonly authenticated: (context: unknown) => boolean;
}): Plugin[] => [
  maxTokensPlugin({ n: GRAPHQL_LIMITS.maxTokens, ...limited() }),
  maxDepthPlugin({ n: GRAPHQL_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...limited() }),
  maxAliasesPlugin({ n: GRAPHQL_LIMITS.maxAliases, ...limited() }),
  maxDirectivesPlugin({ n: GRAPHQL_LIMITS.maxDirectives, ...limited() }),
  costLimitPlugin({ maxCost: GRAPHQL_LIMITS.maxCost, ignoreIntrospection: true, flattenFragments: true, ...limited() }),
  {
    onParams: ({ params }) => {
      if (holdsNul(params.variables ?? null)) throw requestError(NUL_MESSAGE, "invalid_parameter");
    },
    // Yoga marks errors thrown while parsing as spec errors (200 for application/json clients)
    // after they are raised; Verity's refusals keep their status whatever the client accepts.
    onResultProcess: ({ result }) => {
      if (Array.isArray(result) || !("errors" in result)) return;
      for (const error of result.errors ?? []) {
        const http = error.extensions?.["http"] as { spec?: boolean } | undefined;
        if (http && REFUSAL_CODES.has(String(error.extensions?.["code"]))) http.spec = false;
      }
    },
    onValidate: ({ addValidationRule, context }) => {
      addValidationRule(noNulLiterals);
      if (options.introspection === "off") addValidationRule(noIntrospection);
      if (options.introspection === "public" && !options.authenticated(context)) addValidationRule(introspectionOnly);
    },
  },
];
