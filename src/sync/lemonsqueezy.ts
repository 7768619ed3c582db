// Reading Lemon Squeezy's API for `verity sync lemonsqueezy`. Lemon Squeezy lists no events, so
// sync reads the objects themselves through its documented JSON:API list endpoints: GET
// /v1/subscriptions and GET /v1/orders (`page[number]`, `page[size]` up to 100, `links.next` while
// there are more), with a bearer API key. LEMONSQUEEZY_API_BASE points it at a stand-in in tests.
import { field, integer, record, text, type Json } from "../providers/json.js";
import { idText, isoInstant, resourceIn } from "../providers/lemonsqueezy/read.js";
import { subscriptionPriceIds } from "../providers/lemonsqueezy/subscription.js";
import { getJson, ProviderApiError, type RemoteSubscription } from "./remote.js";

export type LemonSqueezyAccess = { readonly apiKey: string; readonly baseUrl: string };

const PAGE_SIZE = 100;

const errorDetail = (body: unknown): string | null => {
  const first = Array.isArray(field(body, "errors")) ? (field(body, "errors") as unknown[])[0] : null;
  return text(field(first, "detail")) ?? text(field(first, "title"));
};

/** Every resource object of a list endpoint, page by page. */
const listAll = async (access: LemonSqueezyAccess, path: string): Promise<Json[]> => {
  const items: Json[] = [];
  let url: string | null = `${access.baseUrl.replace(/\/+$/, "")}${path}?page[size]=${PAGE_SIZE}&page[number]=1`;
  const headers = { authorization: `Bearer ${access.apiKey}`, accept: "application/vnd.api+json" };
  for (let page = 1; url !== null; page++) {
    const body = await getJson("Lemon Squeezy", url, headers, errorDetail);
    const data = field(body, "data");
    if (!Array.isArray(data)) throw new ProviderApiError(`Lemon Squeezy's answer for ${url} has no data list`);
    for (const item of data) if (record(item) !== null) items.push(record(item)!);
    const next = text(field(body, "links", "next"));
    const lastPage = integer(field(body, "meta", "page", "lastPage"));
    url = next !== null && data.length > 0 && (lastPage === null || page < lastPage) ? next : null;
  }
  return items;
};

const seconds = (value: unknown): number | null => {
  const ms = isoInstant(value);
  return ms === null ? null : Math.floor(ms / 1000);
};

/** Every subscription of the stores the key can read, whatever its status. */
export const lemonSqueezySubscriptions = async (access: LemonSqueezyAccess): Promise<RemoteSubscription[]> =>
  (await listAll(access, "/v1/subscriptions")).flatMap((item) => {
    const resource = resourceIn(item);
    if (resource === null || resource.type !== "subscriptions") return [];
    const a = resource.attributes;
    // The period runs to the next renewal; a cancelled one to its end (as Verity reads it).
    return [{ id: resource.id, customer: idText(a["customer_id"]), status: text(a["status"]) ?? "", priceIds: subscriptionPriceIds(a), periodEnd: seconds(a["renews_at"]) ?? seconds(a["ends_at"]), body: JSON.stringify(item) }];
  });

/** An order as Lemon Squeezy has it now: what drift compares, and the resource object (JSON). */
export type RemoteOrder = { readonly id: string; readonly status: string; readonly refunded: number; readonly body: string };

/** Every order of the stores the key can read. */
export const lemonSqueezyOrders = async (access: LemonSqueezyAccess): Promise<RemoteOrder[]> =>
  (await listAll(access, "/v1/orders")).flatMap((item) => {
    const resource = resourceIn(item);
    if (resource === null || resource.type !== "orders") return [];
    return [{ id: resource.id, status: text(resource.attributes["status"]) ?? "", refunded: integer(resource.attributes["refunded_amount"]) ?? 0, body: JSON.stringify(item) }];
  });
