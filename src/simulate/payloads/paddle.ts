// Paddle Billing payload builders: notification bodies and entities shaped as Paddle sends them to a
// notification destination (v2 notifications: event_id, event_type, occurred_at with microseconds,
// notification_id, data; amounts as strings of minor units; RFC 3339 timestamps). Builders are
// pure: nothing is random, every value derives from the input.
import { decodePaddleEnvelope } from "../../providers/paddle/envelope.js";
import type { StoredEventInput } from "../../providers/types.js";

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

export type PaddleNotification = {
  readonly event_id?: string;
  readonly event_type: string;
  readonly occurred_at: string;
  readonly notification_id?: string | null;
  readonly data: JsonObject;
};

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/** RFC 3339 as Paddle writes occurred_at: UTC, six fractional digits (`micros` below the millisecond). */
export const isoMicros = (ms: number, micros = 0): string => `${new Date(ms).toISOString().slice(0, -1)}${pad(micros, 3)}Z`;

/** RFC 3339 as Paddle writes most entity timestamps: UTC, six fractional digits. */
export const iso = (ms: number): string => isoMicros(ms, 0);

export const paddleEvent = (input: {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: number;
  /** Microseconds below the millisecond (Paddle's occurred_at has six digits). */
  readonly micros?: number;
  readonly data: JsonObject;
  /** One per destination; the events API omits it. */
  readonly notificationId?: string | null;
}): PaddleNotification => ({
  event_id: input.id,
  event_type: input.type,
  occurred_at: isoMicros(input.occurredAt, input.micros ?? 0),
  notification_id: input.notificationId === undefined ? `ntf_${input.id.replace(/^evt_/, "")}` : input.notificationId,
  data: input.data,
});

/**
 * A notification envelope around a bare `data` member (the shape of the published data-only
 * fixtures), so it can be decoded and normalized like a delivery.
 */
export const wrapData = (input: { readonly id?: string; readonly type: string; readonly occurredAt: string; readonly data: unknown }): unknown => ({
  ...(input.id === undefined ? {} : { event_id: input.id }),
  event_type: input.type,
  occurred_at: input.occurredAt,
  notification_id: null,
  data: input.data,
});

/** The bytes Paddle would POST: compact JSON. */
export const bodyOf = (event: unknown): Buffer => Buffer.from(JSON.stringify(event), "utf8");

/** What ingest stores for a body: the decoded envelope next to the parsed payload. */
export const storedEvent = (payload: unknown): StoredEventInput => {
  const envelope = decodePaddleEnvelope(payload);
  if (envelope._tag === "Left") throw new Error(envelope.left);
  return { ...envelope.right, payload };
};

// ── entities ───────────────────────────────────────────────────────────────────────────────

const priceOf = (priceId: string, recurring: boolean, amount: string): JsonObject => ({
  id: priceId,
  product_id: `pro_${priceId.replace(/^pri_/, "")}`,
  description: recurring ? "Monthly" : "One-time",
  tax_mode: "account_setting",
  billing_cycle: recurring ? { interval: "month", frequency: 1 } : null,
  trial_period: null,
  unit_price: { amount, currency_code: "USD" },
  custom_data: null,
});

export type ScheduledChange = { readonly action: "cancel" | "pause" | "resume"; readonly effectiveAt: number };

export const subscription = (input: {
  readonly id: string;
  readonly customerId: string;
  readonly status: "active" | "trialing" | "past_due" | "paused" | "canceled" | string;
  readonly priceIds: readonly string[];
  /** The current billing period; null while paused or once canceled. */
  readonly period: { readonly start: number; readonly end: number } | null;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly customData?: JsonObject | null;
  readonly scheduledChange?: ScheduledChange | null;
  readonly trial?: { readonly start: number; readonly end: number } | null;
  readonly canceledAt?: number | null;
  readonly pausedAt?: number | null;
  /** Set on subscription.created only: the checkout transaction. */
  readonly transactionId?: string | null;
}): JsonObject => ({
  id: input.id,
  status: input.status,
  customer_id: input.customerId,
  address_id: `add_${input.customerId.replace(/^ctm_/, "")}`,
  business_id: null,
  currency_code: "USD",
  created_at: iso(input.startedAt),
  updated_at: iso(input.updatedAt),
  started_at: iso(input.startedAt),
  first_billed_at: input.trial ? null : iso(input.startedAt),
  next_billed_at: input.period === null ? null : iso(input.period.end),
  paused_at: input.pausedAt == null ? null : iso(input.pausedAt),
  canceled_at: input.canceledAt == null ? null : iso(input.canceledAt),
  discount: null,
  collection_mode: "automatic",
  billing_details: null,
  current_billing_period: input.period === null ? null : { starts_at: iso(input.period.start), ends_at: iso(input.period.end) },
  billing_cycle: { interval: "month", frequency: 1 },
  scheduled_change:
    input.scheduledChange == null ? null : { action: input.scheduledChange.action, effective_at: iso(input.scheduledChange.effectiveAt), resume_at: null },
  items: input.priceIds.map((priceId) => ({
    status: input.status === "paused" ? "inactive" : input.trial ? "trialing" : "active",
    quantity: 1,
    recurring: true,
    created_at: iso(input.startedAt),
    updated_at: iso(input.updatedAt),
    previously_billed_at: input.trial ? null : iso(input.startedAt),
    next_billed_at: input.period === null ? null : iso(input.period.end),
    trial_dates: input.trial ? { starts_at: iso(input.trial.start), ends_at: iso(input.trial.end) } : null,
    price: priceOf(priceId, true, "1900"),
  })),
  custom_data: input.customData ?? null,
  ...(input.transactionId === undefined ? {} : { transaction_id: input.transactionId }),
});

export type LineItem = { readonly priceId: string; readonly amount: number; readonly recurring?: boolean };

export const transaction = (input: {
  readonly id: string;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly status: "draft" | "ready" | "billed" | "paid" | "completed" | "canceled" | "past_due";
  readonly origin: "web" | "api" | "subscription_recurring" | "subscription_update" | "subscription_charge";
  readonly items: readonly LineItem[];
  readonly updatedAt: number;
  readonly customData?: JsonObject | null;
  readonly currencyCode?: string;
  /** Credit applied from the customer's balance: grand_total = total − credit. */
  readonly credit?: number;
  readonly paymentStatus?: "captured" | "error" | null;
}): JsonObject => {
  const total = input.items.reduce((sum, item) => sum + item.amount, 0);
  const credit = input.credit ?? 0;
  const currencyCode = input.currencyCode ?? "USD";
  return {
    id: input.id,
    status: input.status,
    customer_id: input.customerId,
    address_id: input.customerId === null ? null : `add_${input.customerId.replace(/^ctm_/, "")}`,
    business_id: null,
    custom_data: input.customData ?? null,
    currency_code: currencyCode,
    origin: input.origin,
    subscription_id: input.subscriptionId,
    invoice_id: null,
    invoice_number: null,
    collection_mode: "automatic",
    discount_id: null,
    billing_details: null,
    billing_period: null,
    items: input.items.map((item) => ({ price: priceOf(item.priceId, item.recurring ?? true, String(item.amount)), quantity: 1 })),
    details: {
      totals: {
        subtotal: String(total),
        tax: "0",
        discount: "0",
        total: String(total),
        credit: String(credit),
        balance: "0",
        grand_total: String(total - credit),
        fee: null,
        earnings: null,
        currency_code: currencyCode,
      },
      line_items: input.items.map((item, i) => ({
        id: `txnitm_${input.id.replace(/^txn_/, "")}_${i}`,
        price_id: item.priceId,
        quantity: 1,
        totals: { subtotal: String(item.amount), tax: "0", discount: "0", total: String(item.amount) },
      })),
    },
    payments:
      input.paymentStatus == null
        ? []
        : [{ amount: String(total - credit), status: input.paymentStatus, error_code: input.paymentStatus === "error" ? "declined" : null, created_at: iso(input.updatedAt) }],
    checkout: { url: null },
    created_at: iso(input.updatedAt),
    updated_at: iso(input.updatedAt),
    billed_at: input.status === "draft" || input.status === "ready" ? null : iso(input.updatedAt),
  };
};

export const adjustment = (input: {
  readonly id: string;
  readonly transactionId: string;
  readonly customerId: string;
  readonly subscriptionId: string | null;
  readonly status: "pending_approval" | "approved" | "rejected" | "reversed";
  readonly amount: number;
  readonly type: "full" | "partial";
  readonly action?: "refund" | "credit" | "chargeback";
  readonly createdAt: number;
  readonly updatedAt: number | null;
}): JsonObject => ({
  id: input.id,
  action: input.action ?? "refund",
  type: input.type,
  transaction_id: input.transactionId,
  subscription_id: input.subscriptionId,
  customer_id: input.customerId,
  reason: "requested_by_customer",
  credit_applied_to_balance: null,
  currency_code: "USD",
  status: input.status,
  items: [{ id: `adjitm_${input.id.replace(/^adj_/, "")}`, item_id: `txnitm_${input.transactionId.replace(/^txn_/, "")}_0`, type: input.type, amount: String(input.amount), proration: null, totals: { subtotal: String(input.amount), tax: "0", total: String(input.amount) } }],
  totals: { subtotal: String(input.amount), tax: "0", total: String(input.amount), fee: "0", earnings: "0", currency_code: "USD" },
  created_at: iso(input.createdAt),
  // Paddle writes Go's zero time for an adjustment that was never updated.
  updated_at: input.updatedAt === null ? "0001-01-01T00:00:00Z" : iso(input.updatedAt),
});

export const customer = (input: { readonly id: string; readonly email: string; readonly customData?: JsonObject | null; readonly at: number }): JsonObject => ({
  id: input.id,
  name: null,
  email: input.email,
  locale: "en",
  status: "active",
  marketing_consent: false,
  custom_data: input.customData ?? null,
  created_at: iso(input.at),
  updated_at: iso(input.at),
});
