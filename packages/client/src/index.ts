// @verity/client: the typed client (browsers and Node 20+, fetch-based). React, Express, Next.js and
// token verification live in their own entries (@verity/client/react, /express, /next, /tokens), so
// an app loads only what it uses: React is never loaded from here.
export { createVerityClient } from "./client.js";
export type { ActivationCodeRequest, CheckRequest, CheckResult, GraphQLEntitlement, LeaseRequest, LeaseResult, ReleaseRequest, TokenRequest, UsageResult, VerityClient } from "./client.js";
export { QuotaError, secondsUntil, VerityError, VerityUnavailableError } from "./errors.js";
export type { GraphQLErrorBody } from "./errors.js";
export type { HeadersOption, RequestOptions, VerityClientOptions } from "./http.js";
export type { LiveFilter, LiveOptions, LiveTransition } from "./live.js";
export type { DocumentNodeLike, DocumentTypeDecoration, ResultOf, TypedDocument, VariablesOf } from "./document.js";
export type * from "./types.js";
export type { EntitlementQuery, EntitlementQueryVariables, LiveTransitionsSubscription, LiveTransitionsSubscriptionVariables } from "./generated/graphql.js";
