// Lemon Squeezy payload builders: webhook bodies shaped as Lemon Squeezy sends them (JSON:API
// `data` with a string id, numeric foreign keys in `attributes`, ISO timestamps with microseconds,
// `meta.event_name` and, when the checkout passed it, `meta.custom_data`). Pure: the same input
// gives the same body; times are Unix seconds in, ISO strings out.
import { Either } from "effect";
import { decodeLemonSqueezyEnvelope } from "../../providers/lemonsqueezy/envelope.js";
import type { StoredEventInput } from "../../providers/types.js";

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

/** Unix seconds → Lemon Squeezy's timestamp format ("2023-01-17T12:26:23.000000Z"). */
export const lsTime = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

const API = "https://api.lemonsqueezy.com/v1";

const links = (type: string, id: string, relations: readonly string[]): JsonObject =>
  Object.fromEntries(relations.map((r) => [r, { links: { related: `${API}/${type}/${id}/${r}`, self: `${API}/${type}/${id}/relationships/${r}` } }]));

export type Resource = { readonly type: string; readonly id: string; readonly attributes: JsonObject; readonly relationships: JsonObject; readonly links: JsonObject };

export type LsBody = {
  readonly meta: JsonObject;
  readonly data: Resource;
};

export const lsEvent = (input: {
  readonly eventName: string;
  readonly data: Resource;
  readonly customData?: JsonObject;
  /** Real deliveries carry these; the published samples do not. */
  readonly webhookId?: string;
  readonly testMode?: boolean;
}): LsBody => ({
  meta: {
    event_name: input.eventName,
    ...(input.testMode === undefined ? {} : { test_mode: input.testMode }),
    ...(input.webhookId === undefined ? {} : { webhook_id: input.webhookId }),
    ...(input.customData === undefined ? {} : { custom_data: input.customData }),
  },
  data: input.data,
});

// ── resources ──────────────────────────────────────────────────────────────────────────────

export type SubscriptionInput = {
  readonly id: string;
  readonly status: string;
  readonly variantId: number;
  readonly customerId?: number;
  readonly orderId?: number;
  readonly email?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly renewsAt?: number | null;
  readonly endsAt?: number | null;
  readonly trialEndsAt?: number | null;
  readonly cancelled?: boolean;
  readonly pause?: { readonly mode: "void" | "free"; readonly resumesAt: number | null } | null;
};

export const subscription = (s: SubscriptionInput): Resource => ({
  type: "subscriptions",
  id: s.id,
  attributes: {
    store_id: 1,
    customer_id: s.customerId ?? 7,
    order_id: s.orderId ?? 70,
    order_item_id: (s.orderId ?? 70) + 1000,
    product_id: 500,
    variant_id: s.variantId,
    product_name: "Verity Test Product",
    variant_name: `Variant ${s.variantId}`,
    user_name: "Ada Lovelace",
    user_email: s.email ?? "ada@example.com",
    status: s.status,
    status_formatted: s.status.charAt(0).toUpperCase() + s.status.slice(1),
    card_brand: "visa",
    card_last_four: "4242",
    pause: s.pause ? { mode: s.pause.mode, resumes_at: s.pause.resumesAt === null ? null : lsTime(s.pause.resumesAt) } : null,
    cancelled: s.cancelled ?? s.status === "cancelled",
    trial_ends_at: s.trialEndsAt == null ? null : lsTime(s.trialEndsAt),
    billing_anchor: 1,
    first_subscription_item: { id: Number(s.id) * 10, subscription_id: Number(s.id), price_id: s.variantId * 3, quantity: 1, created_at: lsTime(s.createdAt), updated_at: lsTime(s.updatedAt) },
    urls: {
      update_payment_method: `https://store.lemonsqueezy.com/subscription/${s.id}/payment-details?expires=${s.updatedAt + 86400}&signature=abc`,
      customer_portal: `https://store.lemonsqueezy.com/billing?expires=${s.updatedAt + 86400}&signature=def`,
    },
    renews_at: s.renewsAt == null ? null : lsTime(s.renewsAt),
    ends_at: s.endsAt == null ? null : lsTime(s.endsAt),
    created_at: lsTime(s.createdAt),
    updated_at: lsTime(s.updatedAt),
    test_mode: true,
  },
  relationships: links("subscriptions", s.id, ["store", "customer", "order", "order-item", "product", "variant", "subscription-items", "subscription-invoices"]),
  links: { self: `${API}/subscriptions/${s.id}` },
});

export type OrderInput = {
  readonly id: string;
  readonly variantId: number;
  readonly total: number;
  readonly customerId?: number;
  readonly email?: string;
  readonly currency?: string;
  readonly status?: string;
  readonly refunded?: boolean | null;
  readonly refundedAmount?: number;
  readonly createdAt: number;
  readonly updatedAt?: number;
};

export const order = (o: OrderInput): Resource => ({
  type: "orders",
  id: o.id,
  attributes: {
    store_id: 1,
    customer_id: o.customerId ?? 7,
    identifier: `00000000-0000-4000-8000-${o.id.padStart(12, "0")}`,
    order_number: Number(o.id),
    user_name: "Ada Lovelace",
    user_email: o.email ?? "ada@example.com",
    currency: o.currency ?? "USD",
    currency_rate: "1.00000000",
    subtotal: o.total,
    setup_fee: 0,
    discount_total: 0,
    tax: 0,
    total: o.total,
    refunded_amount: o.refundedAmount ?? 0,
    subtotal_usd: o.total,
    total_usd: o.total,
    refunded_amount_usd: o.refundedAmount ?? 0,
    tax_name: null,
    tax_rate: "0.00",
    tax_inclusive: false,
    status: o.status ?? "paid",
    status_formatted: "Paid",
    refunded: o.refunded ?? false,
    refunded_at: o.refunded ? lsTime(o.updatedAt ?? o.createdAt) : null,
    first_order_item: {
      id: Number(o.id) + 1000,
      order_id: Number(o.id),
      product_id: 500,
      variant_id: o.variantId,
      price_id: o.variantId * 3,
      product_name: "Verity Test Product",
      variant_name: `Variant ${o.variantId}`,
      price: o.total,
      quantity: 1,
      created_at: lsTime(o.createdAt),
      updated_at: lsTime(o.createdAt),
      test_mode: true,
    },
    urls: { receipt: `https://app.lemonsqueezy.com/my-orders/${o.id}?signature=abc` },
    created_at: lsTime(o.createdAt),
    updated_at: lsTime(o.updatedAt ?? o.createdAt),
    test_mode: true,
  },
  relationships: links("orders", o.id, ["store", "customer", "order-items", "subscriptions", "license-keys", "discount-redemptions"]),
  links: { self: `${API}/orders/${o.id}` },
});

export type InvoiceInput = {
  readonly id: string;
  readonly subscriptionId: number;
  readonly total: number;
  readonly customerId?: number;
  readonly billingReason?: "initial" | "renewal" | "updated";
  readonly status?: string;
  readonly refunded?: boolean;
  readonly refundedAmount?: number;
  readonly createdAt: number;
  readonly updatedAt?: number;
};

export const invoice = (i: InvoiceInput): Resource => ({
  type: "subscription-invoices",
  id: i.id,
  attributes: {
    store_id: 1,
    subscription_id: i.subscriptionId,
    customer_id: i.customerId ?? 7,
    user_name: "Ada Lovelace",
    user_email: "ada@example.com",
    billing_reason: i.billingReason ?? "renewal",
    card_brand: "visa",
    card_last_four: "4242",
    currency: "USD",
    currency_rate: "1.00000000",
    status: i.status ?? "paid",
    status_formatted: "Paid",
    refunded: i.refunded ?? false,
    refunded_at: i.refunded ? lsTime(i.updatedAt ?? i.createdAt) : null,
    subtotal: i.total,
    discount_total: 0,
    tax: 0,
    tax_inclusive: false,
    total: i.total,
    refunded_amount: i.refundedAmount ?? 0,
    urls: { invoice_url: `https://app.lemonsqueezy.com/my-orders/x/subscription-invoice/${i.id}` },
    created_at: lsTime(i.createdAt),
    updated_at: lsTime(i.updatedAt ?? i.createdAt),
    test_mode: true,
  },
  relationships: links("subscription-invoices", i.id, ["store", "subscription", "customer"]),
  links: { self: `${API}/subscription-invoices/${i.id}` },
});

/** What ingest would store for a body: its envelope (id, type, time) and the parsed payload. */
export const stored = (body: unknown): StoredEventInput => {
  const payload: unknown = JSON.parse(JSON.stringify(body));
  const envelope = decodeLemonSqueezyEnvelope(payload);
  if (Either.isLeft(envelope)) throw new Error(envelope.left);
  return { ...envelope.right, payload };
};
