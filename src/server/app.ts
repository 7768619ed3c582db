// HTTP composition: webhooks, REST shortcuts, GraphQL, health. `buildApp` receives every
// dependency (database, catalog, secrets, clock) so tests run the real server with their own.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setImmediate } from "node:timers/promises";
import { Either } from "effect";
import { useGraphQLSSE } from "@graphql-yoga/plugin-graphql-sse";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createYoga, isAsyncIterable, type Plugin } from "graphql-yoga";
import type { Context } from "../api/builder.js";
import { schema } from "../api/schema.js";
import type { Catalog } from "../domain/catalog.js";
import { isProvider, type Provider } from "../domain/provider.js";
import type { Database } from "../store/database.js";
import { TransitionHub } from "../api/live.js";
import { announceFeed } from "../store/feed.js";
import { catalogFingerprint, Projector, rebuildIfStale, rederiveEvent } from "../projection/projector.js";
import { ServerPresence } from "../store/servers.js";
import { ServerMetrics, type MetricsAccess } from "./metrics.js";

/** A request's path without its query, cheaply (for labels; routing parses the URL properly). */
const pathOf = (url: string | undefined): string => {
  const u = url ?? "/";
  const q = u.indexOf("?");
  return q < 0 ? u : u.slice(0, q);
};
import { lastEventSeq } from "../store/partition.js";

/** /readyz answers 503 while projection trails the event store by more than this. */
const READY_MAX_LAG_EVENTS = 1_000;
const READY_MAX_LAG_SECONDS = 60;
import { Appender } from "../store/appender.js";
import { ReadModel } from "../store/read-model.js";
import { RejectionLog } from "../store/rejections.js";
import { Background } from "./background.js";
import type { Principal, Scope } from "../api/scopes.js";
import { hashKey } from "./auth.js";
import { readBody } from "./body.js";
import { answerNow, errorBody, EventNotFound, Forbidden, InvalidApiKey, InvalidJson, InvalidParameter, MethodNotAllowed, ok, PayloadTooLarge, RouteNotFound, send, sendJson, Unauthorized, UnknownProvider, type Answer, type Refused, type RefusalBody } from "./errors.js";
import { GraphqlFastLane } from "./graphql-fast-lane.js";
import { GRAPHQL_LIMITS, graphqlLimits, limitRules, type IntrospectionPolicy } from "./graphql-limits.js";
import { ingestWebhook, retryMissingEnrichments, type IngestDeps } from "./ingest.js";
import type { ProviderApis } from "./provider-api.js";
import type { Logger } from "./logger.js";
import { getCredits, getEntitlements, getCheckout, getEvents, getPlans, getSubscription } from "./rest.js";
import { freeLease, takeLease, type LeaseDeps } from "./leases.js";
import { check, outcomeAnswer, prepareUsage, recordOne, type Sender, type UsageDeps } from "./usage.js";
import { decodeActivateRequest, decodeActivationCodeRequest, decodeCheckRequest, decodeLeaseRequest, decodeRefreshRequest, decodeReleaseRequest, decodeTokenRequest, decodeUsageRequest, MAX_BATCH } from "./usage-request.js";
import { issueToken, TokenSigner } from "./tokens.js";
import { activate, issueActivationCode, refresh, revoke, userActivations, type ActivationDeps } from "./activations.js";
import { WebhookSender } from "./webhooks-out.js";
import { ENDPOINTS_ROUTE, serveEndpoints } from "./endpoints.js";
import { UsageAppender } from "../store/usage.js";
import { announceProjected } from "../store/read-model.js";
import { randomUUID } from "node:crypto";
import { HistoryCache } from "../store/metrics.js";
import { QuotaBlockLog } from "../store/quota-blocks.js";
import { LatencyWindow } from "../api/latency.js";
import { dashboardFile, isLocalDashboard } from "./dashboard.js";

export type AppOptions = {
  readonly db: Database;
  readonly catalog: Catalog;
  /** Webhook signing secrets per provider (several during a rotation). */
  readonly secrets: Readonly<Partial<Record<Provider, readonly string[]>>>;
  /** Providers' APIs, for the reads some events need (Stripe: a checkout's line items). */
  readonly apis: ProviderApis;
  readonly maxBodyBytes: number;
  /** Serve the GraphiQL page at GET /graphql in a browser (default true). */
  readonly graphiql?: boolean;
  /**
   * Who may open the dashboard: "loopback" lets the dashboard on this machine read without a key
   * (`verity serve`'s default), "key" asks for a key with the `dashboard` scope everywhere
   * (buildApp's default), "off" does not serve it.
   */
  readonly dashboard?: DashboardAccess;
  /** Who may read /metrics: a key with the metrics scope (default), also keyless from loopback, or nobody. */
  readonly metrics?: MetricsAccess;
  /** Who may introspect the schema (default "key": any valid API key). */
  readonly introspection?: IntrospectionPolicy;
  /** Answer repeated queries with compiled executors (default true; false for comparisons). */
  readonly graphqlFastLane?: boolean;
  readonly now: () => number;
  readonly log: Logger;
  /** How often live subscribers poll the feed besides NOTIFY (default 1 s). */
  readonly livePollMs?: number;
  /** How often webhooks out look for new transitions and due deliveries (default 500 ms). */
  readonly webhooksOutIntervalMs?: number;
  /** How often pending events are retried while serving (default 30 s). */
  readonly catchUpIntervalMs?: number;
};

export type DashboardAccess = "loopback" | "key" | "off";

/** The dashboard on this machine without a key: it may read what the dashboard shows, nothing more. */
const LOCAL_DASHBOARD: Principal = { keyId: "loopback", scopes: new Set(["dashboard"]) };

export type App = {
  readonly server: Server;
  readonly projector: Projector;
  readonly appender: Appender;
  /** Group commit of the app's usage records. */
  readonly usage: UsageAppender;
  readonly reads: ReadModel;
  readonly fastLane: GraphqlFastLane | null;
  readonly live: TransitionHub;
  readonly rejections: RejectionLog;
  /** Webhooks out: `wake()` runs a round now instead of at its next interval. */
  readonly webhooksOut: WebhookSender;
  /** Resolves once the work behind answered deliveries (projection, enrichment) is done. */
  readonly settle: () => Promise<void>;
  /** Listens on `port` (0 = any free port) after catching up on unprojected events. */
  readonly start: (port: number, host?: string) => Promise<{ readonly port: number; readonly url: string }>;
  /** Stops accepting, lets requests in flight finish, then closes the database. */
  readonly stop: () => Promise<void>;
};

/**
 * A subscription refused before it starts (no key, unknown user) yields `{ errors }` without
 * `data`; graphql-sse only recognizes a result with `data`, so give it `data: null` and the
 * client receives the errors instead of a bare 400.
 */
const subscribeErrorsAsResults: Plugin = {
  onSubscribe: () => ({
    onSubscribeResult: ({ result, setResult }) => {
      if (!isAsyncIterable(result) && !("data" in result)) setResult({ data: null, errors: result.errors });
    },
  }),
};

/** Results a stream may pass on before it lets the event loop turn (see backpressure). */
const RESULTS_PER_TURN = 32;

/**
 * Backpressure for event streams. graphql-sse pulls a subscription's results as fast as they come
 * and queues them for the connection without bound, so before each result, while the connection's
 * buffer is full (a client that stopped reading), wait for it to drain. A result for a connection
 * that is gone (or a server shutting down) ends the subscription instead.
 */

const backpressure = (shutdown: AbortSignal) => {
  const responses = new WeakMap<Request, ServerResponse>();
  const gone = (res: ServerResponse) => res.destroyed || res.writableEnded;
  const drained = (res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off("drain", done).off("close", done);
        shutdown.removeEventListener("abort", done);
        resolve();
      };
      res.on("drain", done).on("close", done);
      shutdown.addEventListener("abort", done);
    });
  const track: Plugin<{}, { res: ServerResponse }> = {
    onRequest: ({ request, serverContext }) => void responses.set(request, serverContext.res),
  };
  const sinceTurn = new WeakMap<ServerResponse, number>();
  const onNext = async (_ctx: unknown, req: { raw: Request }) => {
    const res = responses.get(req.raw);
    if (res === undefined) return;
    // A turn of the event loop every few results: results read without IO (SQLite answers
    // synchronously) would otherwise all be queued before the response even starts writing. Not
    // one per result: a turn can wait behind a projection, and a busy stream would fall behind.
    const count = (sinceTurn.get(res) ?? 0) + 1;
    sinceTurn.set(res, count % RESULTS_PER_TURN);
    if (count >= RESULTS_PER_TURN) await setImmediate();
    if (!gone(res) && res.writableNeedDrain && !shutdown.aborted) await drained(res);
    if (gone(res) || shutdown.aborted) throw new Error("the event stream is closed");
  };
  return { track, onNext };
};

/** GraphiQL, self-contained (no CDN): rendered once, it is several megabytes. */
let graphiqlPage: string | null = null;
const graphiqlHtml = (opts: Parameters<typeof renderGraphiQL>[0]) => (graphiqlPage ??= renderGraphiQL(opts));

/** A GraphQL refusal before any GraphQL work: Verity's error shape and GraphQL's, in one body. */
const graphqlRefusal: RefusalBody = (e) => ({ error: { code: e.code, message: e.message }, errors: [{ message: e.message, extensions: { code: e.code } }] });

/** The header on every answer: every event with a seq up to it is in the projections read. */
export const PROJECTED_THROUGH_HEADER = "verity-projected-through";

const CHECKOUT_ROUTE = /^\/api\/checkouts\/([^/]+)\/([^/]+)$/;
const USER_ROUTE = /^\/api\/users\/([^/]+)\/(entitlements|subscription|credits|activations)$/;

const LEASE_RELEASE_ROUTE = /^\/v1\/leases\/([^/]+)\/release$/;
const ACTIVATION_REVOKE_ROUTE = /^\/v1\/activations\/([^/]+)\/revoke$/;
/** The keyless routes (/v1/activate, /v1/refresh) take a code or a token and a domain: a few hundred bytes. */
const MAX_PUBLIC_BODY = 4_096;

/** The request's correlation id: the caller's `X-Request-Id` when it is a sane token, else a new one. */
const requestIdOf = (req: IncomingMessage): string => {
  const sent = req.headers["x-request-id"];
  return typeof sent === "string" && /^[\x21-\x7e]{1,128}$/.test(sent) ? sent : randomUUID();
};

/** A body of the app's write endpoints: a batch of 1,000 records fits with room to spare. */
const MAX_WRITE_BODY = 1_048_576;
const WEBHOOK_ROUTE = /^\/webhooks\/([^/]+)$/;
const REPROCESS_ROUTE = /^\/api\/admin\/events\/([^/]+)\/reprocess$/;

export const buildApp = (options: AppOptions): App => {
  const { db, catalog, now, log } = options;
  const reads = new ReadModel(db, undefined, undefined, now);
  const signer = new TokenSigner(db, now);
  const activationDeps: ActivationDeps = { db, reads, catalog, signer, now };
  const webhooksOut = new WebhookSender(db, now, log, { intervalMs: options.webhooksOutIntervalMs });
  const projector: Projector = new Projector(db, catalog, () => appender.busy, (users) => reads.forget(users));
  const appender: Appender = new Appender(db, (seqs) => projector.expect(seqs));
  const background = new Background(log);
  const live = new TransitionHub(db);
  const usage = new UsageAppender(db, now, (commit) => {
    projector.noteProjected(commit.recorded.map((r) => r.seq));
    const users = [...new Set(commit.recorded.map((r) => r.userId))];
    for (const userId of users) reads.noteCounters(userId, commit.counters);
    // Live subscribers hear the usage transitions; other processes drop what they cached of these users.
    void announce();
    if (db.kind === "postgresql") void announceProjected(db, users).catch((e: Error) => log.warn("could not announce usage", { error: e.message }));
  }, undefined, catalog);
  const usageDeps: UsageDeps = { db, catalog, reads, usage, now };
  const leaseDeps: LeaseDeps = {
    ...usageDeps,
    onLease: (lease, recorded) => {
      reads.noteLease(lease.userId, lease);
      if (recorded !== null && recorded.recorded.length > 0) {
        projector.noteProjected(recorded.recorded.map((r) => r.seq));
        reads.noteCounters(lease.userId, recorded.counters);
      }
      void announce();
      if (db.kind === "postgresql") void announceProjected(db, [lease.userId]).catch((e: Error) => log.warn("could not announce a lease", { error: e.message }));
    },
  };
  const rejections = new RejectionLog(db);
  const quotaBlocks = new QuotaBlockLog(db);
  const quotaLatency = new LatencyWindow();
  /** A refusal by a quota (spent, no slot, no credits) counted for the dashboard's incidents. */
  const noteBlock = (userId: string, feature: string, refused: Refused): void => {
    if (refused._tag === "QuotaExceeded" || refused._tag === "ConcurrencyExceeded" || refused._tag === "InsufficientCredits") {
      quotaBlocks.record({ subject: userId, userId, feature, code: refused.code, at: now() });
    }
  };
  const introspection = options.introspection ?? "key";
  const dashboardAccess = options.dashboard ?? "key";
  // The key checked before yoga sees a request, for its context.
  const principals = new WeakMap<IncomingMessage, Principal>();
  // Local subscribers are woken at once; other processes on the same PostgreSQL through NOTIFY.
  const announce = async () => {
    await live.refresh().catch(() => undefined);
    await announceFeed(db).catch((e: Error) => log.warn("could not announce feed", { error: e.message }));
  };
  const shutdown = new AbortController();
  const streams = backpressure(shutdown.signal);
  const ingestDeps: IngestDeps = {
    ...options,
    projector,
    appender,
    background,
    rejections,
    onProjected: () => void announce(),
  };

  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql:
      options.graphiql === false
        ? false
        : { title: "Verity", defaultQuery: '{ user(id: "user_123") { id entitlements { feature enabled source remaining } } }' },
    renderGraphiQL: graphiqlHtml,
    landingPage: false,
    logging: false,
    plugins: [
      ...graphqlLimits({ introspection, authenticated: (ctx) => principals.has((ctx as { req: IncomingMessage }).req) }),
      streams.track,
      // GraphQL over Server-Sent Events (the graphql-sse protocol) at /graphql/stream.
      useGraphQLSSE({ endpoint: "/graphql/stream", onNext: streams.onNext }),
      subscribeErrorsAsResults,
    ],
    context: ({ request, req }): Context => contextFor(principals.get(req) ?? null, request.signal),
  });
  const histories = new HistoryCache(db);
  const contextFor = (principal: Principal | null, signal: AbortSignal): Context => ({
    db,
    catalog,
    histories,
    quotaBlocks,
    quotaLatency,
    now: now(),
    principal,
    live,
    rejections,
    reads,
    projectedThrough: projector.projectedThrough,
    signal,
  });
  const fastLane = options.graphqlFastLane === false ? null : new GraphqlFastLane(schema, limitRules(introspection));
  const noSignal = new AbortController().signal;

  /**
   * GraphQL behind its gate: the key is checked from the header before yoga parses anything, and
   * the body is read with a limit; only the GraphiQL page (static) and, when the operator allows
   * it, introspection are open without a key.
   */
  const serveGraphql = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const page = req.method === "GET" && path === "/graphql" && (req.headers.accept ?? "").includes("text/html") && !req.url?.includes("?");
    if ((page && options.graphiql !== false) || req.method === "OPTIONS") return void (await yoga(req, res));
    const credentials = await reads.credentials(req.headers.authorization, hashKey);
    const principal = credentials._tag === "Key" ? credentials.principal : credentials._tag === "NoKey" && dashboardAccess === "loopback" && isLocalDashboard(req) ? LOCAL_DASHBOARD : null;
    // A key nobody knows is refused even where no key is needed: its sender means to use one.
    if (credentials._tag === "UnknownKey" || (principal === null && introspection !== "public")) {
      // The body is drained unread (closing with unread bytes would reset the connection before
      // the client reads the answer); the connection is not reused.
      req.resume();
      res.setHeader("connection", "close");
      return send(res, answerNow(Either.left(credentials._tag === "UnknownKey" ? new InvalidApiKey() : new Unauthorized()), graphqlRefusal));
    }
    if (principal !== null) principals.set(req, principal);
    if (req.method !== "GET" && req.method !== "HEAD") {
      const body = await readBody(req, GRAPHQL_LIMITS.maxBytes);
      if (body._tag === "TooLarge") {
        return send(res, answerNow(Either.left(new PayloadTooLarge({ message: `a GraphQL request body may hold at most ${GRAPHQL_LIMITS.maxBytes} bytes` })), graphqlRefusal));
      }
      // A query seen before, with a key, is answered by the fast lane when it can be.
      if (fastLane !== null && principal !== null && path === "/graphql" && req.method === "POST") {
        const fast = await fastLane.answer(body.bytes, req.headers, contextFor(principal, noSignal));
        if (fast !== null) {
          res.writeHead(fast.status, { "content-type": fast.contentType, "content-length": Buffer.byteLength(fast.body) });
          return void res.end(fast.body);
        }
      }
      // Already read: yoga takes a Buffer in `body` instead of reading the stream again.
      if (body.bytes.length > 0) (req as IncomingMessage & { body?: Buffer }).body = body.bytes;
    }
    await yoga(req, res);
  };

  /** The request's key, when it has one with `scope`. */
  const authorized = async (req: IncomingMessage, scope: Scope): Promise<Either.Either<Principal, Unauthorized | InvalidApiKey | Forbidden>> => {
    const credentials = await reads.credentials(req.headers.authorization, hashKey);
    if (credentials._tag === "NoKey") return Either.left(new Unauthorized());
    if (credentials._tag === "UnknownKey") return Either.left(new InvalidApiKey());
    return credentials.principal.scopes.has(scope) ? Either.right(credentials.principal) : Either.left(new Forbidden({ scope }));
  };

  /** An id in a path (a user's, a lease's), decoded; refused when it is not valid percent-encoding or holds NUL. */
  const pathId = (raw: string, what = "user id"): Either.Either<string, InvalidParameter> =>
    Either.try({ try: () => decodeURIComponent(raw), catch: () => new InvalidParameter({ message: `the ${what} in the path is not valid percent-encoding` }) }).pipe(
      // No stored id holds NUL (PostgreSQL text cannot), so such an id is a mistake, not an unknown one.
      Either.filterOrLeft((id) => !id.includes("\u0000"), () => new InvalidParameter({ message: `the ${what} must not contain a NUL character (%00)` })),
    );

  /** The REST shortcuts: reads decided from memory (an Either), the event feed from the store. */
  /**
   * POST /api/admin/events/{provider:eventId | seq}/reprocess: re-derives the users of one stored
   * event from all their events (idempotent); answers which users it holds now.
   */
  const serveReprocess = async (req: IncomingMessage, raw: string): Promise<Answer> => {
    req.resume();
    if (req.method !== "POST") return answerNow(Either.left(new MethodNotAllowed({ message: "reprocess with POST" })));
    const key = await authorized(req, "admin");
    if (Either.isLeft(key)) return answerNow(Either.left(key.left));
    const id = pathId(raw, "event id");
    if (Either.isLeft(id)) return answerNow(Either.left(id.left));
    const colon = id.right.indexOf(":");
    const where = /^\d{1,15}$/.test(id.right)
      ? { seq: Number(id.right) }
      : colon > 0 && isProvider(id.right.slice(0, colon))
        ? { provider: id.right.slice(0, colon), providerEventId: id.right.slice(colon + 1) }
        : null;
    const event = where === null ? null : await db.prisma.event.findFirst({ where, select: { seq: true, provider: true, providerEventId: true } });
    if (event === null) return answerNow(Either.left(new EventNotFound({ id: id.right })));
    const { users, affected } = await rederiveEvent(db, catalog, event.seq);
    reads.forget(affected);
    await announce();
    const shown = await db.prisma.user.findMany({ where: { id: { in: [...users] } }, select: { id: true, appUserId: true }, orderBy: { id: "asc" } });
    log.info("event reprocessed", { event: `${event.provider}:${event.providerEventId}`, seq: event.seq, users: shown.length, keyId: key.right.keyId });
    return ok({ event: `${event.provider}:${event.providerEventId}`, seq: event.seq, users: shown.map((u) => u.appUserId ?? u.id) });
  };

  const serveApi = async (req: IncomingMessage, path: string, query: URLSearchParams): Promise<Answer> => {
    const reprocess = REPROCESS_ROUTE.exec(path);
    if (reprocess) return serveReprocess(req, reprocess[1]!);
    const endpoints = ENDPOINTS_ROUTE.exec(path);
    if (endpoints) {
      const key = await authorized(req, "admin");
      if (Either.isLeft(key)) return (req.resume(), answerNow(Either.left(key.left)));
      const answer = await serveEndpoints(db, req.method ?? "GET", endpoints, () => jsonBody(req), new Date(now()));
      if (req.method !== "POST" || endpoints[1] !== undefined) req.resume();
      return answerNow<Refused>(answer);
    }
    if (req.method !== "GET") return answerNow(Either.left(new MethodNotAllowed({ message: "the API is read-only: use GET" })));
    const user = USER_ROUTE.exec(path);
    if (user) {
      const read =
        user[2] === "entitlements"
          ? (id: string) => getEntitlements(reads, catalog, id, now())
          : user[2] === "credits"
            ? (id: string) => getCredits(db, reads, catalog, id, now(), query)
            : user[2] === "activations"
              ? (id: string) => userActivations(activationDeps, id)
              : (id: string) => getSubscription(reads, id, now());
      const id = Either.flatMap(await authorized(req, "read"), () => pathId(user[1]!));
      return answerNow<Refused>(await Either.match(id, { onLeft: async (e) => Either.left(e), onRight: read }));
    }
    const checkoutRoute = CHECKOUT_ROUTE.exec(path);
    if (checkoutRoute) {
      const key = await authorized(req, "read");
      if (Either.isLeft(key)) return answerNow(Either.left(key.left));
      const id = pathId(checkoutRoute[2]!, "checkout id");
      if (Either.isLeft(id)) return answerNow(Either.left(id.left));
      return answerNow<Refused>(await getCheckout(db, reads, catalog, checkoutRoute[1]!, id.right, now()));
    }
    if (path === "/api/plans") {
      const key = await authorized(req, "read");
      return answerNow<Refused>(Either.flatMap(key, () => getPlans(catalog, query)));
    }
    if (path === "/api/events") {
      const key = await authorized(req, "events");
      return answerNow<Refused>(await Either.match(key, { onLeft: async (e) => Either.left(e), onRight: () => getEvents(db, query) }));
    }
    return answerNow(Either.left(new RouteNotFound({ method: req.method ?? "GET", path })));
  };

  /** A JSON body of the app's write endpoints, read within the limit. */
  const jsonBody = async (req: IncomingMessage, emptyIsObject = false, limit = MAX_WRITE_BODY): Promise<Either.Either<unknown, PayloadTooLarge | InvalidJson>> => {
    const body = await readBody(req, limit);
    // A release may be sent with no body at all.
    if (emptyIsObject && body._tag === "Body" && body.bytes.length === 0) return Either.right({});
    if (body._tag === "TooLarge") return Either.left(new PayloadTooLarge({ message: limit === MAX_WRITE_BODY ? `a body may hold at most ${MAX_WRITE_BODY} bytes; send at most ${MAX_BATCH} records per batch` : `a body may hold at most ${limit} bytes here` }));
    return Either.try({ try: () => JSON.parse(body.bytes.toString("utf8")) as unknown, catch: (e) => new InvalidJson({ message: `body is not JSON: ${(e as Error).message}` }) });
  };

  /**
   * `POST /v1/usage`: one record (200, 402, 429, 4xx) or a batch, each record answered on its own
   * in `results` (status and body), all decided in one transaction when they arrive together.
   */
  const serveUsage = async (req: IncomingMessage, requestId: string): Promise<Answer & { readonly replayed?: boolean }> => {
    if (req.method !== "POST") return answerNow(Either.left(new MethodNotAllowed({ message: "usage is recorded with POST" })));
    const key = await authorized(req, "usage:write");
    if (Either.isLeft(key)) return (req.resume(), answerNow(Either.left(key.left)));
    const sender: Sender = { principal: key.right, requestId };
    const decoded = Either.flatMap(await jsonBody(req), decodeUsageRequest);
    if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
    const request = decoded.right;
    if (request._tag === "One") {
      const answered = await recordOne(usageDeps, request.record, sender);
      if (Either.isLeft(answered)) noteBlock(request.record.userId, request.record.feature, answered.left);
      return Either.isRight(answered) ? answered.right : answerNow(Either.left(answered.left));
    }
    // Every record prepared, then all handed to the group commit together: one transaction.
    const prepared = await Promise.all(request.records.map((r) => prepareUsage(usageDeps, r, sender)));
    const results = await Promise.all(
      prepared.map(async (p, i) => {
        const answered = Either.isLeft(p) ? Either.left(p.left) : outcomeAnswer(p.right, await usage.record(p.right));
        if (Either.isLeft(answered)) noteBlock(request.records[i]!.userId, request.records[i]!.feature, answered.left);
        return Either.isRight(answered) ? { status: 200, ...(answered.right.body as object), ...(answered.right.replayed ? { replayed: true } : {}) } : { status: answered.left.status, ...(errorBody(answered.left) as object) };
      }),
    );
    return ok({ results });
  };

  /** `POST /v1/tokens` (scope tokens:write): a signed token of the user's entitlements now. */
  const serveToken = async (req: IncomingMessage): Promise<Answer> => {
    if (req.method !== "POST") return (req.resume(), answerNow(Either.left(new MethodNotAllowed({ message: "tokens are issued with POST" }))));
    const key = await authorized(req, "tokens:write");
    if (Either.isLeft(key)) return (req.resume(), answerNow(Either.left(key.left)));
    const decoded = Either.flatMap(await jsonBody(req), decodeTokenRequest);
    if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
    return answerNow<Refused>(await issueToken(reads, catalog, signer, decoded.right, now()));
  };

  /**
   * The activation routes: codes and revocations need a key with tokens:write; `/v1/activate` and
   * `/v1/refresh` take none (a client on a customer's site holds only the code or its refresh token).
   */
  const serveActivation = async (req: IncomingMessage, path: string, requestId: string): Promise<Answer> => {
    const revokeRoute = ACTIVATION_REVOKE_ROUTE.exec(path);
    const known = path === "/v1/activation-codes" || path === "/v1/activate" || path === "/v1/refresh" || revokeRoute !== null;
    if (!known) return (req.resume(), answerNow(Either.left(new RouteNotFound({ method: req.method ?? "GET", path }))));
    if (req.method !== "POST") return (req.resume(), answerNow(Either.left(new MethodNotAllowed({ message: `${path} takes POST` }))));
    if (path === "/v1/activate") {
      const decoded = Either.flatMap(await jsonBody(req, false, MAX_PUBLIC_BODY), decodeActivateRequest);
      if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
      return answerNow<Refused>(await activate(activationDeps, decoded.right, requestId));
    }
    if (path === "/v1/refresh") {
      const decoded = Either.flatMap(await jsonBody(req, false, MAX_PUBLIC_BODY), decodeRefreshRequest);
      if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
      return answerNow<Refused>(await refresh(activationDeps, decoded.right, requestId));
    }
    const key = await authorized(req, "tokens:write");
    if (Either.isLeft(key)) return (req.resume(), answerNow(Either.left(key.left)));
    const sender: Sender = { principal: key.right, requestId };
    if (revokeRoute !== null) {
      req.resume();
      const id = pathId(revokeRoute[1]!, "activation id");
      if (Either.isLeft(id)) return answerNow(Either.left(id.left));
      return answerNow<Refused>(await revoke(activationDeps, id.right, sender));
    }
    const decoded = Either.flatMap(await jsonBody(req), decodeActivationCodeRequest);
    if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
    return answerNow<Refused>(await issueActivationCode(activationDeps, decoded.right, sender));
  };

  /** `POST /v1/check`: the decision without recording; a refusal says `allowed: false` beside its error. */
  const serveCheck = async (req: IncomingMessage): Promise<Answer> => {
    if (req.method !== "POST") return answerNow(Either.left(new MethodNotAllowed({ message: "checks are POST" })));
    const key = await authorized(req, "read");
    if (Either.isLeft(key)) return (req.resume(), answerNow(Either.left(key.left)));
    const decoded = Either.flatMap(await jsonBody(req), decodeCheckRequest);
    if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
    const checked = await check(usageDeps, decoded.right);
    if (Either.isRight(checked)) return checked.right;
    const refused = checked.left;
    noteBlock(decoded.right.userId, decoded.right.feature, refused);
    return refused._tag === "NoEntitlement" || refused._tag === "QuotaExceeded" || refused._tag === "InsufficientCredits" ? { status: refused.status, body: { allowed: false, ...(errorBody(refused) as object) } } : answerNow(Either.left(refused));
  };

  /** `POST /v1/leases` and `POST /v1/leases/{id}/release` (scope usage:write). */
  const serveLeases = async (req: IncomingMessage, path: string, requestId: string): Promise<Answer & { readonly replayed?: boolean }> => {
    const release = LEASE_RELEASE_ROUTE.exec(path);
    if (path !== "/v1/leases" && release === null) return (req.resume(), answerNow(Either.left(new RouteNotFound({ method: req.method ?? "GET", path }))));
    if (req.method !== "POST") return (req.resume(), answerNow(Either.left(new MethodNotAllowed({ message: "leases are taken and released with POST" }))));
    const key = await authorized(req, "usage:write");
    if (Either.isLeft(key)) return (req.resume(), answerNow(Either.left(key.left)));
    const sender: Sender = { principal: key.right, requestId };
    const body = await jsonBody(req, release !== null);
    if (release === null) {
      const decoded = Either.flatMap(body, decodeLeaseRequest);
      if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
      const taken = await takeLease(leaseDeps, decoded.right, sender);
      if (Either.isLeft(taken)) noteBlock(decoded.right.userId, decoded.right.feature, taken.left);
      return Either.isRight(taken) ? taken.right : answerNow(Either.left(taken.left));
    }
    const leaseId = pathId(release[1]!, "lease id");
    const decoded = Either.flatMap(body, decodeReleaseRequest);
    if (Either.isLeft(leaseId)) return answerNow(Either.left(leaseId.left));
    if (Either.isLeft(decoded)) return answerNow(Either.left(decoded.left));
    const freed = await freeLease(leaseDeps, leaseId.right, decoded.right, sender);
    return Either.isRight(freed) ? freed.right : answerNow(Either.left(freed.left));
  };

  const serveWebhook = async (req: IncomingMessage, name: string, requestId: string): Promise<Answer> => {
    if (req.method !== "POST") return answerNow(Either.left(new MethodNotAllowed({ message: "webhooks are POST" })));
    if (!isProvider(name)) return answerNow(Either.left(new UnknownProvider({ name })));
    const arrived = performance.now();
    // What the delivery causes (its projection, a fetch of what it lacks) logs with its request id.
    const requestLog = log.child({ requestId });
    const ingested = await ingestWebhook({ ...ingestDeps, log: requestLog }, name, req);
    const outcome = Either.isLeft(ingested) ? ingested.left.code : ingested.right.duplicate === true ? "duplicate" : "accepted";
    const seconds = (performance.now() - arrived) / 1000;
    metrics.webhook(name, outcome, seconds);
    if (Either.isRight(ingested)) requestLog.info("webhook", { provider: name, outcome, event: ingested.right.id, type: ingested.right.type, seq: ingested.right.seq, ms: Math.round(seconds * 1000) });
    return answerNow(Either.map(ingested, (received) => ok({ received: true, ...received })));
  };

  const serveMetrics = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    req.resume();
    if (metricsAccess === "off") return send(res, answerNow(Either.left(new RouteNotFound({ method: req.method ?? "GET", path: "/metrics" }))));
    if (!ServerMetrics.keyless(metricsAccess, req)) {
      const key = await authorized(req, "metrics");
      if (Either.isLeft(key)) return send(res, answerNow(Either.left(key.left)));
    }
    const text = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType, "content-length": Buffer.byteLength(text) });
    res.end(text);
  };

  const route = async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://verity.local");
    const path = url.pathname;
    if (path === "/graphql" || path.startsWith("/graphql/")) return serveGraphql(req, res, path);
    if (path === "/dashboard" || path.startsWith("/dashboard/")) {
      if (req.method !== "GET" && dashboardAccess !== "off") return (req.resume(), send(res, answerNow(Either.left(new MethodNotAllowed({ message: "the dashboard is read-only: use GET" })))));
      const file = dashboardAccess !== "off" ? dashboardFile(path) : null;
      if (file === null) return send(res, answerNow(Either.left(new RouteNotFound({ method: req.method ?? "GET", path }))));
      res.writeHead(200, { "content-type": file.contentType, "content-length": file.body.length, "cache-control": "no-cache", "x-content-type-options": "nosniff" });
      return void res.end(file.body);
    }
    if (path === "/healthz") {
      const appends = { commits: appender.commits, events: appender.appended };
      return sendJson(res, 200, { ok: true, phase: phase.toLowerCase(), projectedThrough: projector.projectedThrough, appends });
    }
    if (path === "/readyz") {
      const readiness = await readinessOf();
      return sendJson(res, readiness.ready ? 200 : 503, readiness);
    }
    if (path === "/metrics") return serveMetrics(req, res);
    // Until the start has rebuilt what it must and caught up, only the probes above answer: a
    // provider retries a 503 webhook, and a read would see projections still being written.
    if (phase !== "Serving") {
      req.resume();
      res.setHeader("retry-after", "5");
      return sendJson(res, 503, { error: { code: "starting", message: phase === "Rebuilding" ? "Verity is rebuilding its projections from the event store; retry shortly" : "Verity is catching up on stored events; retry shortly" } });
    }
    if (path === "/.well-known/jwks.json") {
      req.resume();
      if (req.method !== "GET" && req.method !== "HEAD") return send(res, answerNow(Either.left(new MethodNotAllowed({ message: "the key set is read with GET" }))));
      // Public by design: these keys only verify. A verifier that meets a token with a `kid` it
      // does not know fetches the set again (jose's remote key set does), so a new key needs no coordination.
      return sendJson(res, 200, await signer.jwks(), { "cache-control": "public, max-age=300" });
    }
    const webhook = WEBHOOK_ROUTE.exec(path);
    if (webhook) return send(res, await serveWebhook(req, webhook[1]!, requestId));
    if (path === "/v1/usage") {
      const answer = await serveUsage(req, requestId);
      if (answer.replayed === true) res.setHeader("idempotent-replayed", "true");
      return send(res, answer);
    }
    if (path === "/v1/check") {
      const started = performance.now();
      const answer = await serveCheck(req);
      quotaLatency.record(performance.now() - started, now());
      return send(res, answer);
    }
    if (path === "/v1/tokens") return send(res, await serveToken(req));
    if (path === "/v1/activation-codes" || path === "/v1/activate" || path === "/v1/refresh" || path.startsWith("/v1/activations/")) return send(res, await serveActivation(req, path, requestId));
    if (path.startsWith("/v1/leases")) {
      const answer = await serveLeases(req, path, requestId);
      if (answer.replayed === true) res.setHeader("idempotent-replayed", "true");
      return send(res, answer);
    }
    if (path.startsWith("/api/")) return send(res, await serveApi(req, path, url.searchParams));
    return send(res, answerNow(Either.left(new RouteNotFound({ method: req.method ?? "GET", path }))));
  };

  const server = createServer((req, res) => {
    // Every answer says how far projections had got when it began: a client that delivered an
    // event (answered with its seq) waits until this reaches it instead of sleeping.
    res.setHeader(PROJECTED_THROUGH_HEADER, String(projector.projectedThrough));
    const requestId = requestIdOf(req);
    res.setHeader("x-request-id", requestId);
    const arrived = performance.now();
    res.once("finish", () => {
      const seconds = (performance.now() - arrived) / 1000;
      metrics.request(pathOf(req.url), res.statusCode, seconds);
      // A line per request only when asked (VERITY_LOG_LEVEL=debug): apps call Verity on every request they serve.
      if (log.enabled("debug")) log.debug("request", { requestId, method: req.method, path: pathOf(req.url), status: res.statusCode, ms: Math.round(seconds * 1000) });
    });
    route(req, res, requestId).catch((e: Error) => {
      log.error("request failed", { path: req.url, requestId, error: e.message });
      if (!res.headersSent) sendJson(res, 500, { error: { code: "internal", message: "internal error; see the server log" } });
      else res.end();
    });
  });

  const catchUp = async () => {
    const { projected, failed } = await projector.catchUp();
    if (projected > 0) await announce();
    if (projected > 0) log.info("caught up on unprojected events", { events: projected });
    if (failed.length > 0) log.error("events could not be projected; they stay stored and are retried", { seqs: failed.slice(0, 20) });
  };
  let retryTimer: NodeJS.Timeout | null = null;
  const metricsAccess = options.metrics ?? "key";
  const metrics = new ServerMetrics({ projectionLag: () => projectionLag(), openStreams: () => live.active });
  /** Where the start has got (see start): only "Serving" answers more than the probes. */
  let phase: "Starting" | "Rebuilding" | "CatchingUp" | "Serving" = "Starting";

  /**
   * How far projection trails the event store: stored events not projected yet, and how long the
   * oldest has waited; events whose projection failed are counted apart (an incident, retried by
   * catch-up, not a backlog). Two index lookups, whatever the store's size.
   */
  const projectionLag = async (): Promise<{ readonly events: number; readonly seconds: number; readonly failed: number }> => {
    const last = await lastEventSeq(db);
    const through = projector.projectedThrough;
    const failed = projector.failing.size;
    if (last <= through) return { events: 0, seconds: 0, failed };
    const waiting = await db.prisma.event.findMany({ where: { seq: { gt: through, notIn: [...projector.failing].slice(0, 100) } }, orderBy: { seq: "asc" }, take: 1, select: { receivedAt: true } });
    const oldest = waiting[0]?.receivedAt;
    return { events: Math.max(0, last - through - failed), seconds: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest.getTime()) / 1000), failed };
  };

  /**
   * Ready to take traffic: started (migrations applied, projections rebuilt if they had to be,
   * caught up once) and projection trailing the store by at most the bounds.
   */
  const readinessOf = async () => {
    if (phase !== "Serving") return { ready: false, phase: phase.toLowerCase(), reason: phase === "Rebuilding" ? "rebuilding projections" : phase === "CatchingUp" ? "catching up on stored events" : "starting" };
    // (Starting: listening, before the rebuild check.)
    const lag = await projectionLag();
    const behind = lag.events > READY_MAX_LAG_EVENTS || lag.seconds > READY_MAX_LAG_SECONDS;
    return {
      ready: !behind,
      phase: "serving",
      migrations: "applied",
      projectionLag: lag,
      ...(behind ? { reason: `projection trails the event store by ${lag.events} events (${lag.seconds.toFixed(0)} s); ready again within ${READY_MAX_LAG_EVENTS} events and ${READY_MAX_LAG_SECONDS} s` } : {}),
    };
  };
  const presence = new ServerPresence(db, catalogFingerprint(catalog), (e) => log.error("server heartbeat failed", { error: e.message }));

  /**
   * Listens first (so /healthz answers while a long rebuild runs and nothing restarts the process
   * for looking dead), then rebuilds projections if the catalog or projection version changed,
   * catches up on stored events, and serves. /readyz says which phase it is in. Resolves once serving.
   */
  const start = async (port: number, host = "0.0.0.0") => {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    rejections.start();
    quotaBlocks.start();
    if (await rebuildIfStale(db, catalog, () => (phase = "Rebuilding"))) log.info("plan catalog or projection version changed: projections rebuilt from the event store");
    phase = "CatchingUp";
    await presence.start();
    await reads.start();
    await live.start(options.livePollMs);
    await catchUp();
    // The dashboard's first metrics are answered from memory.
    if (dashboardAccess !== "off") histories.warm(projector.projectedThrough);
    // Whatever failed to project (or another process stored) is picked up without a restart.
    retryTimer = setInterval(() => void catchUp().catch((e: Error) => log.error("catch-up failed", { error: e.message })), options.catchUpIntervalMs ?? 30_000);
    retryTimer.unref();
    phase = "Serving";
    webhooksOut.start();
    retryMissingEnrichments(ingestDeps).catch((e: Error) => log.error("enrichment retry failed", { error: e.message }));
    const actual = (server.address() as AddressInfo).port;
    return { port: actual, url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${actual}` };
  };

  const stop = async () => {
    if (retryTimer) clearInterval(retryTimer);
    await webhooksOut.stop();
    await presence.stop().catch((e: Error) => log.error("could not remove this server from ServerProcess", { error: e.message }));
    shutdown.abort();
    await live.stop();
    await reads.stop();
    // Event streams end with the subscriptions; one whose client stopped reading never flushes,
    // so connections still open after a grace period are cut (clients resume from their cursor).
    const grace = setTimeout(() => server.closeAllConnections(), 2000);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearTimeout(grace);
    // Projection and enrichment behind answered deliveries finish before the database closes.
    await background.settle();
    await projector.catchUp().catch(() => undefined);
    await rejections.stop().catch((e: Error) => log.error("could not write the last rejection counts", { error: e.message }));
    await quotaBlocks.stop().catch((e: Error) => log.error("could not write the last quota block counts", { error: e.message }));
    await db.close();
  };

  const settle = async () => {
    await background.settle();
    await projector.catchUp();
  };

  return { server, projector, appender, usage, reads, live, rejections, fastLane, webhooksOut, settle, start, stop };
};
