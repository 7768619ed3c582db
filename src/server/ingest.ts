// Webhook ingest: verify → parse → append durably → project → answer. Anything refused is
// answered with a 4xx and a reason and recorded without its payload; nothing unverified is stored.
import type { IncomingMessage } from "node:http";
import { Either } from "effect";
import type { Catalog } from "../domain/catalog.js";
import type { Provider } from "../domain/provider.js";
import type { Envelope } from "../providers/types.js";
import { decodeStripeEnvelope } from "../providers/stripe/envelope.js";
import { verifyStripeSignature } from "../providers/stripe/verify.js";
import { checkoutNeedingLineItems, LINE_ITEMS_EVENT_TYPE, lineItemsEventId } from "../providers/stripe/normalize.js";
import type { Database } from "../store/database.js";
import { appendEvent, recordRejection } from "../store/events.js";
import type { Projector } from "../store/projector.js";
import { readBody } from "./body.js";
import { apiError, type ApiError } from "./errors.js";
import type { Logger } from "./logger.js";
import { fetchCheckoutLineItems, type StripeApi } from "./stripe-api.js";

export type IngestDeps = {
  readonly db: Database;
  readonly catalog: Catalog;
  readonly projector: Projector;
  readonly now: () => number;
  readonly maxBodyBytes: number;
  readonly secrets: { readonly stripe: readonly string[] };
  readonly stripeApi: StripeApi | null;
  readonly log: Logger;
  /** Told after each projection commits (live subscribers wait on it). */
  readonly onProjected?: () => void;
};

export type IngestOk = { readonly seq: number; readonly duplicate: boolean; readonly type: string; readonly id: string };

const reject = async (deps: IngestDeps, provider: string, bodyBytes: number, e: ApiError): Promise<ApiError> => {
  await recordRejection(deps.db, { provider, code: e.code, message: e.message, bodyBytes, receivedAt: deps.now() });
  deps.log.warn("webhook rejected", { provider, code: e.code, reason: e.message });
  return e;
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
};

type Verified = { readonly bytes: Buffer; readonly payload: unknown; readonly envelope: Envelope };

const verifyStripe = async (deps: IngestDeps, req: IncomingMessage): Promise<Either.Either<Verified, ApiError>> => {
  const receivedAt = deps.now();
  const body = await readBody(req, deps.maxBodyBytes);
  if (body._tag === "TooLarge") {
    return Either.left(
      await reject(deps, "stripe", body.seen, apiError(413, "payload_too_large", `body exceeds the ${deps.maxBodyBytes}-byte limit`)),
    );
  }
  const bytes = body.bytes;
  if (deps.secrets.stripe.length === 0) {
    return Either.left(
      await reject(deps, "stripe", bytes.length, apiError(503, "provider_not_configured", "STRIPE_WEBHOOK_SECRET is not set; nothing was stored")),
    );
  }
  const verified = verifyStripeSignature({ rawBody: bytes, header: header(req, "stripe-signature"), secrets: deps.secrets.stripe, now: receivedAt });
  if (Either.isLeft(verified)) {
    return Either.left(await reject(deps, "stripe", bytes.length, apiError(400, verified.left.code, verified.left.message)));
  }
  let payload: unknown;
  try {
    payload = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    return Either.left(await reject(deps, "stripe", bytes.length, apiError(400, "invalid_json", `body is not JSON: ${(e as Error).message}`)));
  }
  const envelope = decodeStripeEnvelope(payload);
  if (Either.isLeft(envelope)) {
    return Either.left(await reject(deps, "stripe", bytes.length, apiError(400, "invalid_event", envelope.left)));
  }
  return Either.right({ bytes, payload, envelope: envelope.right });
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
 * A one-time checkout event does not say what was bought. Verity asks Stripe for the line items
 * and stores the answer as an event of its own, so replay stays pure and offline.
 */
export const enrichCheckout = async (deps: IngestDeps, payload: unknown, occurredAt: number): Promise<void> => {
  const sessionId = checkoutNeedingLineItems(payload);
  if (sessionId === null) return;
  if (deps.stripeApi === null) {
    deps.log.warn("checkout without price metadata and no STRIPE_SECRET_KEY: its plan stays unknown", { sessionId });
    return;
  }
  const fetched = await fetchCheckoutLineItems(deps.stripeApi, sessionId);
  if (Either.isLeft(fetched)) {
    deps.log.error("could not fetch checkout line items", { sessionId, error: fetched.left });
    return;
  }
  const appended = await appendEvent(deps.db, {
    provider: "stripe",
    providerEventId: lineItemsEventId(sessionId),
    type: LINE_ITEMS_EVENT_TYPE,
    occurredAt,
    receivedAt: deps.now(),
    origin: "fetched",
    rawBody: fetched.right.bytes,
    payload: fetched.right.payload,
  });
  if (!appended.duplicate) await projectSafely(deps, appended.seq);
};

/**
 * Fetches line items that an earlier attempt could not (Stripe unreachable, process stopped):
 * every stored one-time checkout that needs them and has no fetched answer yet.
 */
export const retryMissingLineItems = async (deps: IngestDeps): Promise<number> => {
  if (deps.stripeApi === null) return 0;
  const checkouts = await deps.db.prisma.event.findMany({
    where: { provider: "stripe", type: { in: ["checkout.session.completed", "checkout.session.async_payment_succeeded"] } },
    orderBy: { seq: "asc" },
  });
  let fetched = 0;
  for (const row of checkouts) {
    const payload = JSON.parse(Buffer.from(row.rawBody).toString("utf8")) as unknown;
    const sessionId = checkoutNeedingLineItems(payload);
    if (sessionId === null) continue;
    const known = await deps.db.prisma.event.findUnique({
      where: { provider_providerEventId: { provider: "stripe", providerEventId: lineItemsEventId(sessionId) } },
      select: { seq: true },
    });
    if (known) continue;
    await enrichCheckout(deps, payload, row.occurredAt.getTime());
    fetched += 1;
  }
  return fetched;
};

export const ingestWebhook = async (deps: IngestDeps, provider: Provider, req: IncomingMessage): Promise<Either.Either<IngestOk, ApiError>> => {
  if (provider !== "stripe") {
    return Either.left(await reject(deps, provider, 0, apiError(404, "provider_not_supported", `webhooks from ${provider} are not supported yet`)));
  }
  const verified = await verifyStripe(deps, req);
  if (Either.isLeft(verified)) return Either.left(verified.left);
  const { bytes, payload, envelope } = verified.right;
  const appended = await appendEvent(deps.db, {
    provider,
    providerEventId: envelope.providerEventId,
    type: envelope.type,
    occurredAt: envelope.occurredAt,
    receivedAt: deps.now(),
    origin: "webhook",
    rawBody: bytes,
    payload,
  });
  if (appended.duplicate) {
    // A redelivery of an event whose projection failed earlier: try again now.
    const projected = await deps.db.prisma.projectedEvent.findUnique({ where: { seq: appended.seq }, select: { seq: true } });
    if (!projected) await projectSafely(deps, appended.seq);
  } else {
    await projectSafely(deps, appended.seq);
    await enrichCheckout(deps, payload, envelope.occurredAt).catch((e: Error) =>
      deps.log.error("checkout enrichment failed", { error: e.message }),
    );
  }
  return Either.right({ seq: appended.seq, duplicate: appended.duplicate, type: envelope.type, id: envelope.providerEventId });
};
