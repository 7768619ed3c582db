// A local stand-in for the part of Lemon Squeezy's API that `verity sync lemonsqueezy` reads:
// GET /v1/subscriptions and GET /v1/orders, JSON:API pages (`page[number]`, `page[size]` ≤ 100,
// `links.next` while there are more, `meta.page`), behind a bearer key. Like the real API, it signs
// each subscription's `urls` afresh on every read.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type LemonSqueezyStandIn = { readonly url: string; readonly requests: string[]; subscriptions: Record<string, any>[]; orders: Record<string, any>[]; close(): Promise<void> };

export const startLemonSqueezyStandIn = async (apiKey: string): Promise<LemonSqueezyStandIn> => {
  const requests: string[] = [];
  const state = { subscriptions: [] as Record<string, any>[], orders: [] as Record<string, any>[] };
  let base = "";
  let reads = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => (res.writeHead(status, { "content-type": "application/vnd.api+json" }), res.end(JSON.stringify(body)));
    if (req.headers.authorization !== `Bearer ${apiKey}`) return json(401, { jsonapi: { version: "1.0" }, errors: [{ detail: "Unauthenticated.", status: "401", title: "Unauthorized" }] });
    const list = (items: Record<string, any>[], resign: boolean) => {
      const size = Math.min(100, Number(url.searchParams.get("page[size]") ?? 10));
      const number = Number(url.searchParams.get("page[number]") ?? 1);
      const lastPage = Math.max(1, Math.ceil(items.length / size));
      reads += 1;
      const data = items.slice((number - 1) * size, number * size).map((item) =>
        resign ? { ...item, attributes: { ...item.attributes, urls: { update_payment_method: `https://store.lemonsqueezy.com/subscription/${item.id}/payment-details?expires=${Date.now()}&signature=${reads}`, customer_portal: `https://store.lemonsqueezy.com/billing?signature=${reads}` } } } : item,
      );
      const page = (n: number) => `${base}${url.pathname}?page[number]=${n}&page[size]=${size}`;
      return json(200, {
        meta: { page: { currentPage: number, from: (number - 1) * size + 1, lastPage, perPage: size, to: (number - 1) * size + data.length, total: items.length } },
        jsonapi: { version: "1.0" },
        links: { first: page(1), last: page(lastPage), ...(number < lastPage ? { next: page(number + 1) } : {}) },
        data,
      });
    };
    if (url.pathname === "/v1/subscriptions") return list(state.subscriptions, true);
    if (url.pathname === "/v1/orders") return list(state.orders, false);
    return json(404, { jsonapi: { version: "1.0" }, errors: [{ detail: "The route could not be found.", status: "404", title: "Not Found" }] });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    get subscriptions() {
      return state.subscriptions;
    },
    set subscriptions(v) {
      state.subscriptions = v;
    },
    get orders() {
      return state.orders;
    },
    set orders(v) {
      state.orders = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
