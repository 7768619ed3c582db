// createVerityClient: one typed method per question an app asks Verity, over its REST API (the
// answers typed in types.ts), its GraphQL API (typed by documents generated from schema.graphql)
// and its live transitions (graphql-sse). Every method resolves with Verity's answer or throws a
// VerityError; the two exceptions are decisions, not failures: `check` answers `allowed: false`
// for 402/429, and a batch of usage records answers each record with its own status.
import { graphqlError, VerityError, type GraphQLErrorBody } from "./errors.js";
import { queryText, type TypedDocument } from "./document.js";
import { EntitlementDocument, type EntitlementQuery } from "./generated/graphql.js";
import { createTransport, refusalError, type Answered, type RequestOptions, type Transport, type VerityClientOptions } from "./http.js";
import { liveTransitions, type LiveFilter, type LiveOptions, type LiveTransition } from "./live.js";
import type {
  ActivationCodeAnswer,
  ActivationsAnswer,
  Activation,
  BatchAnswer,
  CheckAllowed,
  CheckoutAnswer,
  CheckRefused,
  CreditsAnswer,
  EntitlementsAnswer,
  LeaseAnswer,
  PlansAnswer,
  Provider,
  ReleaseAnswer,
  SubscriptionAnswer,
  TokenAnswer,
  TokenPairAnswer,
  UsageAnswer,
  UsageRecord,
} from "./types.js";

/** One feature of one user, as the GraphQL `entitlement` query answers it (typed from schema.graphql). */
export type GraphQLEntitlement = NonNullable<EntitlementQuery["entitlement"]>;

/** `check`'s answer: allowed (200), or refused by the plan (402) or the quota (429), with Verity's error. */
export type CheckResult = (CheckAllowed & { readonly status: 200 }) | (CheckRefused & { readonly status: 402 | 429 });

/** A recorded (or, for a repeated idempotency key, replayed) use. */
export type UsageResult = UsageAnswer & {
  /** True when the idempotency key was seen before: this is the first answer again and nothing more was counted. */
  readonly replayed: boolean;
};

export type LeaseResult = LeaseAnswer & { readonly replayed: boolean };

export type CheckRequest = { readonly userId: string; readonly feature: string; readonly units?: number };
export type LeaseRequest = { readonly userId: string; readonly feature: string; readonly idempotencyKey: string; readonly ttlSeconds?: number };
export type ReleaseRequest = { readonly usage?: { readonly feature: string; readonly units: number } };
export type TokenRequest = { readonly userId: string; readonly audience: string; readonly ttlSeconds?: number };
export type ActivationCodeRequest = { readonly userId: string; readonly ttlSeconds?: number; readonly tokenTtlSeconds?: number };

export type VerityClient = {
  /** `GET /api/users/{id}/entitlements` (scope read). */
  entitlements(userId: string, options?: RequestOptions): Promise<EntitlementsAnswer>;
  /** One feature through GraphQL `entitlement` (scope read). Throws `user_not_found` (404) for a user Verity does not know. */
  entitlement(userId: string, feature: string, options?: RequestOptions): Promise<GraphQLEntitlement>;
  /** `GET /api/users/{id}/subscription` (scope read). */
  subscription(userId: string, options?: RequestOptions): Promise<SubscriptionAnswer>;
  /** `GET /api/users/{id}/credits` (scope read): balances and a page of the ledger. */
  credits(userId: string, page?: { readonly limit?: number; readonly after?: string }, options?: RequestOptions): Promise<CreditsAnswer>;
  /** `GET /api/plans` (scope read): the catalog for a pricing page. */
  plans(query?: { readonly locale?: string }, options?: RequestOptions): Promise<PlansAnswer>;
  /** `GET /api/checkouts/{provider}/{id}` (scope read): has this checkout completed, for whom, what it grants. */
  checkout(provider: Provider, id: string, options?: RequestOptions): Promise<CheckoutAnswer>;
  /** `POST /v1/check` (scope read): the decision for `units` (default 1) more, recording nothing. 402/429 are answers (`allowed: false`), not errors. */
  check(request: CheckRequest, options?: RequestOptions): Promise<CheckResult>;
  /** `POST /v1/usage` (scope usage:write): records one use atomically. Throws QuotaError (402/429) when refused: then nothing was recorded. */
  recordUsage(record: UsageRecord, options?: RequestOptions): Promise<UsageResult>;
  /** `POST /v1/usage` with `{ records }` (up to 1,000): each record answered with its own status, none thrown. */
  recordUsageBatch(records: readonly UsageRecord[], options?: RequestOptions): Promise<BatchAnswer>;
  /** `POST /v1/leases` (scope usage:write): takes a slot of a concurrency limit. Throws QuotaError (429 `concurrency_exceeded`, 402) when none is free. */
  acquireLease(request: LeaseRequest, options?: RequestOptions): Promise<LeaseResult>;
  /** `POST /v1/leases/{id}/release` (scope usage:write): frees the slot (idempotent), recording the work's usage when given. */
  releaseLease(leaseId: string, request?: ReleaseRequest, options?: RequestOptions): Promise<ReleaseAnswer>;
  /** `POST /v1/tokens` (scope tokens:write): a signed entitlement token for `audience`. */
  issueToken(request: TokenRequest, options?: RequestOptions): Promise<TokenAnswer>;
  /** `POST /v1/activation-codes` (scope tokens:write): a one-time code for a client (a plugin) to activate with. */
  issueActivationCode(request: ActivationCodeRequest, options?: RequestOptions): Promise<ActivationCodeAnswer>;
  /** `POST /v1/activate` (no key needed): the code exchanged, once, for a token pair bound to `domain`. */
  activate(request: { readonly code: string; readonly domain: string }, options?: RequestOptions): Promise<TokenPairAnswer>;
  /** `POST /v1/refresh` (no key needed): a new pair; the refresh token presented is spent. */
  refresh(request: { readonly refreshToken: string; readonly domain: string }, options?: RequestOptions): Promise<TokenPairAnswer>;
  /** `POST /v1/activations/{id}/revoke` (scope tokens:write): no further refresh. */
  revokeActivation(activationId: string, options?: RequestOptions): Promise<Activation>;
  /** `GET /api/users/{id}/activations` (scope read), newest first. */
  activations(userId: string, options?: RequestOptions): Promise<ActivationsAnswer>;
  /** Live transitions over graphql-sse (scope read), resuming after drops; see LiveFilter and LiveOptions. */
  live(filter?: LiveFilter, options?: LiveOptions): AsyncGenerator<LiveTransition, void, undefined>;
  /** Any GraphQL query with a typed document (yours from GraphQL Code Generator, or a string with its types). */
  graphql<TResult, TVariables>(document: TypedDocument<TResult, TVariables>, variables: TVariables, options?: RequestOptions): Promise<TResult>;
};

const segment = encodeURIComponent;

const usageBody = (r: UsageRecord) => ({
  userId: r.userId,
  feature: r.feature,
  units: r.units,
  idempotencyKey: r.idempotencyKey,
  ...(r.at === undefined ? {} : { at: r.at instanceof Date ? r.at.toISOString() : r.at }),
});

const replayed = (answer: Answered<unknown>): boolean => answer.headers.get("idempotent-replayed") === "true";

/** A GraphQL answer's data, or its errors thrown as a VerityError (status: the HTTP one, or what the code has over REST). */
const graphqlData = <T>(answer: Answered<{ readonly data?: T | null; readonly errors?: readonly GraphQLErrorBody[] }>): T => {
  const { data, errors } = answer.body;
  const requestId = answer.headers.get("x-request-id");
  if ((errors === undefined || errors.length === 0) && answer.status !== 200) throw refusalError(answer.status, answer.body, requestId);
  if (errors !== undefined && errors.length > 0) throw graphqlError(errors, answer.status, requestId);
  if (data === undefined || data === null) throw new VerityError({ status: answer.status, code: "invalid_answer", message: "the GraphQL answer holds no data" });
  return data;
};

const graphqlRequest = async <TResult, TVariables>(transport: Transport, document: TypedDocument<TResult, TVariables>, variables: TVariables, options?: RequestOptions): Promise<TResult> => {
  const query = await queryText(document);
  // GraphQL answers 400 with `errors` for a document the schema refuses: read them rather than throw a bare 400.
  const answer = await transport.send<{ data?: TResult | null; errors?: GraphQLErrorBody[] }>("POST", "graphql", { query, variables }, options, (status) => status === 400);
  return graphqlData(answer);
};

export const createVerityClient = (options: VerityClientOptions): VerityClient => {
  const t = createTransport(options);
  const user = (id: string, what: string) => `api/users/${segment(id)}/${what}`;
  const get = async <T>(path: string, call?: RequestOptions): Promise<T> => (await t.send<T>("GET", path, undefined, call)).body;
  const post = async <T>(path: string, body: unknown, call?: RequestOptions): Promise<Answered<T>> => t.send<T>("POST", path, body, call);

  return {
    entitlements: (userId, call) => get(user(userId, "entitlements"), call),
    async entitlement(userId, feature, call) {
      const { entitlement } = await graphqlRequest(t, EntitlementDocument, { userId, feature }, call);
      if (entitlement === null) throw new VerityError({ status: 404, code: "user_not_found", message: `no user is known by the id "${userId}"` });
      return entitlement;
    },
    subscription: (userId, call) => get(user(userId, "subscription"), call),
    credits(userId, page = {}, call) {
      const query = new URLSearchParams();
      if (page.limit !== undefined) query.set("limit", String(page.limit));
      if (page.after !== undefined) query.set("after", page.after);
      const qs = query.toString();
      return get(`${user(userId, "credits")}${qs === "" ? "" : `?${qs}`}`, call);
    },
    plans: (query = {}, call) => get(query.locale === undefined ? "api/plans" : `api/plans?locale=${segment(query.locale)}`, call),
    checkout: (provider, id, call) => get(`api/checkouts/${segment(provider)}/${segment(id)}`, call),
    async check(request, call) {
      const body = { userId: request.userId, feature: request.feature, ...(request.units === undefined ? {} : { units: request.units }) };
      // 402 and 429 carry `allowed: false` and the reason: a decision, returned; other refusals are thrown.
      const answer = await t.send<CheckAllowed | CheckRefused>("POST", "v1/check", body, call, (status) => status === 402 || status === 429);
      return { ...answer.body, status: answer.status } as CheckResult;
    },
    async recordUsage(record, call) {
      const answer = await post<UsageAnswer>("v1/usage", usageBody(record), call);
      return { ...answer.body, replayed: replayed(answer) };
    },
    async recordUsageBatch(records, call) {
      return (await post<BatchAnswer>("v1/usage", { records: records.map(usageBody) }, call)).body;
    },
    async acquireLease(request, call) {
      const body = { userId: request.userId, feature: request.feature, idempotencyKey: request.idempotencyKey, ...(request.ttlSeconds === undefined ? {} : { ttlSeconds: request.ttlSeconds }) };
      const answer = await post<LeaseAnswer>("v1/leases", body, call);
      return { ...answer.body, replayed: replayed(answer) };
    },
    async releaseLease(leaseId, request = {}, call) {
      return (await post<ReleaseAnswer>(`v1/leases/${segment(leaseId)}/release`, request.usage === undefined ? {} : { usage: request.usage }, call)).body;
    },
    async issueToken(request, call) {
      const body = { userId: request.userId, audience: request.audience, ...(request.ttlSeconds === undefined ? {} : { ttlSeconds: request.ttlSeconds }) };
      return (await post<TokenAnswer>("v1/tokens", body, call)).body;
    },
    async issueActivationCode(request, call) {
      const body = { userId: request.userId, ...(request.ttlSeconds === undefined ? {} : { ttlSeconds: request.ttlSeconds }), ...(request.tokenTtlSeconds === undefined ? {} : { tokenTtlSeconds: request.tokenTtlSeconds }) };
      return (await post<ActivationCodeAnswer>("v1/activation-codes", body, call)).body;
    },
    activate: async (request, call) => (await post<TokenPairAnswer>("v1/activate", { code: request.code, domain: request.domain }, call)).body,
    refresh: async (request, call) => (await post<TokenPairAnswer>("v1/refresh", { refreshToken: request.refreshToken, domain: request.domain }, call)).body,
    revokeActivation: async (activationId, call) => (await post<Activation>(`v1/activations/${segment(activationId)}/revoke`, {}, call)).body,
    activations: (userId, call) => get(user(userId, "activations"), call),
    live: (filter, liveOptions) => liveTransitions(t, filter, liveOptions),
    graphql: (document, variables, call) => graphqlRequest(t, document, variables, call),
  };
};
