// `verity sync stripe [--since T] [--check]`: what a missed webhook leaves out, from the provider's
// API. Without --check, the events Stripe still holds that the store lacks are stored as fetched
// events, exactly as the API returned them, and projected like webhooks (replay stays pure and
// offline: it folds stored events only); then each subscription that still differs (its history is
// older than Stripe's 30 days of events) is stored as a snapshot of its current state, with its
// customer's when Verity does not know the customer. Running it twice stores nothing new. With --check,
// nothing is written: each subscription Stripe has is compared with Verity's (status, price,
// period end), and any difference exits 1: the answer to "did we miss a webhook?".
import { Either } from "effect";
import { Projector } from "../projection/projector.js";
import { decodeStripeEnvelope } from "../providers/stripe/envelope.js";
import { decodePaddleEnvelope } from "../providers/paddle/envelope.js";
import { paddleEventsSince, paddleSubscriptions, type PaddleAccess } from "../sync/paddle.js";
import type { Settings } from "../config/env.js";
import type { Json } from "../providers/json.js";
import { CUSTOMER_SNAPSHOT_TYPE, customerSnapshotId, SUBSCRIPTION_SNAPSHOT_TYPE, subscriptionSnapshotId } from "../providers/stripe/snapshot.js";
import { appendEvents, type NewEvent } from "../store/events.js";
import { stripeCustomer, stripeEventsSince, stripeSubscriptions, type RemoteSubscription, type StripeAccess } from "../sync/stripe.js";
import { catalogAt, InputError, openExisting, parse, parseInstant, settingsFor, UsageError, type Io, type Parsed } from "./args.js";

/** How long Stripe keeps events: older ones cannot be listed. */
const STRIPE_EVENT_DAYS = 30;
const DAY_MS = 86_400_000;

export const SYNC_HELP = `Usage: verity sync stripe|paddle [--since T] [--check] [--config FILE]

Reads the provider's API: Stripe with STRIPE_SECRET_KEY (a restricted key that reads events,
subscriptions and customers is enough), Paddle Billing with PADDLE_API_KEY (PADDLE_API_BASE for the sandbox).
  (default)     stores the events the provider lists (Stripe: its last ${STRIPE_EVENT_DAYS} days; or since T) that
                the event store lacks, as fetched events, and projects them like webhooks; then (Stripe)
                stores a snapshot of each subscription that still differs; idempotent
  --since T     from T (ISO 8601) instead of ${STRIPE_EVENT_DAYS} days ago
  --check       writes nothing: compares every subscription the provider has with Verity's (status, price,
                period end) and exits 1 when any differs or is unknown to Verity
  --config FILE plan catalog (env VERITY_CONFIG, default verity.config.json)`;

export const syncCommand = async (args: string[], io: Io): Promise<number> => {
  const { values, positionals } = parse(args, { since: { type: "string" }, check: { type: "boolean" }, config: { type: "string" } }, true);
  if (values.help) return io.out(SYNC_HELP), 0;
  const [provider, ...extra] = positionals;
  if (provider === undefined) throw new UsageError({ message: "sync needs a provider: verity sync stripe (or paddle)" });
  if (extra.length > 0) throw new UsageError({ message: `unexpected argument "${extra[0]}"` });
  if (provider !== "stripe" && provider !== "paddle") throw new UsageError({ message: `sync reads Stripe's and Paddle's APIs so far; ${provider} is not built yet` });
  const settings = settingsFor(values.config as string | undefined);
  if (provider === "paddle") return syncPaddle(settings, values, io);
  if (settings.stripeSecretKey === null) throw new InputError({ message: "STRIPE_SECRET_KEY is not set (in the environment or .env): sync reads Stripe's API with it" });
  const access: StripeAccess = { secretKey: settings.stripeSecretKey, baseUrl: settings.stripeApiBase };
  const now = Date.now();
  const since = typeof values.since === "string" ? parseInstant(values.since, "--since") : now - STRIPE_EVENT_DAYS * DAY_MS;
  const catalog = catalogAt(settings.configPath);
  const db = await openExisting(settings.databaseUrl);
  try {
    if (values.check === true) return await checkDrift(db, access, io);
    if (since < now - STRIPE_EVENT_DAYS * DAY_MS) io.err(`note: Stripe keeps events ${STRIPE_EVENT_DAYS} days; older ones cannot be fetched (sync --check compares current subscriptions)`);
    const fetched = await stripeEventsSince(access, Math.floor(since / 1000));
    const rows = [];
    for (const event of fetched) {
      const payload = JSON.parse(event.body) as unknown;
      const envelope = decodeStripeEnvelope(payload);
      if (Either.isLeft(envelope)) {
        io.err(`skipped ${event.id}: ${envelope.left}`);
        continue;
      }
      const { providerEventId, type, occurredAt } = envelope.right;
      rows.push({ provider: "stripe" as const, providerEventId, type, occurredAt, receivedAt: now, origin: "fetched" as const, rawBody: Buffer.from(event.body, "utf8"), payload });
    }
    let stored = 0;
    for (let i = 0; i < rows.length; i += 500) stored += (await appendEvents(db, rows.slice(i, i + 500))).filter((r) => !r.duplicate).length;
    // Projected here, as a server's catch-up would (a running server also picks them up).
    const projector = new Projector(db, catalog);
    const first = await projector.catchUp();
    io.out(`fetched ${fetched.length} events from Stripe since ${new Date(since).toISOString()}: ${stored} new, stored and projected; ${rows.length - stored} already stored`);

    // What began before those events (an account older than Verity) still differs: the objects as
    // Stripe has them now are stored as snapshots, a customer's before its subscription's.
    const remote = await stripeSubscriptions(access);
    const differing = (await driftOf(db, remote)).filter((d) => d.remote !== null);
    const snapshots: NewEvent[] = [];
    const at = Date.now();
    for (const { remote: sub } of differing) {
      if (sub!.customer !== null && !(await knowsCustomer(db, sub!.customer))) {
        const body = await stripeCustomer(access, sub!.customer);
        if (body !== null) snapshots.push(snapshotRow(CUSTOMER_SNAPSHOT_TYPE, customerSnapshotId(JSON.parse(body) as Json), body, at - 1, at));
      }
      snapshots.push(snapshotRow(SUBSCRIPTION_SNAPSHOT_TYPE, subscriptionSnapshotId(JSON.parse(sub!.body) as Json), sub!.body, at, at));
    }
    const storedSnapshots = snapshots.length === 0 ? 0 : (await appendEvents(db, snapshots)).filter((r) => !r.duplicate).length;
    const second = storedSnapshots === 0 ? { failed: [] } : await projector.catchUp();
    const subscriptionSnapshots = snapshots.filter((e) => e.type === SUBSCRIPTION_SNAPSHOT_TYPE).length;
    if (subscriptionSnapshots > 0) io.out(`${subscriptionSnapshots} subscription(s) still differed: stored ${storedSnapshots} snapshot(s) of their current state (and of customers Verity did not know)`);
    const failed = [...new Set([...first.failed, ...second.failed])];
    if (failed.length > 0) io.err(`${failed.length} events could not be projected yet; they stay stored and are retried (seqs ${failed.slice(0, 10).join(", ")})`);
    return 0;
  } finally {
    await db.close();
  }
};

type Database = Awaited<ReturnType<typeof openExisting>>;

/** A stored fetched object of one of Verity's snapshot types. */
const snapshotRow = (type: string, providerEventId: string, body: string, occurredAt: number, receivedAt: number): NewEvent => ({
  provider: "stripe",
  providerEventId,
  type,
  occurredAt,
  receivedAt,
  origin: "fetched",
  rawBody: Buffer.from(body, "utf8"),
  payload: JSON.parse(body) as unknown,
});

const knowsCustomer = async (db: Database, customerId: string): Promise<boolean> =>
  (await db.prisma.userIdentity.count({ where: { key: `customer:stripe:${customerId}` } })) > 0;

/** What drift compares of a provider's subscription. */
type Remote = { readonly id: string; readonly status: string; readonly priceIds: readonly string[]; readonly periodEnd: number | null };

/** Each of the provider's subscriptions that differs from Verity's, with what differs. */
const driftOf = async <R extends Remote>(db: Database, remote: readonly R[], provider: "stripe" | "paddle" = "stripe", name = "Stripe"): Promise<{ readonly remote: R; readonly lines: readonly string[] }[]> => {
  const local = new Map((await db.prisma.subscription.findMany({ where: { provider } })).map((s) => [s.providerId, s]));
  const drift: { remote: R; lines: string[] }[] = [];
  for (const sub of remote) {
    const mine = local.get(sub.id);
    if (mine === undefined) {
      drift.push({ remote: sub, lines: [`${sub.id}: unknown to Verity (${name}: ${sub.status}, ${sub.priceIds.join(",")}): run verity sync ${provider}, or check the webhook endpoint`] });
      continue;
    }
    const lines: string[] = [];
    const say = (what: string, theirs: string, ours: string) => lines.push(`${sub.id}: ${what} is ${theirs} at ${name}, ${ours} in Verity`);
    if (mine.providerStatus !== sub.status) say("status", sub.status, mine.providerStatus);
    if (mine.priceIds !== sub.priceIds.join(",")) say("price", sub.priceIds.join(","), mine.priceIds);
    const ours = mine.currentPeriodEnd === null ? null : Math.floor(mine.currentPeriodEnd.getTime() / 1000);
    if (ours !== sub.periodEnd) say("period end", sub.periodEnd === null ? "none" : new Date(sub.periodEnd * 1000).toISOString(), ours === null ? "none" : new Date(ours * 1000).toISOString());
    if (lines.length > 0) drift.push({ remote: sub, lines });
  }
  return drift;
};

const reportDrift = async (db: Database, remote: readonly Remote[], provider: "stripe" | "paddle", name: string, io: Io): Promise<number> => {
  const drift = await driftOf(db, remote, provider, name);
  for (const line of drift.flatMap((d) => d.lines)) io.out(line);
  const count = drift.reduce((n, d) => n + d.lines.length, 0);
  io.out(count === 0 ? `no drift: ${remote.length} ${name} subscriptions match Verity` : `drift: ${count} difference(s) across ${remote.length} ${name} subscriptions`);
  return count === 0 ? 0 : 1;
};

const checkDrift = async (db: Database, access: StripeAccess, io: Io): Promise<number> => reportDrift(db, await stripeSubscriptions(access), "stripe", "Stripe", io);

/** Paddle: its listed events stored and projected like webhooks; --check compares subscriptions. */
const syncPaddle = async (settings: Settings, values: Parsed["values"], io: Io): Promise<number> => {
  if (settings.paddleApiKey === null) throw new InputError({ message: "PADDLE_API_KEY is not set (in the environment or .env): sync reads Paddle's API with it" });
  const access: PaddleAccess = { apiKey: settings.paddleApiKey, baseUrl: settings.paddleApiBase };
  const now = Date.now();
  const since = typeof values.since === "string" ? parseInstant(values.since, "--since") : 0;
  const catalog = catalogAt(settings.configPath);
  const db = await openExisting(settings.databaseUrl);
  try {
    if (values.check === true) return await reportDrift(db, await paddleSubscriptions(access), "paddle", "Paddle", io);
    const fetched = await paddleEventsSince(access, since);
    const rows: NewEvent[] = [];
    for (const event of fetched) {
      const payload = JSON.parse(event.body) as unknown;
      const envelope = decodePaddleEnvelope(payload);
      if (Either.isLeft(envelope)) {
        io.err(`skipped ${event.id}: ${envelope.left}`);
        continue;
      }
      const { providerEventId, type, occurredAt } = envelope.right;
      rows.push({ provider: "paddle", providerEventId, type, occurredAt, receivedAt: now, origin: "fetched", rawBody: Buffer.from(event.body, "utf8"), payload });
    }
    let stored = 0;
    for (let i = 0; i < rows.length; i += 500) stored += (await appendEvents(db, rows.slice(i, i + 500))).filter((r) => !r.duplicate).length;
    const { failed } = await new Projector(db, catalog).catchUp();
    io.out(`fetched ${fetched.length} events from Paddle${since > 0 ? ` since ${new Date(since).toISOString()}` : ""}: ${stored} new, stored and projected; ${rows.length - stored} already stored`);
    if (failed.length > 0) io.err(`${failed.length} events could not be projected yet; they stay stored and are retried (seqs ${failed.slice(0, 10).join(", ")})`);
    return 0;
  } finally {
    await db.close();
  }
};
