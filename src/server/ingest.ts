// Webhook ingest: verify → parse → append durably → answer; projection and enrichment run right
// behind, off the request (a provider waits only for the durable append). Anything refused is
// answered with a 4xx and a reason and recorded without its payload; nothing unverified is stored.
// Everything verified that is a JSON event is stored, whatever it holds: a body too deep for a
// parsed copy is kept raw only, ids no database can hold are stored hashed (see store/parsed-copy.ts).
import type { IncomingMessage } from "node:http";
import { Effect, Either } from "effect";
import type { Catalog } from "../domain/catalog.js";
import type { Provider } from "../domain/provider.js";
import { representable } from "../domain/time.js";
import { apiNeeds, webhookSchemes } from "../providers/registry.js";
import type { ApiNeeds, ApiRead, Envelope, WebhookScheme } from "../providers/types.js";
import type { Database } from "../store/database.js";
import type { Appender } from "../store/appender.js";
import { eventsOfTypes, findEventSeq } from "../store/events.js";
import { type Projector } from "../projection/projector.js";
import { isProjected } from "../store/projection-writes.js";
import type { RejectionLog } from "../store/rejections.js";
import type { Background } from "./background.js";
import { readBody } from "./body.js";
import { InvalidEvent, InvalidJson, PayloadTooLarge, ProviderNotConfigured, ProviderNotSupported, SignatureRefused, type WebhookRefused } from "./errors.js";
import type { Logger } from "./logger.js";
import { performRead, type ProviderApis } from "./provider-api.js";

export type IngestDeps = {
  readonly db: Database;
  readonly catalog: Catalog;
  readonly projector: Projector;
  /** Group commit of appends: a delivery is answered once its transaction is durable. */
  readonly appender: Appender;
  /** Where projection and enrichment run after the answer. */
  readonly background: Background;
  readonly now: () => number;
  readonly maxBodyBytes: number;
  /** Signing secrets per provider; a provider with none answers 503 and stores nothing. */
  readonly secrets: Readonly<Partial<Record<Provider, readonly string[]>>>;
  /** Providers' APIs, for the reads their events need (see ApiNeeds); a provider left out is not called. */
  readonly apis: ProviderApis;
  /** Where refusals are counted (written in batches, never one durable write per refusal). */
  readonly rejections: RejectionLog;
  readonly log: Logger;
  /** Told after each projection commits (live subscribers wait on it). */
  readonly onProjected?: () => void;
};

export type IngestOk = { readonly seq: number; readonly duplicate: boolean; readonly type: string; readonly id: string };

/**
 * Counts a refusal and passes it on; logs the first of each provider and reason per minute, so a
 * flood logs a line, not a flood.
 */
const counted =
  (deps: IngestDeps, provider: string, bodyBytes: number) =>
  <E extends WebhookRefused>(e: E): E => {
    if (deps.rejections.record({ provider, code: e.code, message: e.message, bodyBytes, receivedAt: deps.now() })) {
      deps.log.warn("webhook rejected (further refusals of this kind this minute are counted, not logged)", { provider, code: e.code, reason: e.message });
    }
    return e;
  };

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
};

type Verified = { readonly bytes: Buffer; readonly payload: unknown; readonly envelope: Envelope };

/**
 * The envelope, refused with a reason when it cannot be read (a decoder that throws on some odd
 * body, e.g. nesting too deep to canonicalize) or its time is one no Date can hold: either way the
 * event could never be stored and projected, so it is answered 400 rather than retried forever.
 */
const readEnvelope = (scheme: WebhookScheme, payload: unknown): Either.Either<Envelope, InvalidEvent> => {
  let decoded: Either.Either<Envelope, string>;
  try {
    decoded = scheme.envelope(payload);
  } catch (e) {
    decoded = Either.left(`the event envelope could not be read: ${(e as Error).message}`);
  }
  return decoded.pipe(
    Either.filterOrLeft(
      (envelope) => representable(envelope.occurredAt) !== null,
      (envelope) => `the event's time (${envelope.occurredAt} ms since 1970) is out of range`,
    ),
    Either.mapLeft((message) => new InvalidEvent({ message })),
  );
};

const parseJson = (bytes: Buffer): Either.Either<unknown, InvalidJson> =>
  Either.try({ try: () => JSON.parse(bytes.toString("utf8")) as unknown, catch: (e) => new InvalidJson({ message: `body is not JSON: ${(e as Error).message}` }) });

/** A body read within the limit: its signature verified, then parsed, then its envelope read. */
const checkBody = (deps: IngestDeps, scheme: WebhookScheme, req: IncomingMessage, bytes: Buffer, receivedAt: number): Either.Either<Verified, WebhookRefused> =>
  Either.gen(function* () {
    const secrets = deps.secrets[scheme.provider] ?? [];
    if (secrets.length === 0) return yield* Either.left(new ProviderNotConfigured({ message: `${scheme.secretVariable} is not set; nothing was stored` }));
    yield* Either.mapLeft(scheme.verify({ rawBody: bytes, header: (name) => header(req, name), secrets, now: receivedAt }), (f) => new SignatureRefused({ code: f.code, message: f.message }));
    const payload = yield* parseJson(bytes);
    const envelope = yield* readEnvelope(scheme, payload);
    return { bytes, payload, envelope };
  });

/** The delivery read and checked; every refusal counted. Plain async: a delivery runs no fiber. */
const verifyDelivery = async (deps: IngestDeps, scheme: WebhookScheme, req: IncomingMessage): Promise<Either.Either<Verified, WebhookRefused>> => {
  const receivedAt = deps.now();
  const body = await readBody(req, deps.maxBodyBytes);
  const checked =
    body._tag === "TooLarge"
      ? Either.left(new PayloadTooLarge({ message: `body exceeds the ${deps.maxBodyBytes}-byte limit` }))
      : checkBody(deps, scheme, req, body.bytes, receivedAt);
  return Either.mapLeft(checked, counted(deps, scheme.provider, body._tag === "TooLarge" ? body.seen : body.bytes.length));
};

/** Projection failures never fail the delivery: the event is durable and catch-up retries it. */
const projectSafely = async (deps: IngestDeps, seq: number): Promise<void> => {
  try {
    await deps.projector.project(seq);
    deps.onProjected?.();
  } catch (e) {
    deps.log.error("projection failed; it will be retried", { seq, error: (e as Error).message });
  }
};

/**
 * What an event lacks, read from its provider's API (see ApiNeeds) and stored as an event of its
 * own. The read an event needs, as a task that holds only what it reads (not the body: deliveries
 * waiting behind a busy projector must not keep their bodies in memory), or null.
 */
const enrichmentOf = (provider: Provider, payload: unknown): ((deps: IngestDeps, occurredAt: number) => Promise<void>) | null => {
  const needs = apiNeeds[provider];
  const read = needs?.needs(payload) ?? null;
  if (needs === undefined || read === null) return null;
  return (deps, occurredAt) => readAndStore(deps, provider, needs, read, occurredAt);
};

const readAndStore = async (deps: IngestDeps, provider: Provider, needs: ApiNeeds, read: ApiRead, occurredAt: number): Promise<void> => {
  const access = deps.apis[provider];
  if (access === undefined) {
    deps.log.warn(needs.unavailable, { provider, subject: read.subject });
    return;
  }
  const stored = Effect.gen(function* () {
    const fetched = yield* performRead(needs, access, read);
    const appended = yield* Effect.promise(() =>
      deps.appender.append({
        provider,
        providerEventId: read.eventId,
        type: read.type,
        occurredAt,
        receivedAt: deps.now(),
        origin: "fetched",
        rawBody: fetched.bytes,
        payload: fetched.payload,
      }),
    );
    if (!appended.duplicate) yield* Effect.promise(() => projectSafely(deps, appended.seq));
  });
  // Nothing stored: the next start tries again (retryMissingEnrichments).
  await Effect.runPromise(
    Effect.catchTag(stored, "ProviderApiFailed", (e) =>
      Effect.sync(() => deps.log.error("could not read what an event lacks from the provider's API", { provider, subject: read.subject, error: e.message })),
    ),
  );
};

/**
 * Reads what an earlier attempt could not (the provider unreachable, the process stopped): every
 * stored event that needs a read and has no stored answer yet.
 */
export const retryMissingEnrichments = async (deps: IngestDeps): Promise<number> => {
  let fetched = 0;
  for (const [provider, needs] of Object.entries(apiNeeds) as [Provider, ApiNeeds][]) {
    if (deps.apis[provider] === undefined) continue;
    for (const event of await eventsOfTypes(deps.db, provider, needs.eventTypes)) {
      const payload = JSON.parse(Buffer.from(event.rawBody).toString("utf8")) as unknown;
      const read = needs.needs(payload);
      if (read === null) continue;
      if ((await findEventSeq(deps.db, provider, read.eventId)) !== null) continue;
      await readAndStore(deps, provider, needs, read, event.occurredAt);
      fetched += 1;
    }
  }
  return fetched;
};

/** Appends a verified delivery durably; projection and the reads it needs run behind the answer. */
const store = async (deps: IngestDeps, provider: Provider, { bytes, payload, envelope }: Verified): Promise<IngestOk> => {
  const appended = await deps.appender.append({
    provider,
    providerEventId: envelope.providerEventId,
    type: envelope.type,
    occurredAt: envelope.occurredAt,
    receivedAt: deps.now(),
    origin: "webhook",
    rawBody: bytes,
    payload,
  });
  const fetchMissing = appended.duplicate ? null : enrichmentOf(provider, payload);
  const { seq } = appended;
  const { occurredAt } = envelope;
  deps.background.run("projection after ingest", async () => {
    if (appended.duplicate) {
      // A redelivery of an event whose projection failed earlier: try again now.
      if (!(await isProjected(deps.db, seq))) await projectSafely(deps, seq);
      return;
    }
    await projectSafely(deps, seq);
    await fetchMissing?.(deps, occurredAt).catch((e: Error) => deps.log.error("enrichment failed", { provider, error: e.message }));
  });
  return { seq, duplicate: appended.duplicate, type: envelope.type, id: envelope.providerEventId };
};

/** A delivery verified and appended durably, or refused (and counted) with nothing stored. */
export const ingestWebhook = async (deps: IngestDeps, provider: Provider, req: IncomingMessage): Promise<Either.Either<IngestOk, WebhookRefused>> => {
  const scheme = webhookSchemes[provider];
  if (scheme === undefined) return Either.left(counted(deps, provider, 0)(new ProviderNotSupported({ provider })));
  const arrived = deps.appender.arrival();
  const verified = await verifyDelivery(deps, scheme, req).finally(arrived);
  return Either.match(verified, { onLeft: async (e) => Either.left(e), onRight: async (v) => Either.right(await store(deps, provider, v)) });
};
