// The dashboard's reads (scope `dashboard`): business metrics at an instant and over a range,
// customers to search, and incidents. Metrics are pure functions of the subscription histories
// (src/domain/metrics), read from the projections and the transition log and held in memory
// between projection changes (store/metrics.ts HistoryCache).
import { GraphQLError } from "graphql";
import { movementBetween, seriesAt, snapshotAt, trialConversion, type Movement, type SeriesPoint, type Snapshot, type TrialConversion } from "../../domain/metrics/kpis.js";
import type { Money } from "../../domain/metrics/mrr.js";
import { builder } from "../builder.js";
import { customerPage, customerTimeline, eventsPerDay, incidentsAt, usageByFeature, type CustomerRow, type Incidents, type TimelineEntry } from "../../store/dashboard.js";
import { entitlementsAt } from "../../domain/entitlements.js";
import { meterReading, slotReading } from "../../store/read-model.js";
import { EntitlementRef } from "./entitlement.js";
import { creditsOf } from "../../store/credits.js";
import { unscaleUnits } from "../../domain/usage.js";
import type { Catalog } from "../../domain/catalog.js";
import { EventRef } from "./event.js";
import { RejectionRef } from "./rejection.js";
import type { QuotaBlockRow } from "../../store/quota-blocks.js";
import type { LatencySummary } from "../latency.js";
import { TransitionRef } from "./transition.js";
import { TransitionEventRef } from "./live.js";
import { recentFeed } from "../../store/feed.js";

const DAY = 86_400_000;
/** The window MRR movement, churn and trial conversion are measured over. */
export const WINDOW_DAYS = 30;
const MAX_POINTS = 400;

type MoneyItem = { readonly currency: string; readonly amount: number };
const items = (m: Money): MoneyItem[] => Object.entries(m).map(([currency, amount]) => ({ currency, amount }));

const MoneyRef = builder.objectRef<MoneyItem>("Money").implement({
  description: "An amount in minor units (cents) of a currency.",
  fields: (t) => ({ currency: t.exposeString("currency"), amount: t.exposeInt("amount") }),
});

const StatusCountRef = builder.objectRef<{ status: string; count: number }>("StatusCount").implement({
  fields: (t) => ({ status: t.exposeString("status"), count: t.exposeInt("count") }),
});

const RetentionRef = builder.objectRef<{ currency: string; rate: number | null }>("Retention").implement({
  fields: (t) => ({ currency: t.exposeString("currency"), rate: t.exposeFloat("rate", { nullable: true, description: "What the customers paying at the window's start pay at its end, over what they paid then." }) }),
});

const MovementRef = builder.objectRef<Movement>("MrrMovement").implement({
  description: "How MRR moved over a window, customer by customer: net = new + expansion − contraction − churned.",
  fields: (t) => ({
    from: t.field({ type: "DateTime", resolve: (m) => new Date(m.from) }),
    to: t.field({ type: "DateTime", resolve: (m) => new Date(m.to) }),
    new: t.field({ type: [MoneyRef], resolve: (m) => items(m.new) }),
    expansion: t.field({ type: [MoneyRef], resolve: (m) => items(m.expansion) }),
    contraction: t.field({ type: [MoneyRef], resolve: (m) => items(m.contraction) }),
    churned: t.field({ type: [MoneyRef], resolve: (m) => items(m.churned) }),
    net: t.field({ type: [MoneyRef], resolve: (m) => items(m.net) }),
    netRevenueRetention: t.field({ type: [RetentionRef], resolve: (m) => Object.entries(m.retention).map(([currency, rate]) => ({ currency, rate })) }),
  }),
});

const TrialsRef = builder.objectRef<TrialConversion & { readonly trialing: number }>("Trials").implement({
  fields: (t) => ({
    trialing: t.exposeInt("trialing", { description: "Subscriptions in a trial at the instant." }),
    ended: t.exposeInt("ended", { description: "Trials that ended in the window." }),
    converted: t.exposeInt("converted", { description: "Of those, the ones that went on to pay." }),
    conversionRate: t.exposeFloat("rate", { nullable: true }),
  }),
});

type MetricsValue = Snapshot & { readonly movement: Movement; readonly trialConversion: TrialConversion };

const MetricsRef = builder.objectRef<MetricsValue>("Metrics").implement({
  description: `Headline figures at an instant; movement and trials over the ${WINDOW_DAYS} days before it.`,
  fields: (t) => ({
    at: t.field({ type: "DateTime", resolve: (m) => new Date(m.at) }),
    activeCustomers: t.exposeInt("activeCustomers", { description: "Customers with a trialing, active or past-due subscription." }),
    subscriptionsByStatus: t.field({ type: [StatusCountRef], resolve: (m) => Object.entries(m.subscriptionsByStatus).map(([status, count]) => ({ status, count })) }),
    mrr: t.field({ type: [MoneyRef], description: "Monthly recurring revenue per currency (active and past-due subscriptions).", resolve: (m) => items(m.mrr) }),
    movement: t.field({ type: MovementRef, resolve: (m) => m.movement }),
    trials: t.field({ type: TrialsRef, resolve: (m) => ({ ...m.trialConversion, trialing: m.trials }) }),
    pastDueCount: t.int({ resolve: (m) => m.pastDue.count }),
    amountAtRisk: t.field({ type: [MoneyRef], description: "The MRR of past-due subscriptions.", resolve: (m) => items(m.pastDue.atRisk) }),
  }),
});

const PointRef = builder.objectRef<SeriesPoint>("MetricsPoint").implement({
  fields: (t) => ({
    at: t.field({ type: "DateTime", resolve: (p) => new Date(p.at) }),
    mrr: t.field({ type: [MoneyRef], resolve: (p) => items(p.mrr) }),
    activeSubscriptions: t.exposeInt("activeSubscriptions", { description: "Paying (active or past-due) subscriptions." }),
  }),
});

const UsageBarRef = builder.objectRef<{ feature: string; limit: number; used: number }>("UsageBar").implement({
  fields: (t) => ({ feature: t.exposeString("feature"), limit: t.exposeFloat("limit"), used: t.exposeFloat("used") }),
});

const CustomerRef = builder.objectRef<CustomerRow>("Customer").implement({
  fields: (t) => ({
    id: t.string({ description: "The app's user id when known, else Verity's id.", resolve: (c) => c.appUserId ?? c.id }),
    verityId: t.exposeString("id"),
    email: t.exposeString("email", { nullable: true }),
    status: t.exposeString("status"),
    plan: t.exposeString("plan", { nullable: true }),
    subscriptionStatus: t.exposeString("subscriptionStatus", { nullable: true }),
    currentPeriodEnd: t.expose("currentPeriodEnd", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    usage: t.field({
      type: [UsageBarRef],
      description: "Each metered feature the customer may use now: its limit and what the current period used.",
      resolve: async (c, _args, ctx) => {
        const view = await ctx.reads.user(c.id);
        if (view === null) return [];
        return entitlementsAt(view.grants, ctx.catalog, ctx.now, meterReading(view, ctx.now), slotReading(view, ctx.now)).flatMap((e) =>
          e.enabled && e.limit !== null && e.used !== null ? [{ feature: e.feature, limit: e.limit, used: e.used }] : [],
        );
      },
    }),
    creditBalance: t.int({
      description: "Credits left, subscription and one-time together.",
      resolve: async (c, _args, ctx) => {
        const view = await ctx.reads.user(c.id);
        const { balances } = await creditsOf(ctx.db, ctx.catalog, c.id, view?.subject ?? c.appUserId ?? c.id, ctx.now);
        return balances.subscription + balances.oneTime;
      },
    }),
  }),
});

const CustomerPageRef = builder.objectRef<{ total: number; customers: readonly CustomerRow[] }>("CustomerPage").implement({
  fields: (t) => ({ total: t.exposeInt("total"), customers: t.field({ type: [CustomerRef], resolve: (p) => [...p.customers] }) }),
});

const IncidentRef = builder.objectRef<Incidents["failedPayments"][number]>("Incident").implement({
  fields: (t) => ({
    kind: t.exposeString("kind"),
    userId: t.exposeString("userId", { description: "The user's id (the app's when known)." }),
    subject: t.exposeString("subject", { description: "What it is about: a payment, a subscription." }),
    at: t.expose("at", { type: "DateTime" }),
    detail: t.exposeString("detail"),
  }),
});

const QuotaBlockRef = builder.objectRef<QuotaBlockRow>("QuotaBlock").implement({
  description: "Requests of one subject refused by one feature's quota, for one reason.",
  fields: (t) => ({
    userId: t.exposeString("userId", { description: "The user id the latest refused request named." }),
    feature: t.exposeString("feature"),
    code: t.exposeString("code", { description: "quota_exceeded, concurrency_exceeded or insufficient_credits." }),
    count: t.exposeInt("count"),
    firstMinute: t.expose("minute", { type: "DateTime" }),
    lastAt: t.expose("lastAt", { type: "DateTime" }),
  }),
});

const IncidentsRef = builder.objectRef<Incidents>("Incidents").implement({
  fields: (t) => ({
    failedPayments: t.field({ type: [IncidentRef], description: "Payments that failed in the last 30 days, newest first.", resolve: (i) => [...i.failedPayments] }),
    missedRenewals: t.field({
      type: [IncidentRef],
      description: "Subscriptions still active more than grace.pastDueDays after their period ended, with no renewal seen: a webhook was probably missed.",
      resolve: (i) => [...i.missedRenewals],
    }),
    rejectedDeliveries: t.field({ type: [RejectionRef], description: "Webhook deliveries refused in the last 24 hours, with why.", resolve: (i) => [...i.rejectedDeliveries] }),
    quotaBlocks: t.field({ type: [QuotaBlockRef], description: "Users blocked by a quota in the last 24 hours, most refused first.", resolve: (i) => [...i.quotaBlocks] }),
    unprojectedEvents: t.exposeInt("unprojectedEvents", { description: "Events stored but not yet in the projections (projection lag)." }),
  }),
});

const DayCountRef = builder.objectRef<{ day: string; provider: string; count: number }>("ProviderDayCount").implement({
  fields: (t) => ({ day: t.exposeString("day", { description: "A UTC day, YYYY-MM-DD." }), provider: t.exposeString("provider"), count: t.exposeInt("count") }),
});

const FeatureUsageRef = builder.objectRef<{ feature: string; used: number; records: number; subjects: number }>("FeatureUsage").implement({
  fields: (t) => ({
    feature: t.exposeString("feature"),
    records: t.exposeInt("records", { description: "Usage records (calls) in the periods running now." }),
    used: t.exposeFloat("used", { description: "Units used in the periods running now, summed over subjects." }),
    subjects: t.exposeInt("subjects", { description: "Subjects (users or organizations) that used it in those periods." }),
  }),
});

/** Digits after the point a feature's meter counts, as some plan declares it (0 when none does). */
const decimalsOf = (catalog: Catalog, feature: string): number => {
  for (const plan of Object.values(catalog.plans)) {
    const spec = plan.features[feature];
    if (spec?._tag === "Metered") return spec.decimals;
  }
  return 0;
};

const LatencyRef = builder.objectRef<LatencySummary>("LatencySummary").implement({
  fields: (t) => ({
    count: t.exposeInt("count"),
    p50: t.exposeFloat("p50", { nullable: true }),
    p95: t.exposeFloat("p95", { nullable: true }),
    p99: t.exposeFloat("p99", { nullable: true }),
  }),
});

const TimelineRef = builder.objectRef<TimelineEntry>("TimelineEntry").implement({
  description: "A stored event and the transitions it caused for one user.",
  fields: (t) => ({
    cause: t.exposeString("cause", { description: "provider:eventId" }),
    event: t.field({ type: EventRef, nullable: true, description: "The event as stored (its raw body exactly as received).", resolve: (e) => e.event }),
    transitions: t.field({ type: [TransitionRef], resolve: (e) => [...e.transitions] }),
  }),
});

const DashboardRef = builder.objectRef<Record<string, never>>("Dashboard").implement({
  fields: (t) => ({
    metrics: t.field({
      type: MetricsRef,
      args: { at: t.arg({ type: "DateTime", required: false, description: "Default: now." }) },
      resolve: async (_d, args, ctx) => {
        const at = args.at?.getTime() ?? ctx.now;
        const histories = await ctx.histories.histories(ctx.projectedThrough);
        const from = at - WINDOW_DAYS * DAY;
        return { ...snapshotAt(histories, at, ctx.catalog), movement: movementBetween(histories, from, at, ctx.catalog), trialConversion: trialConversion(histories, from, at) };
      },
    }),
    series: t.field({
      type: [PointRef],
      description: `MRR and paying subscriptions at evenly spaced instants from \`from\` to \`to\` (at most ${MAX_POINTS}).`,
      args: { from: t.arg({ type: "DateTime", required: true }), to: t.arg({ type: "DateTime", required: true }), points: t.arg.int({ defaultValue: 30 }) },
      resolve: async (_d, args, ctx) => {
        const points = args.points ?? 30;
        if (points < 2 || points > MAX_POINTS) throw new GraphQLError(`points: between 2 and ${MAX_POINTS} (got ${points})`, { extensions: { code: "invalid_parameter" } });
        const [from, to] = [args.from.getTime(), args.to.getTime()];
        if (!(to > from)) throw new GraphQLError("to: must come after from", { extensions: { code: "invalid_parameter" } });
        const histories = await ctx.histories.histories(ctx.projectedThrough);
        return seriesAt(histories, Array.from({ length: points }, (_, i) => Math.round(from + ((to - from) * i) / (points - 1))), ctx.catalog);
      },
    }),
    customers: t.field({
      type: CustomerPageRef,
      description: "Customers, newest first, optionally those with an id (app, Verity's or a provider's) or email containing `search`.",
      args: { search: t.arg.string({ required: false }), first: t.arg.int({ defaultValue: 25 }), offset: t.arg.int({ defaultValue: 0 }) },
      resolve: (_d, args, ctx) => customerPage(ctx.db, args.search ?? null, Math.min(100, Math.max(1, args.first ?? 25)), Math.max(0, args.offset ?? 0)),
    }),
    eventsPerDay: t.field({
      type: [DayCountRef],
      description: "Events received per UTC day and provider over the last `days` days (at most 366).",
      args: { days: t.arg.int({ defaultValue: 30 }) },
      resolve: (_d, args, ctx) => {
        const days = Math.min(366, Math.max(1, args.days ?? 30));
        const today = Math.floor(ctx.now / DAY) * DAY;
        return eventsPerDay(ctx.db, today - (days - 1) * DAY);
      },
    }),
    usage: t.field({
      type: [FeatureUsageRef],
      description: "Usage per metered feature in the periods running now.",
      resolve: async (_d, _args, ctx) =>
        (await usageByFeature(ctx.db, ctx.now)).map((u) => ({ ...u, used: unscaleUnits(u.used, decimalsOf(ctx.catalog, u.feature)) })),
    }),
    revenuePerThousandCalls: t.field({
      type: [MoneyRef],
      description: "MRR per 1,000 usage records (metered calls) of the periods running now, per currency; empty when nothing was recorded.",
      resolve: async (_d, _args, ctx) => {
        const calls = (await usageByFeature(ctx.db, ctx.now)).reduce((n, u) => n + u.records, 0);
        if (calls === 0) return [];
        const mrr = snapshotAt(await ctx.histories.histories(ctx.projectedThrough), ctx.now, ctx.catalog).mrr;
        return items(mrr).map((m) => ({ currency: m.currency, amount: Math.round((m.amount * 1000) / calls) }));
      },
    }),
    quotaCheckLatency: t.field({
      type: LatencyRef,
      description: "How long this process took to answer POST /v1/check over the last 24 hours (its last 10,000 checks), in milliseconds.",
      resolve: (_d, _args, ctx) => ctx.quotaLatency.summary(ctx.now - 86_400_000),
    }),
    recentTransitions: t.field({
      type: [TransitionEventRef],
      description: "The newest transitions (at most 100), newest first, optionally of one customer or entity: subscribe to `transitions` after the first one's cursor to go on live.",
      args: { userId: t.arg.string(), entity: t.arg.string(), first: t.arg.int({ defaultValue: 20 }) },
      resolve: async (_d, args, ctx) => {
        let userId: string | null = null;
        if (args.userId) {
          userId = await ctx.reads.findUser(args.userId);
          if (userId === null) return [];
        }
        return recentFeed(ctx.db, Math.min(100, Math.max(1, args.first ?? 20)), { userId, entity: args.entity ?? null });
      },
    }),
    timeline: t.field({
      type: [TimelineRef],
      nullable: true,
      description: "A customer's newest events (by app user id or provider customer id), newest first, with what each changed; null for an unknown user.",
      args: { userId: t.arg.string({ required: true }), first: t.arg.int({ defaultValue: 50 }) },
      resolve: async (_d, args, ctx) => {
        const userId = await ctx.reads.findUser(args.userId);
        return userId === null ? null : customerTimeline(ctx.db, userId, Math.min(200, Math.max(1, args.first ?? 50)));
      },
    }),
    entitlementsAt: t.field({
      type: [EntitlementRef],
      nullable: true,
      description: "What a customer could use at an instant (usage as counted now); null for an unknown user.",
      args: { userId: t.arg.string({ required: true }), at: t.arg({ type: "DateTime", required: true }) },
      resolve: async (_d, args, ctx) => {
        const userId = await ctx.reads.findUser(args.userId);
        const view = userId === null ? null : await ctx.reads.user(userId);
        if (view === null) return null;
        const at = args.at.getTime();
        return entitlementsAt(view.grants, ctx.catalog, at, meterReading(view, at), slotReading(view, at));
      },
    }),
    incidents: t.field({ type: IncidentsRef, resolve: (_d, _args, ctx) => incidentsAt(ctx.db, ctx.catalog, ctx, ctx.projectedThrough, ctx.now) }),
  }),
});

builder.queryField("dashboard", (t) =>
  t.field({
    authScopes: { dashboard: true },
    type: DashboardRef,
    description: "What the dashboard shows: metrics, customers, incidents (read-only).",
    resolve: () => ({}),
  }),
);
