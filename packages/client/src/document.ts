// Typed GraphQL documents as GraphQL Code Generator emits them, in either of its document modes:
// a string (`documentMode: "string"`, what this package generates for itself) or a DocumentNode
// (the default, e.g. your own codegen). Both carry their result and variables types through the
// optional `__apiType` member, so `client.graphql(document, variables)` is typed by the document.

/** The type half of a typed document; the same shape as @graphql-typed-document-node/core's. */
export interface DocumentTypeDecoration<TResult, TVariables> {
  /** Never set at run time: it only carries the result and variables types. */
  __apiType?: (variables: TVariables) => TResult;
}

/** A parsed document as graphql-js builds it; only what is needed to send it. */
export type DocumentNodeLike = {
  readonly kind: "Document";
  readonly loc?: { readonly source: { readonly body: string } } | undefined;
};

/** A document with its result and variables types: a string (or String) or a DocumentNode. */
export type TypedDocument<TResult, TVariables> = (string | String | DocumentNodeLike) & DocumentTypeDecoration<TResult, TVariables>;

/** The result type of a typed document. */
export type ResultOf<D> = D extends DocumentTypeDecoration<infer R, unknown> ? R : never;

/** The variables type of a typed document. */
export type VariablesOf<D> = D extends DocumentTypeDecoration<unknown, infer V> ? V : never;

const printed = new WeakMap<object, string>();

/**
 * The text to send. A DocumentNode without its source (codegen's default output keeps none) is
 * printed by graphql-js, loaded only then: string documents never load it.
 */
export const queryText = async (document: string | String | DocumentNodeLike): Promise<string> => {
  if (typeof document === "string") return document;
  if (document instanceof String) return document.toString();
  const body = document.loc?.source.body;
  if (body !== undefined) return body;
  let text = printed.get(document);
  if (text === undefined) {
    const { print } = await import("graphql");
    text = print(document as Parameters<typeof print>[0]);
    printed.set(document, text);
  }
  return text;
};
