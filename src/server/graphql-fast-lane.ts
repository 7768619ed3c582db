// The GraphQL fast lane: an app sends the same few queries on every request it serves, so a
// document seen before is parsed and validated once (with the same limits and rules as yoga's
// pipeline, see graphql-limits.ts), compiled by graphql-jit, and executed directly. It answers only
// what it can answer exactly as yoga would: a POSTed JSON query, from a request with a valid key,
// executed without errors. Everything else (a first sighting, subscriptions, errors, odd media
// types) falls through to yoga, which answers it; queries have no side effects, so running one
// again there is safe. Memory: one compiled query per distinct document, at most CAPACITY.
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { getOperationAST, parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from "graphql";
import { holdsNul } from "../store/parsed-copy.js";
import { GRAPHQL_LIMITS } from "./graphql-limits.js";

const CAPACITY = 1_000;
/** Sightings before a document is compiled: one-off queries are not worth it. */
const COMPILE_AFTER = 2;

type Entry = { seen: number; compiled: CompiledQuery | null | "no" };

export type FastAnswer = { readonly status: 200; readonly contentType: string; readonly body: string };

/**
 * The media type yoga answers a successful query with, by the request's Accept header: the first of
 * the types it lists that yoga serves, JSON for none or any; null (left to yoga) for anything
 * subtler, such as quality values.
 */
const contentTypeFor = (accept: string | undefined): string | null => {
  if (accept === undefined || accept.trim() === "") return "application/json; charset=utf-8";
  if (accept.includes(";q=") || accept.includes("; q=")) return null;
  for (const type of accept.split(",").map((t) => t.split(";")[0]!.trim())) {
    if (type === "application/graphql-response+json") return "application/graphql-response+json; charset=utf-8";
    if (type === "application/json" || type === "*/*") return "application/json; charset=utf-8";
  }
  return null;
};

export class GraphqlFastLane {
  private readonly entries = new Map<string, Entry>();
  /** Answers given here and requests passed on to yoga (for tests and the bench). */
  served = 0;
  passed = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    /** Verity's own validation rules, as yoga runs them (limits, NUL, introspection policy). */
    private readonly rules: readonly ValidationRule[],
  ) {}

  /**
   * The answer, or null to let yoga handle the request. A browser's cross-origin request (it sends
   * Origin) goes to yoga, which answers it with the CORS headers this lane does not write.
   */
  async answer(body: Buffer, headers: { readonly accept?: string | undefined; readonly origin?: string | undefined }, contextValue: unknown): Promise<FastAnswer | null> {
    const contentType = headers.origin === undefined ? contentTypeFor(headers.accept) : null;
    const request = contentType === null ? null : this.decode(body);
    const compiled = request === null ? null : this.compiled(request.query, request.operationName);
    if (contentType === null || request === null || compiled === null) return (this.passed++, null);
    const result = await compiled.query(undefined, contextValue, request.variables);
    if (result.errors !== undefined && result.errors.length > 0) return (this.passed++, null);
    this.served++;
    return { status: 200, contentType, body: JSON.stringify({ data: result.data }) };
  }

  private decode(body: Buffer): { query: string; variables: Record<string, unknown> | undefined; operationName: string | undefined } | null {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return null;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    const { query, variables, operationName, extensions } = parsed as Record<string, unknown>;
    if (typeof query !== "string" || extensions !== undefined) return null;
    if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables) || holdsNul(variables))) return null;
    if (operationName !== undefined && operationName !== null && typeof operationName !== "string") return null;
    return { query, variables: (variables ?? undefined) as Record<string, unknown> | undefined, operationName: operationName ?? undefined };
  }

  private compiled(query: string, operationName: string | undefined): CompiledQuery | null {
    const key = `${operationName ?? ""}\u0000${query}`;
    const entry = this.entries.get(key) ?? { seen: 0, compiled: null };
    entry.seen += 1;
    if (!this.entries.has(key)) {
      if (this.entries.size >= CAPACITY) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, entry);
    }
    if (entry.compiled === null && entry.seen >= COMPILE_AFTER) entry.compiled = this.compile(query, operationName);
    return entry.compiled === null || entry.compiled === "no" ? null : entry.compiled;
  }

  /** A compiled query when the document is a valid query under every rule; "no" otherwise. */
  private compile(query: string, operationName: string | undefined): CompiledQuery | "no" {
    try {
      const document = parse(query, { maxTokens: GRAPHQL_LIMITS.maxTokens });
      if (getOperationAST(document, operationName)?.operation !== "query") return "no";
      if (validate(this.schema, document, [...specifiedRules, ...this.rules]).length > 0) return "no";
      const compiled = compileQuery(this.schema, document, operationName);
      return isCompiledQuery(compiled) ? compiled : "no";
    } catch {
      return "no";
    }
  }
}
