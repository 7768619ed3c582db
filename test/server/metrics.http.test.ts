// /metrics as Prometheus scrapes it: the text parsed by a Prometheus text-format parser, the
// counters and histograms moved by real requests, label sets closed against hostile paths, and
// access: a key with the metrics scope, keyless from loopback only when the operator allows it.
import { createClient } from "graphql-sse";
import parse, { type MetricFamily } from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/server/auth.js";
import { testCatalog } from "../builders/histories.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { KINDS } from "../support/databases.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

const family = (families: readonly MetricFamily[], name: string): MetricFamily => {
  const found = families.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no metric family ${name} among ${families.map((f) => f.name).join(", ")}`);
  return found;
};
const sample = (f: MetricFamily, labels: Record<string, string>) => f.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

describe.each(KINDS)("/metrics on %s", (kind) => {
  let s: RunningServer | null = null;
  afterEach(async () => {
    await s?.stop();
    s = null;
  });

  it("counts webhooks by provider and outcome, times ingest and reads by route template, reports lag and open streams", async () => {
    s = await startServer(kind, testCatalog);
    const url = s.url;
    const key = (await createApiKey(s.db, ["metrics"], new Date())).key;
    const scrape = async () => {
      const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      lastText = text;
      // The parser throws on a line that is not valid exposition format.
      return parse(text);
    };
    let lastText = "";
    // The parser reads counters and gauges with their labels; it merges a labelled histogram's
    // series, so a histogram's count is read from the (parsed, hence well-formed) text itself.
    const histogramCount = (name: string, labels: string) => new RegExp(`^${name}_count\\{${labels}\\} (\\d+)$`, "m").exec(lastText)?.[1];

    const event = stripeEvent({ id: "evt_m1", type: "customer.created", created: Math.floor(Date.now() / 1000), object: customer({ id: "cus_m1", metadata: { user_id: "u_m1" } }) });
    expect((await deliver(url, event)).status).toBe(200);
    expect((await deliver(url, event)).status).toBe(200);
    expect((await deliver(url, event, { secret: "whsec_wrong" })).status).toBe(400);
    expect((await fetch(`${url}/webhooks/nosuchprovider`, { method: "POST", body: "{}" })).status).toBe(404);
    for (const path of ["/api/users/u_m1/entitlements", "/api/users/u_m1/entitlements", `/api/users/${"x".repeat(300)}/nothing`, "/%2e%2e/etc/passwd"]) {
      await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${s.readKey}` } });
    }
    const sse = createClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${s.readKey}` }, retryAttempts: 0 });
    const stream = sse.iterate({ query: "subscription { transitions { cursor } }" });
    const opened = stream.next();
    try {
      let families = await scrape();
      for (let i = 0; i < 50 && Number(sample(family(families, "verity_open_streams"), {})?.value) !== 1; i++) {
        await new Promise((r) => setTimeout(r, 50));
        families = await scrape();
      }
      const webhooks = family(families, "verity_webhooks_total");
      expect(webhooks.type).toBe("COUNTER");
      expect(sample(webhooks, { provider: "stripe", outcome: "accepted" })?.value).toBe("1");
      expect(sample(webhooks, { provider: "stripe", outcome: "duplicate" })?.value).toBe("1");
      expect(sample(webhooks, { provider: "stripe", outcome: "signature_mismatch" })?.value).toBe("1");
      // An unknown provider name is not a label value: nothing to count it under.
      expect(webhooks.metrics.every((m) => m.labels?.provider === "stripe")).toBe(true);

      const ingest = family(families, "verity_ingest_seconds");
      expect(ingest.type).toBe("HISTOGRAM");
      expect(histogramCount("verity_ingest_seconds", 'provider="stripe"')).toBe("3");

      const requests = family(families, "verity_request_seconds");
      expect(requests.type).toBe("HISTOGRAM");
      expect(histogramCount("verity_request_seconds", 'route="/api/users/\\{id\\}/entitlements",status="200"')).toBe("2");
      const routes = new Set([...lastText.matchAll(/^verity_request_seconds_count\{route="([^"]*)"/gm)].map((m) => m[1]));
      // Hostile paths land in "other"; no label holds what a client typed.
      expect([...routes].every((r) => r === "other" || r!.startsWith("/"))).toBe(true);
      expect(routes.has("other")).toBe(true);
      expect([...routes].some((r) => r!.includes("x".repeat(20)) || r!.includes("passwd"))).toBe(false);

      expect(sample(family(families, "verity_projection_lag_events"), {})?.value).toBe("0");
      expect(sample(family(families, "verity_projection_failed_events"), {})?.value).toBe("0");
      expect(sample(family(families, "verity_open_streams"), {})?.value).toBe("1");
      expect(families.some((f) => f.name === "verity_process_resident_memory_bytes")).toBe(true);
    } finally {
      await stream.return?.(undefined);
      await opened.catch(() => undefined);
      sse.dispose();
    }
  });

  it("needs a key with the metrics scope by default; keyless from loopback only when allowed, never through a proxy; off is 404", async () => {
    s = await startServer(kind, testCatalog);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.readKey}` } })).status).toBe(403);
    await s.stop();
    s = await startServer(kind, testCatalog, { metrics: "loopback" });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${s.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.9" } })).status).toBe(401);
    await s.stop();
    s = await startServer(kind, testCatalog, { metrics: "off" });
    const key = (await createApiKey(s.db, ["metrics"], new Date())).key;
    expect((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
  });
});
