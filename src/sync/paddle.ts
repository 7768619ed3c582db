// Reading Paddle Billing's API for `verity sync paddle`, through its documented list endpoints:
// GET /events (every notable thing, oldest first by id, cursor `after`) to store what webhooks
// missed, and GET /subscriptions to compare with Verity's (drift) and to snapshot what still
// differs. Bearer API key; PADDLE_API_BASE points it at the sandbox, or a stand-in in tests.
import { field, record, text, type Json } from "../providers/json.js";
import { getJson, ProviderApiError, type RemoteSubscription } from "./remote.js";

export type PaddleAccess = { readonly apiKey: string; readonly baseUrl: string };

const PER_PAGE = 200;

/** Every entity of a list endpoint, following `meta.pagination.next` until `has_more` is false. */
const listAll = async (access: PaddleAccess, path: string): Promise<Json[]> => {
  const items: Json[] = [];
  let url: string | null = `${access.baseUrl.replace(/\/+$/, "")}${path}${path.includes("?") ? "&" : "?"}per_page=${PER_PAGE}`;
  while (url !== null) {
    const body = await getJson("Paddle", url, { authorization: `Bearer ${access.apiKey}`, accept: "application/json" }, (b) => text(field(b, "error", "detail")));
    const data = field(body, "data");
    if (!Array.isArray(data)) throw new ProviderApiError(`Paddle's answer for ${url} has no data list`);
    for (const item of data) if (record(item) !== null) items.push(record(item)!);
    const pagination = record(field(body, "meta", "pagination"));
    url = pagination?.["has_more"] === true ? text(pagination["next"]) : null;
  }
  return items;
};

/** An event as the API returned it, to store as fetched. */
export type FetchedPaddleEvent = { readonly id: string; readonly occurredAt: number; readonly body: string };

/** Every event Paddle lists that occurred at or after `since` (ms), oldest first. */
export const paddleEventsSince = async (access: PaddleAccess, since: number): Promise<FetchedPaddleEvent[]> =>
  (await listAll(access, "/events?order_by=id[ASC]"))
    .map((e) => ({ id: text(e["event_id"]) ?? "", occurredAt: Date.parse(text(e["occurred_at"]) ?? ""), body: JSON.stringify(e) }))
    .filter((e) => e.id !== "" && Number.isFinite(e.occurredAt) && e.occurredAt >= since);

/** Every subscription Paddle has. */
export const paddleSubscriptions = async (access: PaddleAccess): Promise<RemoteSubscription[]> =>
  (await listAll(access, "/subscriptions")).map((s) => {
    const items = Array.isArray(s["items"]) ? (s["items"] as unknown[]) : [];
    const ends = text(field(s, "current_billing_period", "ends_at"));
    return {
      id: text(s["id"]) ?? "",
      customer: text(s["customer_id"]),
      status: text(s["status"]) ?? "",
      priceIds: items.flatMap((i) => (text(field(i, "price", "id")) === null ? [] : [text(field(i, "price", "id"))!])),
      periodEnd: ends === null ? null : Math.floor(Date.parse(ends) / 1000),
      body: JSON.stringify(s),
    };
  });
