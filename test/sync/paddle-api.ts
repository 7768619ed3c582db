// A local stand-in for the part of Paddle Billing's API that `verity sync paddle` reads: GET /events
// (order_by=id[ASC], per_page, cursor `after`) and GET /subscriptions, behind a bearer key, with
// Paddle's { data, meta: { pagination: { per_page, next, has_more } } } pages.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type PaddleStandIn = { readonly url: string; readonly requests: string[]; events: Record<string, any>[]; subscriptions: Record<string, any>[]; close(): Promise<void> };

export const startPaddleStandIn = async (apiKey: string): Promise<PaddleStandIn> => {
  const requests: string[] = [];
  const state = { events: [] as Record<string, any>[], subscriptions: [] as Record<string, any>[] };
  let base = "";
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => (res.writeHead(status, { "content-type": "application/json" }), res.end(JSON.stringify(body)));
    if (req.headers.authorization !== `Bearer ${apiKey}`) return json(403, { error: { type: "request_error", code: "forbidden", detail: "You aren't permitted to perform this request." } });
    const list = (items: Record<string, any>[], idOf: (i: Record<string, any>) => string) => {
      const perPage = Math.min(200, Number(url.searchParams.get("per_page") ?? 50));
      const after = url.searchParams.get("after");
      const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
      const start = after === null ? 0 : sorted.findIndex((i) => idOf(i) === after) + 1;
      const data = sorted.slice(start, start + perPage);
      const hasMore = start + perPage < sorted.length;
      const next = new URL(`${base}${url.pathname}`);
      for (const [k, v] of url.searchParams) if (k !== "after") next.searchParams.set(k, v);
      if (data.length > 0) next.searchParams.set("after", idOf(data.at(-1)!));
      return json(200, { data, meta: { request_id: "req_standin", pagination: { per_page: perPage, next: next.href, has_more: hasMore, estimated_total: sorted.length } } });
    };
    if (url.pathname === "/events") return list(state.events, (e) => e.event_id);
    if (url.pathname === "/subscriptions") return list(state.subscriptions, (s) => s.id);
    return json(404, { error: { type: "request_error", code: "not_found", detail: "Entity not found." } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
