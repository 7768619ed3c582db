// Reading Creem's API for `verity sync creem`. Creem lists no events and no subscriptions: its
// documented list endpoint is GET /v1/transactions/search (`page_number`, `page_size`, pages until
// `pagination.next_page` is null), and every paid period of a subscription is a transaction that
// names it. Sync reads each subscription those name, and each Verity already knows (a trial not yet
// paid has no transaction), through GET /v1/subscriptions?subscription_id=…, with the `x-api-key`
// header. A one-time payment's transaction names no product, so a missed purchase can be found but
// not rebuilt from the API. CREEM_API_BASE chooses test mode (https://test-api.creem.io) or a stand-in in tests.
import { field, integer, record, ref, text } from "../providers/json.js";
import { currentPeriod, subscriptionProductIds } from "../providers/creem/subscription.js";
import { getJson, ProviderApiError, type RemoteSubscription } from "./remote.js";

export type CreemAccess = { readonly apiKey: string; readonly baseUrl: string };

const PAGE_SIZE = 100;

const errorDetail = (body: unknown): string | null => {
  const message = field(body, "message");
  return Array.isArray(message) ? message.map(String).join("; ") : (text(message) ?? text(field(body, "error")));
};

const get = (access: CreemAccess, path: string): Promise<unknown> =>
  getJson("Creem", `${access.baseUrl.replace(/\/+$/, "")}${path}`, { "x-api-key": access.apiKey, accept: "application/json" }, errorDetail);

/** A transaction, as much of it as sync reads. */
export type CreemTransaction = { readonly id: string; readonly order: string | null; readonly subscription: string | null; readonly status: string; readonly type: string };

/** Every transaction Creem lists, every page of them. */
export const creemTransactions = async (access: CreemAccess): Promise<CreemTransaction[]> => {
  const transactions: CreemTransaction[] = [];
  for (let page: number | null = 1; page !== null; ) {
    const body = await get(access, `/v1/transactions/search?page_number=${page}&page_size=${PAGE_SIZE}`);
    const items = field(body, "items");
    if (!Array.isArray(items)) throw new ProviderApiError(`Creem's answer for page ${page} of /v1/transactions/search has no items list`);
    for (const t of items) {
      const id = text(field(t, "id"));
      if (id !== null) transactions.push({ id, order: ref(field(t, "order")), subscription: ref(field(t, "subscription")), status: text(field(t, "status")) ?? "", type: text(field(t, "type")) ?? "" });
    }
    const next = integer(field(body, "pagination", "next_page"));
    page = next !== null && next > page && items.length > 0 ? next : null;
  }
  return transactions;
};

/** A subscription as Creem has it now, or null when Creem does not know it (404). */
export const creemSubscription = async (access: CreemAccess, id: string): Promise<RemoteSubscription | null> => {
  let body: unknown;
  try {
    body = await get(access, `/v1/subscriptions?subscription_id=${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ProviderApiError && / answered 404 /.test(e.message)) return null;
    throw e;
  }
  const sub = record(body);
  if (sub === null || text(sub["id"]) === null) throw new ProviderApiError(`Creem's answer for subscription ${id} is not a subscription`);
  const end = currentPeriod(sub).end;
  return { id: text(sub["id"])!, customer: ref(sub["customer"]), status: text(sub["status"]) ?? "", priceIds: subscriptionProductIds(sub), periodEnd: end === null ? null : Math.floor(end / 1000), body: JSON.stringify(sub) };
};

/** Every subscription `transactions` name, and each of `known` (ids Verity already has). */
export const creemSubscriptions = async (access: CreemAccess, transactions: readonly CreemTransaction[], known: readonly string[]): Promise<RemoteSubscription[]> => {
  const ids = [...new Set([...transactions.flatMap((t) => (t.subscription === null ? [] : [t.subscription])), ...known])].sort();
  const subscriptions: RemoteSubscription[] = [];
  for (const id of ids) {
    const sub = await creemSubscription(access, id);
    if (sub !== null) subscriptions.push(sub);
  }
  return subscriptions;
};

/** One-time payments that took money: what a missed checkout.completed bought. */
export const oneTimePayments = (transactions: readonly CreemTransaction[]): CreemTransaction[] =>
  transactions.filter((t) => t.subscription === null && t.type === "payment" && ["paid", "refunded", "partially_refunded"].includes(t.status));
