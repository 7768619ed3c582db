// Stripe payload builders: realistic event and object JSON as Stripe sends it to a webhook
// endpoint, for the API version the endpoint is pinned to. "legacy" objects follow
// 2024-06-20 (periods on the subscription, charge / payment_intent / subscription on the invoice);
// "basil" objects follow 2025-03-31.basil (periods on subscription items, invoice.parent,
// invoice.payments, line-item pricing). Builders are pure: nested ids are derived from the ids given.
import type { StoredEventInput } from "../../providers/types.js";

export type Shape = "legacy" | "basil";

export const LEGACY_API_VERSION = "2024-06-20";
export const BASIL_API_VERSION = "2025-03-31.basil";

export const apiVersionFor = (shape: Shape): string => (shape === "basil" ? BASIL_API_VERSION : LEGACY_API_VERSION);

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };
export type StripeObject = JsonObject & { readonly id: string; readonly object: string };

export type StripeEvent = {
  readonly id: string;
  readonly object: "event";
  readonly api_version: string;
  readonly created: number;
  readonly data: { readonly object: StripeObject; readonly previous_attributes?: JsonObject };
  readonly livemode: false;
  readonly pending_webhooks: number;
  readonly request: { readonly id: string | null; readonly idempotency_key: string | null };
  readonly type: string;
};

/** A short, stable suffix derived from a seed, so nested ids (items, lines, requests) are reproducible. */
export const tag = (seed: string, length = 14): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // FNV-1a over the whole seed first, so every character depends on all of it.
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
  let out = "";
  for (let i = 0; out.length < length; i++) {
    h = Math.imul(h ^ (h >>> 15) ^ i, 2246822519) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 3266489917) >>> 0;
    out += alphabet[((h ^ (h >>> 16)) >>> 0) % alphabet.length];
  }
  return out;
};

export const stripeEvent = (input: {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly object: StripeObject;
  readonly previousAttributes?: JsonObject;
  readonly apiVersion?: string;
  /** Dashboard / API request that caused the event; null for automatic ones (renewals, ends). */
  readonly requestId?: string | null;
}): StripeEvent => ({
  id: input.id,
  object: "event",
  api_version: input.apiVersion ?? LEGACY_API_VERSION,
  created: input.created,
  data:
    input.previousAttributes === undefined
      ? { object: input.object }
      : { object: input.object, previous_attributes: input.previousAttributes },
  livemode: false,
  pending_webhooks: 1,
  request:
    input.requestId === null
      ? { id: null, idempotency_key: null }
      : { id: input.requestId ?? `req_${tag(input.id)}`, idempotency_key: `${tag(`${input.id}:idem`, 8)}-${tag(`${input.id}:k`, 4)}` },
  type: input.type,
});

// ── objects ────────────────────────────────────────────────────────────────────────────────

export const customer = (input: {
  readonly id: string;
  readonly email?: string | null;
  readonly name?: string | null;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly created?: number;
}): StripeObject => ({
  id: input.id,
  object: "customer",
  address: null,
  balance: 0,
  created: input.created ?? 1_717_200_000,
  currency: null,
  default_source: null,
  delinquent: false,
  description: null,
  discount: null,
  email: input.email ?? null,
  invoice_prefix: tag(input.id, 8).toUpperCase(),
  invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
  livemode: false,
  metadata: input.metadata ?? {},
  name: input.name ?? null,
  next_invoice_sequence: 1,
  phone: null,
  preferred_locales: [],
  shipping: null,
  tax_exempt: "none",
  test_clock: null,
});

export type PriceInput = {
  readonly priceId: string;
  readonly unitAmount?: number;
  readonly currency?: string;
  /** Null for a one-time price. */
  readonly interval?: "month" | "year" | null;
  readonly created?: number;
};

const productOf = (priceId: string): string => `prod_${tag(`product:${priceId}`)}`;

const intervalOf = (p: PriceInput): "month" | "year" | null =>
  p.interval !== undefined ? p.interval : p.priceId.includes("year") ? "year" : "month";

export const price = (p: PriceInput): StripeObject => {
  const interval = intervalOf(p);
  const amount = p.unitAmount ?? 2000;
  return {
    id: p.priceId,
    object: "price",
    active: true,
    billing_scheme: "per_unit",
    created: p.created ?? 1_714_000_000,
    currency: p.currency ?? "usd",
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: productOf(p.priceId),
    recurring:
      interval === null
        ? null
        : { aggregate_usage: null, interval, interval_count: 1, meter: null, trial_period_days: null, usage_type: "licensed" },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: interval === null ? "one_time" : "recurring",
    unit_amount: amount,
    unit_amount_decimal: String(amount),
  };
};

/** The legacy `plan` object that mirrors a recurring price (dropped by basil). */
const plan = (p: PriceInput): StripeObject => {
  const interval = intervalOf(p) ?? "month";
  const amount = p.unitAmount ?? 2000;
  return {
    id: p.priceId,
    object: "plan",
    active: true,
    aggregate_usage: null,
    amount,
    amount_decimal: String(amount),
    billing_scheme: "per_unit",
    created: p.created ?? 1_714_000_000,
    currency: p.currency ?? "usd",
    interval,
    interval_count: 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: null,
    product: productOf(p.priceId),
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
};

export type SubscriptionStatusInput =
  | "incomplete"
  | "incomplete_expired"
  | "trialing"
  | "active"
  | "past_due"
  | "canceled"
  | "unpaid"
  | "paused";

export type SubscriptionInput = {
  readonly id: string;
  readonly customer: string;
  readonly status: SubscriptionStatusInput;
  readonly priceId: string;
  readonly unitAmount?: number;
  readonly currency?: string;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly cancelAtPeriodEnd?: boolean;
  /** `cancel_at`; defaults to the period end when cancelAtPeriodEnd, else null. */
  readonly cancelAt?: number | null;
  readonly canceledAt?: number | null;
  readonly endedAt?: number | null;
  readonly trialStart?: number | null;
  readonly trialEnd?: number | null;
  readonly metadata?: Readonly<Record<string, string>>;
  /** When the subscription was created; defaults to the period start. */
  readonly created?: number;
  readonly latestInvoice?: string | null;
  readonly cancellationReason?: "cancellation_requested" | "payment_failed" | "payment_disputed" | null;
  readonly shape: Shape;
};

export const subscriptionItemId = (subscriptionId: string): string => `si_${tag(`item:${subscriptionId}`)}`;

export const subscription = (input: SubscriptionInput): StripeObject => {
  const created = input.created ?? input.periodStart;
  const priceInput: PriceInput = {
    priceId: input.priceId,
    ...(input.unitAmount === undefined ? {} : { unitAmount: input.unitAmount }),
    ...(input.currency === undefined ? {} : { currency: input.currency }),
  };
  const cancelAtPeriodEnd = input.cancelAtPeriodEnd ?? false;
  const itemId = subscriptionItemId(input.id);
  const item: JsonObject = {
    id: itemId,
    object: "subscription_item",
    billing_thresholds: null,
    created,
    ...(input.shape === "basil" ? { current_period_end: input.periodEnd, current_period_start: input.periodStart } : {}),
    discounts: [],
    metadata: {},
    plan: plan(priceInput),
    price: price(priceInput),
    quantity: 1,
    subscription: input.id,
    tax_rates: [],
  };
  const legacyOnly: JsonObject =
    input.shape === "legacy"
      ? {
          current_period_end: input.periodEnd,
          current_period_start: input.periodStart,
          discount: null,
          plan: plan(priceInput),
          quantity: 1,
        }
      : {};
  const object: JsonObject = {
    id: input.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.trialEnd ?? created,
    billing_cycle_anchor_config: null,
    billing_thresholds: null,
    cancel_at: input.cancelAt !== undefined ? input.cancelAt : cancelAtPeriodEnd ? input.periodEnd : null,
    cancel_at_period_end: cancelAtPeriodEnd,
    canceled_at: input.canceledAt ?? null,
    cancellation_details: {
      comment: null,
      feedback: null,
      reason: input.cancellationReason ?? (input.canceledAt ? "cancellation_requested" : null),
    },
    collection_method: "charge_automatically",
    created,
    currency: input.currency ?? "usd",
    ...legacyOnly,
    customer: input.customer,
    days_until_due: null,
    default_payment_method: `pm_${tag(`pm:${input.customer}`)}`,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: input.endedAt ?? null,
    invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
    items: {
      object: "list",
      data: [item],
      has_more: false,
      total_count: 1,
      url: `/v1/subscription_items?subscription=${input.id}`,
    },
    latest_invoice: input.latestInvoice ?? null,
    livemode: false,
    metadata: input.metadata ?? {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: "off" },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: created,
    status: input.status,
    test_clock: null,
    transfer_data: null,
    trial_end: input.trialEnd ?? null,
    trial_settings: { end_behavior: { missing_payment_method: "create_invoice" } },
    trial_start: input.trialStart ?? null,
  };
  return object as StripeObject;
};

/**
 * What `previous_attributes` says when a subscription's billing period moves on: the top-level
 * fields for legacy versions, the item inside `items` for basil.
 */
export const previousPeriod = (input: {
  readonly subscriptionId: string;
  readonly priceId: string;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly shape: Shape;
  readonly latestInvoice?: string | null;
}): JsonObject => {
  const invoiceField: JsonObject = input.latestInvoice === undefined ? {} : { latest_invoice: input.latestInvoice };
  if (input.shape === "legacy") {
    return { current_period_end: input.periodEnd, current_period_start: input.periodStart, ...invoiceField };
  }
  const item: JsonObject = {
    id: subscriptionItemId(input.subscriptionId),
    object: "subscription_item",
    current_period_end: input.periodEnd,
    current_period_start: input.periodStart,
    price: price({ priceId: input.priceId }),
    quantity: 1,
    subscription: input.subscriptionId,
  };
  return {
    items: { object: "list", data: [item], has_more: false, total_count: 1, url: `/v1/subscription_items?subscription=${input.subscriptionId}` },
    ...invoiceField,
  };
};

/**
 * What `previous_attributes` says when a subscription's price changes (an upgrade or downgrade):
 * the item as it was and, for legacy versions, the top-level `plan` too. Nothing in it is a scalar.
 */
export const previousPrice = (input: {
  readonly subscriptionId: string;
  readonly priceId: string;
  readonly unitAmount?: number;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly shape: Shape;
}): JsonObject => {
  const priceInput: PriceInput = { priceId: input.priceId, ...(input.unitAmount === undefined ? {} : { unitAmount: input.unitAmount }) };
  const item: JsonObject = {
    id: subscriptionItemId(input.subscriptionId),
    object: "subscription_item",
    ...(input.shape === "basil" ? { current_period_end: input.periodEnd, current_period_start: input.periodStart } : {}),
    plan: plan(priceInput),
    price: price(priceInput),
    quantity: 1,
    subscription: input.subscriptionId,
  };
  const items: JsonObject = {
    object: "list",
    data: [item],
    has_more: false,
    total_count: 1,
    url: `/v1/subscription_items?subscription=${input.subscriptionId}`,
  };
  return input.shape === "legacy" ? { items, plan: plan(priceInput) } : { items };
};

export const checkoutSession = (input: {
  readonly id: string;
  readonly mode: "subscription" | "payment" | "setup";
  readonly customer: string | null;
  readonly clientReferenceId?: string | null;
  readonly subscription?: string | null;
  readonly paymentIntent?: string | null;
  readonly invoice?: string | null;
  readonly amountTotal: number;
  readonly currency: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly email?: string | null;
  readonly created?: number;
  readonly paymentStatus?: "paid" | "unpaid" | "no_payment_required";
}): StripeObject => {
  const created = input.created ?? 1_717_200_000;
  return {
    id: input.id,
    object: "checkout.session",
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: input.amountTotal,
    amount_total: input.amountTotal,
    automatic_tax: { enabled: false, liability: null, status: null },
    billing_address_collection: null,
    cancel_url: "https://app.example.com/billing",
    client_reference_id: input.clientReferenceId ?? null,
    client_secret: null,
    consent: null,
    consent_collection: null,
    created,
    currency: input.currency,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: input.customer,
    customer_creation: input.mode === "payment" ? "always" : null,
    customer_details: {
      address: { city: null, country: "US", line1: null, line2: null, postal_code: "94107", state: null },
      email: input.email ?? null,
      name: null,
      phone: null,
      tax_exempt: "none",
      tax_ids: [],
    },
    customer_email: null,
    expires_at: created + 86_400,
    invoice: input.invoice ?? null,
    invoice_creation: input.mode === "payment" ? { enabled: false, invoice_data: null } : null,
    livemode: false,
    locale: null,
    metadata: input.metadata ?? {},
    mode: input.mode,
    payment_intent: input.paymentIntent ?? null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_status: input.paymentStatus ?? "paid",
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_details: null,
    shipping_options: [],
    status: "complete",
    submit_type: null,
    subscription: input.subscription ?? null,
    success_url: "https://app.example.com/billing/success?session_id={CHECKOUT_SESSION_ID}",
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: null,
  };
};

export type BillingReason = "subscription_create" | "subscription_cycle" | "subscription_update" | "manual" | "subscription_threshold";

export const invoice = (input: {
  readonly id: string;
  readonly customer: string;
  readonly subscription: string | null;
  readonly priceId: string;
  readonly amountPaid: number;
  /** What was due; defaults to what was paid (differs for a failed attempt). */
  readonly amountDue?: number;
  readonly billingReason: BillingReason;
  readonly charge?: string | null;
  readonly paymentIntent?: string | null;
  readonly currency?: string;
  readonly periodStart?: number;
  readonly periodEnd?: number;
  readonly created?: number;
  readonly status?: "draft" | "open" | "paid" | "uncollectible" | "void";
  readonly attemptCount?: number;
  readonly email?: string | null;
  /**
   * Basil only: include the `payments` list (invoice_payment objects naming the payment intent).
   * Stripe leaves it out of webhook payloads unless asked for (it is an includable field), so the
   * default is a basil invoice that names no charge or payment intent at all.
   */
  readonly includePayments?: boolean;
  readonly shape: Shape;
}): StripeObject => {
  const created = input.created ?? input.periodStart ?? 1_717_200_000;
  const periodStart = input.periodStart ?? created;
  const periodEnd = input.periodEnd ?? created;
  const currency = input.currency ?? "usd";
  const amountDue = input.amountDue ?? input.amountPaid;
  const status = input.status ?? (input.amountPaid >= amountDue ? "paid" : "open");
  const paid = status === "paid";
  const lineId = `il_${tag(`line:${input.id}`)}`;
  const priceInput: PriceInput = { priceId: input.priceId, unitAmount: amountDue, currency };
  const line: JsonObject =
    input.shape === "legacy"
      ? {
          id: lineId,
          object: "line_item",
          amount: amountDue,
          amount_excluding_tax: amountDue,
          currency,
          description: `1 × Plan (at $${(amountDue / 100).toFixed(2)})`,
          discount_amounts: [],
          discountable: true,
          discounts: [],
          invoice: input.id,
          livemode: false,
          metadata: {},
          period: { end: periodEnd, start: periodStart },
          plan: input.subscription === null ? null : plan(priceInput),
          price: price(input.subscription === null ? { ...priceInput, interval: null } : priceInput),
          proration: false,
          proration_details: { credited_items: null },
          quantity: 1,
          subscription: input.subscription,
          subscription_item: input.subscription === null ? null : subscriptionItemId(input.subscription),
          tax_amounts: [],
          tax_rates: [],
          type: input.subscription === null ? "invoiceitem" : "subscription",
          unit_amount_excluding_tax: String(amountDue),
        }
      : {
          id: lineId,
          object: "line_item",
          amount: amountDue,
          currency,
          description: `1 × Plan (at $${(amountDue / 100).toFixed(2)})`,
          discount_amounts: [],
          discountable: true,
          discounts: [],
          invoice: input.id,
          livemode: false,
          metadata: {},
          parent:
            input.subscription === null
              ? { type: "invoice_item_details", invoice_item_details: { invoice_item: `ii_${tag(lineId)}`, proration: false, proration_details: { credited_items: null }, subscription: null }, subscription_item_details: null }
              : {
                  type: "subscription_item_details",
                  invoice_item_details: null,
                  subscription_item_details: {
                    invoice_item: null,
                    proration: false,
                    proration_details: { credited_items: null },
                    subscription: input.subscription,
                    subscription_item: subscriptionItemId(input.subscription),
                  },
                },
          period: { end: periodEnd, start: periodStart },
          pretax_credit_amounts: [],
          pricing: { price_details: { price: input.priceId, product: productOf(input.priceId) }, type: "price_details", unit_amount_decimal: String(amountDue) },
          quantity: 1,
          taxes: [],
        };
  const common: StripeObject = {
    id: input.id,
    object: "invoice",
    account_country: "US",
    account_name: "Example SaaS",
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: input.amountPaid,
    amount_remaining: Math.max(amountDue - input.amountPaid, 0),
    amount_shipping: 0,
    application: null,
    attempt_count: input.attemptCount ?? 1,
    attempted: true,
    auto_advance: !paid,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, status: null },
    billing_reason: input.billingReason,
    collection_method: "charge_automatically",
    created,
    currency,
    custom_fields: null,
    customer: input.customer,
    customer_address: null,
    customer_email: input.email ?? null,
    customer_name: null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: created,
    ending_balance: 0,
    footer: null,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_test/${tag(input.id, 24)}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_test/${tag(input.id, 24)}/pdf`,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: "list", data: [line], has_more: false, total_count: 1, url: `/v1/invoices/${input.id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: paid ? null : created + 3 * 86_400,
    number: `${tag(input.customer, 8).toUpperCase()}-0001`,
    on_behalf_of: null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: periodEnd,
    period_start: periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status,
    status_transitions: { finalized_at: created, marked_uncollectible_at: null, paid_at: paid ? created : null, voided_at: null },
    subtotal: amountDue,
    subtotal_excluding_tax: amountDue,
    test_clock: null,
    total: amountDue,
    total_discount_amounts: [],
    total_excluding_tax: amountDue,
    total_taxes: [],
    webhooks_delivered_at: created,
  };
  if (input.shape === "legacy") {
    return {
      ...common,
      charge: input.charge ?? null,
      discount: null,
      paid,
      paid_out_of_band: false,
      payment_intent: input.paymentIntent ?? null,
      subscription: input.subscription,
      subscription_details: { metadata: {} },
      tax: null,
    } as StripeObject;
  }
  return {
    ...common,
    parent:
      input.subscription === null
        ? null
        : {
            quote_details: null,
            subscription_details: { metadata: {}, subscription: input.subscription },
            type: "subscription_details",
          },
    ...(input.includePayments === true
      ? {
          payments: {
            object: "list",
            data:
              input.paymentIntent === undefined || input.paymentIntent === null
                ? []
                : [
                    {
                      id: `inpay_${tag(`payment:${input.id}`)}`,
                      object: "invoice_payment",
                      amount_paid: paid ? input.amountPaid : null,
                      amount_requested: amountDue,
                      created,
                      currency,
                      invoice: input.id,
                      is_default: true,
                      livemode: false,
                      payment: { payment_intent: input.paymentIntent, type: "payment_intent" },
                      status: paid ? "paid" : "open",
                      status_transitions: { canceled_at: null, paid_at: paid ? created : null },
                    },
                  ],
            has_more: false,
            total_count: input.paymentIntent ? 1 : 0,
            url: `/v1/invoice_payments`,
          },
        }
      : {}),
  } as StripeObject;
};

export const refund = (input: {
  readonly id: string;
  readonly charge: string;
  readonly paymentIntent: string | null;
  readonly amount: number;
  readonly status: "pending" | "succeeded" | "failed" | "canceled" | "requires_action";
  readonly currency?: string;
  readonly created?: number;
  readonly reason?: "duplicate" | "fraudulent" | "requested_by_customer" | null;
}): StripeObject => ({
  id: input.id,
  object: "refund",
  amount: input.amount,
  balance_transaction: input.status === "succeeded" ? `txn_${tag(`txn:${input.id}`)}` : null,
  charge: input.charge,
  created: input.created ?? 1_717_200_000,
  currency: input.currency ?? "usd",
  destination_details: { card: { reference_status: "pending", reference_type: "acquirer_reference_number", type: "refund" }, type: "card" },
  metadata: {},
  payment_intent: input.paymentIntent,
  reason: input.reason ?? "requested_by_customer",
  receipt_number: null,
  source_transfer_reversal: null,
  status: input.status,
  transfer_reversal: null,
});

export const charge = (input: {
  readonly id: string;
  readonly customer: string | null;
  readonly paymentIntent: string | null;
  readonly amount: number;
  readonly amountRefunded: number;
  /** Included as an expanded list only when given (Stripe stopped including it by default in 2022-11-15). */
  readonly refunds?: readonly StripeObject[];
  readonly currency?: string;
  readonly created?: number;
  readonly invoice?: string | null;
  readonly email?: string | null;
}): StripeObject => ({
  id: input.id,
  object: "charge",
  amount: input.amount,
  amount_captured: input.amount,
  amount_refunded: input.amountRefunded,
  application: null,
  application_fee: null,
  application_fee_amount: null,
  balance_transaction: `txn_${tag(`txn:${input.id}`)}`,
  billing_details: {
    address: { city: null, country: "US", line1: null, line2: null, postal_code: "94107", state: null },
    email: input.email ?? null,
    name: null,
    phone: null,
  },
  calculated_statement_descriptor: "EXAMPLE SAAS",
  captured: true,
  created: input.created ?? 1_717_200_000,
  currency: input.currency ?? "usd",
  customer: input.customer,
  description: null,
  disputed: false,
  failure_balance_transaction: null,
  failure_code: null,
  failure_message: null,
  fraud_details: {},
  ...(input.invoice === undefined ? {} : { invoice: input.invoice }),
  livemode: false,
  metadata: {},
  on_behalf_of: null,
  outcome: {
    network_status: "approved_by_network",
    reason: null,
    risk_level: "normal",
    risk_score: 32,
    seller_message: "Payment complete.",
    type: "authorized",
  },
  paid: true,
  payment_intent: input.paymentIntent,
  payment_method: `pm_${tag(`pm:${input.customer ?? input.id}`)}`,
  payment_method_details: {
    card: { brand: "visa", country: "US", exp_month: 12, exp_year: 2030, funding: "credit", last4: "4242", network: "visa" },
    type: "card",
  },
  receipt_email: input.email ?? null,
  receipt_url: `https://pay.stripe.com/receipts/payment/${tag(input.id, 32)}`,
  refunded: input.amountRefunded >= input.amount,
  ...(input.refunds === undefined
    ? {}
    : {
        refunds: {
          object: "list",
          data: [...input.refunds],
          has_more: false,
          total_count: input.refunds.length,
          url: `/v1/charges/${input.id}/refunds`,
        },
      }),
  review: null,
  shipping: null,
  source_transfer: null,
  statement_descriptor: null,
  statement_descriptor_suffix: null,
  status: "succeeded",
  transfer_data: null,
  transfer_group: null,
});

// ── delivery ───────────────────────────────────────────────────────────────────────────────

/** The request body Stripe posts: the event pretty-printed with two spaces. */
export const toRawBody = (event: StripeEvent): Uint8Array<ArrayBuffer> => new TextEncoder().encode(JSON.stringify(event, null, 2));

/** The event as the store hands it to a normalizer. */
export const asStoredInput = (event: StripeEvent): StoredEventInput => ({
  providerEventId: event.id,
  type: event.type,
  occurredAt: event.created * 1000,
  payload: event,
});
