// A local stand-in for the part of Creem's API that `verity sync creem` reads: GET
// /v1/transactions/search (`page_number`, `page_size`; `{ items, pagination }`) and GET
// /v1/subscriptions?subscription_id=…, behind the `x-api-key` header, with Creem's error shape.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type CreemStandIn = { readonly url: string; readonly requests: string[]; transactions: Record<string, any>[]; subscriptions: Record<string, any>[]; close(): Promise<void> };

export const startCreemStandIn = async (apiKey: string): Promise<CreemStandIn> => {
  const requests: string[] = [];
  const state = { transactions: [] as Record<string, any>[], subscriptions: [] as Record<string, any>[] };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => (res.writeHead(status, { "content-type": "application/json" }), res.end(JSON.stringify(body)));
    const error = (status: number, error: string, message: string) => json(status, { trace_id: "00000000-0000-4000-8000-000000000000", status, error, message: [message], timestamp: Date.now() });
    if (req.headers["x-api-key"] !== apiKey) return error(403, "Forbidden", "Invalid API key");
    if (url.pathname === "/v1/transactions/search") {
      const size = Number(url.searchParams.get("page_size") ?? 10);
      const number = Number(url.searchParams.get("page_number") ?? 1);
      const pages = Math.max(1, Math.ceil(state.transactions.length / size));
      return json(200, {
        items: state.transactions.slice((number - 1) * size, number * size),
        pagination: { total_records: state.transactions.length, total_pages: pages, current_page: number, next_page: number < pages ? number + 1 : null, prev_page: number > 1 ? number - 1 : null },
      });
    }
    if (url.pathname === "/v1/subscriptions") {
      const sub = state.subscriptions.find((s) => s.id === url.searchParams.get("subscription_id"));
      return sub === undefined ? error(404, "Not Found", "Subscription not found") : json(200, sub);
    }
    return error(404, "Not Found", `Cannot GET ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get transactions() {
      return state.transactions;
    },
    set transactions(v) {
      state.transactions = v;
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
