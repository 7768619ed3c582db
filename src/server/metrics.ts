// /metrics in Prometheus' text format, through prom-client with a registry per app (tests run
// several apps in one process). Labels come from closed sets (known providers, route templates,
// refusal codes), so hostile paths or provider names cannot grow the series without bound.
// Projection lag is read when scraped, from two index lookups.
import type { IncomingMessage } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { isProvider } from "../domain/provider.js";
import { isLoopbackRequest } from "./dashboard.js";

export type MetricsAccess = "key" | "loopback" | "off";

/** The route template a path belongs to: the label of its latency series. */
export const routeOf = (path: string): string => {
  if (path === "/graphql" || path === "/graphql/stream") return path;
  if (path.startsWith("/dashboard")) return "/dashboard";
  if (path.startsWith("/webhooks/")) return "/webhooks/{provider}";
  if (/^\/api\/users\/[^/]+\/(entitlements|subscription|credits|activations)$/.test(path)) return `/api/users/{id}/${path.slice(path.lastIndexOf("/") + 1)}`;
  if (/^\/v1\/leases\/[^/]+\/release$/.test(path)) return "/v1/leases/{id}/release";
  if (/^\/v1\/activations\/[^/]+\/revoke$/.test(path)) return "/v1/activations/{id}/revoke";
  if (/^\/api\/checkouts\/[^/]+\/[^/]+$/.test(path)) return "/api/checkouts/{provider}/{id}";
  if (/^\/api\/admin\/events\/[^/]+\/reprocess$/.test(path)) return "/api/admin/events/{id}/reprocess";
  if (["/healthz", "/readyz", "/metrics", "/api/events", "/v1/usage", "/v1/check", "/v1/leases", "/v1/tokens", "/v1/activation-codes", "/v1/activate", "/v1/refresh", "/api/plans", "/.well-known/jwks.json"].includes(path)) return path;
  return "other";
};

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly webhooks: Counter<"provider" | "outcome">;
  private readonly ingest: Histogram<"provider">;
  private readonly requests: Histogram<"route" | "status">;

  constructor(sources: {
    readonly projectionLag: () => Promise<{ readonly events: number; readonly seconds: number; readonly failed: number }>;
    readonly openStreams: () => number;
  }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "verity_" });
    this.webhooks = new Counter({ name: "verity_webhooks_total", help: "Webhook deliveries answered, by provider and outcome (accepted, duplicate, or the refusal code).", labelNames: ["provider", "outcome"], registers });
    this.ingest = new Histogram({ name: "verity_ingest_seconds", help: "From a webhook's arrival to its answer, which is sent once the event is durable.", labelNames: ["provider"], buckets: LATENCY_BUCKETS, registers });
    this.requests = new Histogram({ name: "verity_request_seconds", help: "Time to answer a request, by route template and status.", labelNames: ["route", "status"], buckets: LATENCY_BUCKETS, registers });
    // One read of the lag per scrape, shared by its three gauges.
    let lag: Promise<{ events: number; seconds: number; failed: number }> | null = null;
    const lagNow = () => (lag ??= sources.projectionLag().finally(() => setImmediate(() => (lag = null))));
    new Gauge({ name: "verity_projection_lag_events", help: "Stored events not projected yet (failed ones excluded).", registers, async collect() { this.set((await lagNow()).events); } });
    new Gauge({ name: "verity_projection_lag_seconds", help: "How long the oldest stored event not projected yet has waited.", registers, async collect() { this.set((await lagNow()).seconds); } });
    new Gauge({ name: "verity_projection_failed_events", help: "Stored events whose projection failed; catch-up retries them.", registers, async collect() { this.set((await lagNow()).failed); } });
    new Gauge({ name: "verity_open_streams", help: "Live transition subscriptions (graphql-sse) open now.", registers, collect() { this.set(sources.openStreams()); } });
  }

  webhook(provider: string, outcome: string, seconds: number): void {
    const label = isProvider(provider) ? provider : "unknown";
    this.webhooks.inc({ provider: label, outcome });
    this.ingest.observe({ provider: label }, seconds);
  }

  request(path: string, status: number, seconds: number): void {
    this.requests.observe({ route: routeOf(path), status: String(status) }, seconds);
  }

  /** Whether this request may read /metrics without a key. */
  static keyless(access: MetricsAccess, req: IncomingMessage): boolean {
    return access === "loopback" && req.headers.authorization === undefined && isLoopbackRequest(req);
  }
}
