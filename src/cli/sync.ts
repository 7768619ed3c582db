// `verity sync <provider> [--since T] [--check]`: what a missed webhook leaves out, from the
// provider's API. Without --check, the events the provider still lists (Stripe: its last 30 days;
// Paddle: all) that the store lacks are stored as fetched events, exactly as the API returned them,
// and projected like webhooks (replay stays pure and offline: it folds stored events only). Then each
// subscription that still differs (its history is older than the listed events, or, for Lemon
// Squeezy and Creem, which list no events, any) is stored as a snapshot of its current state (see
// providers/snapshot.ts), and so is each Lemon Squeezy order Verity lacks or whose refund differs.
// Running it twice stores nothing new. With --check, nothing is written: each subscription (and
// order) the provider has is compared with Verity's, and any difference exits 1: the answer to
// "did we miss a webhook?".
import { Either } from "effect";
import type { Provider } from "../domain/provider.js";
import { Projector } from "../projection/projector.js";
import { webhookSchemes } from "../providers/registry.js";
import { subscriptionSnapshotId as creemSnapshotId } from "../providers/creem/snapshot.js";
import { orderRef } from "../providers/lemonsqueezy/context.js";
import { orderSnapshotId, subscriptionSnapshotId as lemonSqueezySnapshotId } from "../providers/lemonsqueezy/snapshot.js";
import { subscriptionSnapshotId as paddleSnapshotId } from "../providers/paddle/snapshot.js";
import { CUSTOMER_SNAPSHOT_TYPE, ORDER_SNAPSHOT_TYPE, SUBSCRIPTION_SNAPSHOT_TYPE } from "../providers/snapshot.js";
import { customerSnapshotId, subscriptionSnapshotId as stripeSnapshotId } from "../providers/stripe/snapshot.js";
import type { Json } from "../providers/json.js";
import { appendEvents, type NewEvent } from "../store/events.js";
import { creemSubscriptions, creemTransactions, oneTimePayments } from "../sync/creem.js";
import { lemonSqueezyOrders, lemonSqueezySubscriptions, type RemoteOrder } from "../sync/lemonsqueezy.js";
import { paddleEventsSince, paddleSubscriptions } from "../sync/paddle.js";
import type { RemoteSubscription } from "../sync/remote.js";
import { stripeCustomer, stripeEventsSince, stripeSubscriptions } from "../sync/stripe.js";
import type { Settings } from "../config/env.js";
import { catalogAt, InputError, openExisting, parse, parseInstant, settingsFor, UsageError, type Io } from "./args.js";

/** How long Stripe keeps events: older ones cannot be listed. */
const STRIPE_EVENT_DAYS = 30;
const DAY_MS = 86_400_000;

const PROVIDERS = ["stripe", "paddle", "lemonsqueezy", "creem"] as const;
type SyncProvider = (typeof PROVIDERS)[number];
const isSyncProvider = (p: string): p is SyncProvider => (PROVIDERS as readonly string[]).includes(p);

export const SYNC_HELP = `Usage: verity sync stripe|paddle|lemonsqueezy|creem [--since T] [--check] [--config FILE]

Reads the provider's API with a key that can read (from the environment or .env):
  stripe        STRIPE_SECRET_KEY (a restricted key that reads events, subscriptions and customers)
  paddle        PADDLE_API_KEY (PADDLE_API_BASE for the sandbox)
  lemonsqueezy  LEMONSQUEEZY_API_KEY (reads subscriptions and orders)
  creem         CREEM_API_KEY (CREEM_API_BASE=https://test-api.creem.io for test mode)
  (default)     stores the events the provider lists (Stripe: its last ${STRIPE_EVENT_DAYS} days, or since T; Paddle:
                all, or since T) that the event store lacks, as fetched events, and projects them like
                webhooks; then stores a snapshot of each subscription that still differs (Lemon Squeezy
                and Creem list no events: every difference is closed this way, and Lemon Squeezy's orders
                too); idempotent
  --since T     Stripe and Paddle: events from T (ISO 8601)
  --check       writes nothing: compares every subscription the provider has with Verity's (status, price,
                period end; Lemon Squeezy also orders and refunds) and exits 1 when any differs or is
                unknown to Verity
  --config FILE plan catalog (env VERITY_CONFIG, default verity.config.json)`;

type Database = Awaited<ReturnType<typeof openExisting>>;

/** `read`, called at most once: its answer is shared. */
const once = <A>(read: () => Promise<A>): (() => Promise<A>) => {
  let answer: Promise<A> | null = null;
  return () => (answer ??= read());
};

/** What sync needs of one provider. */
type Source = {
  readonly provider: SyncProvider;
  readonly name: string;
  /** The events it still lists from `since` (ms; null: as far back as it keeps), as rows to store; null when it lists none. */
  readonly events: ((since: number | null, now: number, io: Io) => Promise<{ readonly fetched: number; readonly rows: NewEvent[]; readonly since: number | null }>) | null;
  readonly subscriptions: (db: Database) => Promise<RemoteSubscription[]>;
  readonly snapshotId: (subscription: Json) => string;
  /** Snapshots to store before a subscription's (Stripe: its customer, when Verity does not know it). */
  readonly before?: (db: Database, subscription: RemoteSubscription, at: number) => Promise<NewEvent[]>;
  /** Orders, where the provider lists them and lists no events (Lemon Squeezy). */
  readonly orders?: () => Promise<RemoteOrder[]>;
  /** Differences sync can find but not close from the API, one line each (Creem's one-time purchases). */
  readonly unclosable?: (db: Database) => Promise<string[]>;
};

const missingKey = (variable: string, provider: string): never => {
  throw new InputError({ message: `${variable} is not set (in the environment or .env): sync reads ${provider}'s API with it` });
};

/** Rows for the events a provider listed, decoded with its webhook envelope; undecodable ones are reported and skipped. */
const eventRows = (provider: Provider, fetched: readonly { readonly id: string; readonly body: string }[], now: number, io: Io): NewEvent[] => {
  const envelope = webhookSchemes[provider]!.envelope;
  return fetched.flatMap((event) => {
    const payload = JSON.parse(event.body) as unknown;
    const decoded = envelope(payload);
    if (Either.isLeft(decoded)) return io.err(`skipped ${event.id}: ${decoded.left}`), [];
    const { providerEventId, type, occurredAt } = decoded.right;
    return [{ provider, providerEventId, type, occurredAt, receivedAt: now, origin: "fetched" as const, rawBody: Buffer.from(event.body, "utf8"), payload }];
  });
};

const sourceFor = (provider: SyncProvider, settings: Settings): Source => {
  switch (provider) {
    case "stripe": {
      const access = { secretKey: settings.stripeSecretKey ?? missingKey("STRIPE_SECRET_KEY", "Stripe"), baseUrl: settings.stripeApiBase };
      return {
        provider,
        name: "Stripe",
        events: async (since, now, io) => {
          const from = since ?? now - STRIPE_EVENT_DAYS * DAY_MS;
          if (from < now - STRIPE_EVENT_DAYS * DAY_MS) io.err(`note: Stripe keeps events ${STRIPE_EVENT_DAYS} days; older ones cannot be fetched (sync --check compares current subscriptions)`);
          const fetched = await stripeEventsSince(access, Math.floor(from / 1000));
          return { fetched: fetched.length, rows: eventRows("stripe", fetched, now, io), since: from };
        },
        subscriptions: () => stripeSubscriptions(access),
        snapshotId: stripeSnapshotId,
        before: async (db, sub, at) => {
          if (sub.customer === null || (await knowsCustomer(db, "stripe", sub.customer))) return [];
          const body = await stripeCustomer(access, sub.customer);
          return body === null ? [] : [snapshotRow("stripe", CUSTOMER_SNAPSHOT_TYPE, customerSnapshotId(JSON.parse(body) as Json), body, at - 1, at)];
        },
      };
    }
    case "paddle": {
      const access = { apiKey: settings.paddleApiKey ?? missingKey("PADDLE_API_KEY", "Paddle"), baseUrl: settings.paddleApiBase };
      return {
        provider,
        name: "Paddle",
        events: async (since, now, io) => {
          const fetched = await paddleEventsSince(access, since ?? 0);
          return { fetched: fetched.length, rows: eventRows("paddle", fetched, now, io), since };
        },
        subscriptions: () => paddleSubscriptions(access),
        snapshotId: paddleSnapshotId,
      };
    }
    case "lemonsqueezy": {
      const access = { apiKey: settings.lemonSqueezyApiKey ?? missingKey("LEMONSQUEEZY_API_KEY", "Lemon Squeezy"), baseUrl: settings.lemonSqueezyApiBase };
      return { provider, name: "Lemon Squeezy", events: null, subscriptions: () => lemonSqueezySubscriptions(access), snapshotId: lemonSqueezySnapshotId, orders: () => lemonSqueezyOrders(access) };
    }
    case "creem": {
      const access = { apiKey: settings.creemApiKey ?? missingKey("CREEM_API_KEY", "Creem"), baseUrl: settings.creemApiBase };
      const transactions = once(() => creemTransactions(access));
      return {
        provider,
        name: "Creem",
        events: null,
        // Creem lists no subscriptions: those its transactions name, and those Verity knows.
        subscriptions: async (db) => creemSubscriptions(access, await transactions(), (await db.prisma.subscription.findMany({ where: { provider: "creem" }, select: { providerId: true } })).map((s) => s.providerId)),
        snapshotId: creemSnapshotId,
        unclosable: async (db) => {
          const lines: string[] = [];
          for (const t of oneTimePayments(await transactions())) {
            const refs = [t.id, ...(t.order === null ? [] : [t.order])].map((r) => `payment:creem:${r}`);
            if ((await db.prisma.userIdentity.count({ where: { key: { in: refs } } })) > 0) continue;
            lines.push(`transaction ${t.id}${t.order === null ? "" : ` (order ${t.order})`}: a one-time payment unknown to Verity (Creem: ${t.status}); Creem's API does not say what it bought: resend its checkout.completed from Creem's dashboard`);
          }
          return lines;
        },
      };
    }
    default: {
      const never: never = provider;
      return never;
    }
  }
};

export const syncCommand = async (args: string[], io: Io): Promise<number> => {
  const { values, positionals } = parse(args, { since: { type: "string" }, check: { type: "boolean" }, config: { type: "string" } }, true);
  if (values.help) return io.out(SYNC_HELP), 0;
  const [provider, ...extra] = positionals;
  if (provider === undefined) throw new UsageError({ message: `sync needs a provider: verity sync ${PROVIDERS.join("|")}` });
  if (extra.length > 0) throw new UsageError({ message: `unexpected argument "${extra[0]}"` });
  if (!isSyncProvider(provider)) throw new UsageError({ message: `unknown provider "${provider}"; sync reads ${PROVIDERS.join(", ")}` });
  const settings = settingsFor(values.config as string | undefined);
  const source = sourceFor(provider, settings);
  const since = typeof values.since === "string" ? parseInstant(values.since, "--since") : null;
  if (since !== null && source.events === null) throw new UsageError({ message: `${source.name} lists no events, so --since does not apply: sync compares every subscription${source.orders ? " and order" : ""} it has` });
  const catalog = catalogAt(settings.configPath);
  const db = await openExisting(settings.databaseUrl);
  try {
    if (values.check === true) return await checkDrift(db, source, io);
    const now = Date.now();
    const projector = new Projector(db, catalog);
    const failed = new Set<number>();
    if (source.events !== null) {
      const { fetched, rows, since: from } = await source.events(since, now, io);
      const stored = await append(db, rows);
      for (const seq of (await projector.catchUp()).failed) failed.add(seq);
      io.out(`fetched ${fetched} events from ${source.name}${from !== null && from > 0 ? ` since ${new Date(from).toISOString()}` : ""}: ${stored} new, stored and projected; ${rows.length - stored} already stored`);
    }

    // What began before the listed events (or everything, where none are listed) and still
    // differs: the objects as the provider has them now, stored as snapshots.
    const remote = await source.subscriptions(db);
    const differing = await driftOf(db, remote, source);
    const at = Date.now();
    const snapshots: NewEvent[] = [];
    for (const { remote: sub } of differing) {
      snapshots.push(...(source.before === undefined ? [] : await source.before(db, sub, at)));
      snapshots.push(snapshotRow(source.provider, SUBSCRIPTION_SNAPSHOT_TYPE, source.snapshotId(JSON.parse(sub.body) as Json), sub.body, at, at));
    }
    const orders = source.orders === undefined ? null : await source.orders();
    const differingOrders = orders === null ? [] : await orderDriftOf(db, orders, source);
    for (const { remote: order } of differingOrders) snapshots.push(snapshotRow(source.provider, ORDER_SNAPSHOT_TYPE, orderSnapshotId(JSON.parse(order.body) as Json), order.body, at, at));
    const storedSnapshots = await append(db, snapshots);
    if (storedSnapshots > 0) for (const seq of (await projector.catchUp()).failed) failed.add(seq);

    if (source.events === null) io.out(`${source.name} lists no events: read ${remote.length} subscriptions${orders === null ? "" : ` and ${orders.length} orders`}`);
    if (differing.length + differingOrders.length > 0) {
      const what = [`${differing.length} subscription(s)`, ...(orders === null ? [] : [`${differingOrders.length} order(s)`])].join(" and ");
      io.out(`${what} ${source.events === null ? "" : "still "}differed: stored ${storedSnapshots} snapshot(s) of their current state${source.before ? " (and of customers Verity did not know)" : ""}`);
    } else if (source.events === null) io.out("nothing differed: nothing stored");
    for (const line of source.unclosable === undefined ? [] : await source.unclosable(db)) io.err(line);
    if (failed.size > 0) io.err(`${failed.size} events could not be projected yet; they stay stored and are retried (seqs ${[...failed].slice(0, 10).join(", ")})`);
    return 0;
  } finally {
    await db.close();
  }
};

/** Appends rows in batches; how many were new. */
const append = async (db: Database, rows: readonly NewEvent[]): Promise<number> => {
  let stored = 0;
  for (let i = 0; i < rows.length; i += 500) stored += (await appendEvents(db, rows.slice(i, i + 500))).filter((r) => !r.duplicate).length;
  return stored;
};

/** A stored fetched object of one of Verity's snapshot types. */
const snapshotRow = (provider: Provider, type: string, providerEventId: string, body: string, occurredAt: number, receivedAt: number): NewEvent => ({
  provider,
  providerEventId,
  type,
  occurredAt,
  receivedAt,
  origin: "fetched",
  rawBody: Buffer.from(body, "utf8"),
  payload: JSON.parse(body) as unknown,
});

const knowsCustomer = async (db: Database, provider: Provider, customerId: string): Promise<boolean> =>
  (await db.prisma.userIdentity.count({ where: { key: `customer:${provider}:${customerId}` } })) > 0;

type Drift<R> = { readonly remote: R; readonly lines: readonly string[] };

/** Each of the provider's subscriptions that differs from Verity's, with what differs. */
const driftOf = async (db: Database, remote: readonly RemoteSubscription[], source: Source): Promise<Drift<RemoteSubscription>[]> => {
  const { provider, name } = source;
  const local = new Map((await db.prisma.subscription.findMany({ where: { provider } })).map((s) => [s.providerId, s]));
  const drift: Drift<RemoteSubscription>[] = [];
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

// Orders that took money (a pending or failed one is not a purchase Verity should know).
const PAID_ORDER_STATUSES = new Set(["paid", "refunded", "partial_refund"]);

/** Lemon Squeezy's paid orders Verity does not have, or whose refunded amount differs. */
const orderDriftOf = async (db: Database, remote: readonly RemoteOrder[], source: Source): Promise<Drift<RemoteOrder>[]> => {
  const local = new Map((await db.prisma.order.findMany({ where: { provider: source.provider }, select: { providerId: true, amountRefunded: true } })).map((o) => [o.providerId, o]));
  return remote.flatMap((order) => {
    if (!PAID_ORDER_STATUSES.has(order.status)) return [];
    const mine = local.get(orderRef(order.id));
    if (mine === undefined) return [{ remote: order, lines: [`order ${order.id}: unknown to Verity (${source.name}: ${order.status}): run verity sync ${source.provider}, or check the webhook endpoint`] }];
    return mine.amountRefunded === order.refunded ? [] : [{ remote: order, lines: [`order ${order.id}: refunded ${order.refunded} at ${source.name}, ${mine.amountRefunded} in Verity`] }];
  });
};

const checkDrift = async (db: Database, source: Source, io: Io): Promise<number> => {
  const remote = await source.subscriptions(db);
  const drift = await driftOf(db, remote, source);
  const orders = source.orders === undefined ? null : await source.orders();
  const orderDrift = orders === null ? [] : await orderDriftOf(db, orders, source);
  const unclosable = source.unclosable === undefined ? [] : await source.unclosable(db);
  for (const line of [...drift, ...orderDrift].flatMap((d) => d.lines)) io.out(line);
  for (const line of unclosable) io.out(line);
  const count = [...drift, ...orderDrift].reduce((n, d) => n + d.lines.length, 0) + unclosable.length;
  const scope = `${remote.length} ${source.name} subscriptions${orders === null ? "" : ` and ${orders.length} orders`}`;
  io.out(count === 0 ? `no drift: ${scope} match Verity` : `drift: ${count} difference(s) across ${scope}`);
  return count === 0 ? 0 : 1;
};
