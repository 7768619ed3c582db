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
import type { Json } from "../providers/json.js";
import { CUSTOMER_SNAPSHOT_TYPE, customerSnapshotId, SUBSCRIPTION_SNAPSHOT_TYPE, subscriptionSnapshotId } from "../providers/stripe/snapshot.js";
import { appendEvents, type NewEvent } from "../store/events.js";
import { stripeCustomer, stripeEventsSince, stripeSubscriptions, type RemoteSubscription, type StripeAccess } from "../sync/stripe.js";
import { catalogAt, InputError, openExisting, parse, parseInstant, settingsFor, UsageError, type Io } from "./args.js";

/** How long Stripe keeps events: older ones cannot be listed. */
const STRIPE_EVENT_DAYS = 30;
const DAY_MS = 86_400_000;

export const SYNC_HELP = `Usage: verity sync stripe [--since T] [--check] [--config FILE]

Reads Stripe's API (STRIPE_SECRET_KEY; a restricted key that reads events and subscriptions is enough).
  (default)     stores the events Stripe holds (its last ${STRIPE_EVENT_DAYS} days, or since T) that the event
                store lacks, as fetched events, and projects them like webhooks; idempotent
  --since T     from T (ISO 8601) instead of ${STRIPE_EVENT_DAYS} days ago
  --check       writes nothing: compares every subscription Stripe has with Verity's (status, price,
                period end) and exits 1 when any differs or is unknown to Verity
  --config FILE plan catalog (env VERITY_CONFIG, default verity.config.json)`;

export const syncCommand = async (args: string[], io: Io): Promise<number> => {
  const { values, positionals } = parse(args, { since: { type: "string" }, check: { type: "boolean" }, config: { type: "string" } }, true);
  if (values.help) return io.out(SYNC_HELP), 0;
  const [provider, ...extra] = positionals;
  if (provider === undefined) throw new UsageError({ message: "sync needs a provider: verity sync stripe" });
  if (extra.length > 0) throw new UsageError({ message: `unexpected argument "${extra[0]}"` });
  if (provider !== "stripe") throw new UsageError({ message: `sync reads Stripe's API so far; ${provider} is not built yet` });
  const settings = settingsFor(values.config as string | undefined);
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

/** Each Stripe subscription that differs from Verity's, with what differs (remote null: none). */
const driftOf = async (db: Database, remote: readonly RemoteSubscription[]): Promise<{ readonly remote: RemoteSubscription | null; readonly lines: readonly string[] }[]> => {
  const local = new Map((await db.prisma.subscription.findMany({ where: { provider: "stripe" } })).map((s) => [s.providerId, s]));
  const drift: { remote: RemoteSubscription; lines: string[] }[] = [];
  for (const sub of remote) {
    const mine = local.get(sub.id);
    if (mine === undefined) {
      drift.push({ remote: sub, lines: [`${sub.id}: unknown to Verity (Stripe: ${sub.status}, ${sub.priceIds.join(",")}): run verity sync stripe, or check the webhook endpoint`] });
      continue;
    }
    const lines: string[] = [];
    const say = (what: string, theirs: string, ours: string) => lines.push(`${sub.id}: ${what} is ${theirs} at Stripe, ${ours} in Verity`);
    if (mine.providerStatus !== sub.status) say("status", sub.status, mine.providerStatus);
    if (mine.priceIds !== sub.priceIds.join(",")) say("price", sub.priceIds.join(","), mine.priceIds);
    const ours = mine.currentPeriodEnd === null ? null : Math.floor(mine.currentPeriodEnd.getTime() / 1000);
    if (ours !== sub.periodEnd) say("period end", sub.periodEnd === null ? "none" : new Date(sub.periodEnd * 1000).toISOString(), ours === null ? "none" : new Date(ours * 1000).toISOString());
    if (lines.length > 0) drift.push({ remote: sub, lines });
  }
  return drift;
};

const checkDrift = async (db: Database, access: StripeAccess, io: Io): Promise<number> => {
  const remote = await stripeSubscriptions(access);
  const drift = await driftOf(db, remote);
  for (const line of drift.flatMap((d) => d.lines)) io.out(line);
  const count = drift.reduce((n, d) => n + d.lines.length, 0);
  io.out(count === 0 ? `no drift: ${remote.length} Stripe subscriptions match Verity` : `drift: ${count} difference(s) across ${remote.length} Stripe subscriptions`);
  return count === 0 ? 0 : 1;
};
