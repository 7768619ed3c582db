// A minimal typed client for Verity's GraphQL API: plain fetch, no GraphQL client library.
//
// request() takes one of the typed documents generated from ./*.graphql into ./generated/graphql.ts
// (`npm run codegen`), so the variables it accepts and the data it returns are checked by TypeScript
// against schema.graphql. main.ts shows it in use; the tests in test/codegen/ run it against a server.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export type VerityClientOptions = {
  /** Where Verity listens, e.g. http://localhost:4000 (the client posts to <url>/graphql). */
  readonly url: string;
  /** An API key from `npx verity keys create`; `events` queries need the `events` scope. */
  readonly apiKey: string;
  readonly fetch?: typeof globalThis.fetch;
};

export type GraphQLErrorBody = { readonly message: string; readonly extensions?: { readonly code?: string } };

/** Verity answered with errors (bad key, missing scope, invalid variables) or not with GraphQL. */
export class VerityRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: readonly GraphQLErrorBody[],
  ) {
    super(message);
    this.name = "VerityRequestError";
  }

  /** The first error's code, e.g. "unauthorized" or "forbidden". */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

export type VerityClient = {
  request<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables): Promise<TResult>;
};

export const createVerityClient = (options: VerityClientOptions): VerityClient => {
  const endpoint = new URL("/graphql", options.url).href;
  const doFetch = options.fetch ?? globalThis.fetch;
  // Printing is deterministic, so each document is printed once.
  const printed = new WeakMap<object, string>();
  const queryOf = (document: TypedDocumentNode<unknown, unknown>): string => {
    let query = printed.get(document);
    if (query === undefined) printed.set(document, (query = print(document)));
    return query;
  };

  return {
    async request<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables): Promise<TResult> {
      const res = await doFetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${options.apiKey}` },
        body: JSON.stringify({ query: queryOf(document as TypedDocumentNode<unknown, unknown>), variables }),
      });
      const text = await res.text();
      let body: { data?: TResult | null; errors?: GraphQLErrorBody[] };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new VerityRequestError(`${endpoint} answered ${res.status} without JSON: ${text.slice(0, 200)}`, res.status, []);
      }
      if (body.errors !== undefined && body.errors.length > 0) {
        throw new VerityRequestError(body.errors.map((e) => e.message).join("; "), res.status, body.errors);
      }
      if (body.data === undefined || body.data === null) {
        throw new VerityRequestError(`${endpoint} answered ${res.status} without data`, res.status, []);
      }
      return body.data;
    },
  };
};
