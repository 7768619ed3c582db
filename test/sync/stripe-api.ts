// A local stand-in for the part of Stripe's API that `verity sync` reads: GET /v1/events (created[gte],
// starting_after, limit; newest first, as Stripe lists) and GET /v1/subscriptions (status=all),
// behind a bearer key, paginated with has_more like the real API.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type StandIn = { readonly url: string; readonly requests: string[]; events: Record<string, any>[]; subscriptions: Record<string, any>[]; customers: Record<string, any>[]; close(): Promise<void> };

const page = (items: readonly Record<string, any>[], query: URLSearchParams, path: string) => {
  const limit = Math.min(100, Number(query.get("limit") ?? 10));
  const after = query.get("starting_after");
  const start = after === null ? 0 : items.findIndex((i) => i.id === after) + 1;
  const data = items.slice(start, start + limit);
  return { object: "list", url: path, has_more: start + limit < items.length, data };
};

export const startStripeStandIn = async (secretKey: string): Promise<StandIn> => {
  const requests: string[] = [];
  const state = { events: [] as Record<string, any>[], subscriptions: [] as Record<string, any>[], customers: [] as Record<string, any>[] };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => (res.writeHead(status, { "content-type": "application/json" }), res.end(JSON.stringify(body)));
    if (req.headers.authorization !== `Bearer ${secretKey}`) return json(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
    if (url.pathname === "/v1/events") {
      const gte = Number(url.searchParams.get("created[gte]") ?? 0);
      const newestFirst = state.events.filter((e) => e.created >= gte).sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
      return json(200, page(newestFirst, url.searchParams, "/v1/events"));
    }
    if (url.pathname === "/v1/subscriptions") return json(200, page(state.subscriptions, url.searchParams, "/v1/subscriptions"));
    const customer = /^\/v1\/customers\/([^/]+)$/.exec(url.pathname);
    if (customer) {
      const found = state.customers.find((c) => c.id === decodeURIComponent(customer[1]!));
      return found === undefined ? json(404, { error: { type: "invalid_request_error", code: "resource_missing", message: `No such customer: '${customer[1]}'` } }) : json(200, found);
    }
    return json(404, { error: { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${url.pathname})` } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get events() {
      return state.events;
    },
    set events(v) {
      state.events = v;
    },
    get subscriptions() {
      return state.subscriptions;
    },
    set subscriptions(v) {
      state.subscriptions = v;
    },
    get customers() {
      return state.customers;
    },
    set customers(v) {
      state.customers = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
