// Creem payload builders: event and object JSON shaped like Creem's published webhook samples
// (docs.creem.io/code/webhooks): a camelCase `eventType`, `created_at` in epoch milliseconds on the
// envelope and on transactions, ISO-8601 strings on every other object. Builders are pure.
import { Either } from "effect";
import { decodeCreemEnvelope } from "../../providers/creem/envelope.js";
import type { StoredEventInput } from "../../providers/types.js";

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

export type CreemEvent = {
  readonly id: string;
  readonly eventType: string;
  readonly created_at: number;
  readonly object: JsonObject;
};

const DAY = 86_400_000;
export const iso = (ms: number): string => new Date(ms).toISOString();
export const addDays = (ms: number, days: number): number => ms + days * DAY;

export const creemEvent = (input: { readonly id: string; readonly type: string; readonly createdAt: number; readonly object: JsonObject }): CreemEvent => ({
  id: input.id,
  eventType: input.type,
  created_at: input.createdAt,
  object: input.object,
});

/** The bytes Creem would POST: pretty JSON, as in its docs. */
export const bodyOf = (event: unknown): Buffer => Buffer.from(JSON.stringify(event, null, 2), "utf8");

/** What ingest stores for a delivery, through the real envelope decoder. */
export const storedEvent = (event: unknown): StoredEventInput => {
  const envelope = decodeCreemEnvelope(event);
  if (Either.isLeft(envelope)) throw new Error(envelope.left);
  return { ...envelope.right, payload: event };
};

// ── objects ────────────────────────────────────────────────────────────────────────────────

export const product = (input: { readonly id: string; readonly price?: number; readonly currency?: string; readonly billingType?: "recurring" | "onetime" }): JsonObject => ({
  id: input.id,
  object: "product",
  name: input.id,
  description: input.id,
  price: input.price ?? 1900,
  currency: input.currency ?? "EUR",
  billing_type: input.billingType ?? "recurring",
  billing_period: input.billingType === "onetime" ? "once" : "every-month",
  status: "active",
  tax_mode: "exclusive",
  tax_category: "saas",
  default_success_url: "",
  created_at: "2025-01-01T00:00:00.000Z",
  updated_at: "2025-01-01T00:00:00.000Z",
  mode: "test",
});

export const customer = (input: { readonly id: string; readonly email?: string }): JsonObject => ({
  id: input.id,
  object: "customer",
  email: input.email ?? `${input.id}@example.com`,
  name: "Test Customer",
  country: "NL",
  created_at: "2025-01-01T00:00:00.000Z",
  updated_at: "2025-01-01T00:00:00.000Z",
  mode: "test",
});

export type SubscriptionInput = {
  readonly id: string;
  readonly customerId: string;
  readonly productId: string;
  readonly price?: number;
  readonly status: string;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly createdAt?: number;
  readonly updatedAt?: number;
  readonly canceledAt?: number | null;
  readonly lastTransactionId?: string | null;
  readonly metadata?: JsonObject;
  /** Product ids of the subscription items (default: the product). */
  readonly itemProductIds?: readonly string[];
};

export const subscription = (input: SubscriptionInput): JsonObject => {
  const createdAt = input.createdAt ?? input.periodStart + 5_000;
  const base: Record<string, Json> = {
    id: input.id,
    object: "subscription",
    product: product({ id: input.productId, ...(input.price === undefined ? {} : { price: input.price }) }),
    customer: customer({ id: input.customerId }),
    items: (input.itemProductIds ?? [input.productId]).map((productId, i) => ({
      object: "subscription_item",
      id: `sitem_${input.id}_${i}`,
      product_id: productId,
      price_id: `pprice_${productId}`,
      units: 1,
      created_at: iso(createdAt),
      updated_at: iso(createdAt),
      mode: "test",
    })),
    collection_method: "charge_automatically",
    status: input.status,
    current_period_start_date: iso(input.periodStart),
    current_period_end_date: iso(input.periodEnd),
    canceled_at: input.canceledAt === undefined || input.canceledAt === null ? null : iso(input.canceledAt),
    created_at: iso(createdAt),
    updated_at: iso(input.updatedAt ?? createdAt),
    mode: "test",
  };
  if (input.lastTransactionId) {
    base["last_transaction_id"] = input.lastTransactionId;
    base["last_transaction_date"] = iso(input.periodStart + 9_000);
  }
  if (input.metadata !== undefined) base["metadata"] = input.metadata;
  return base;
};

export type CheckoutInput = {
  readonly id: string;
  readonly orderId: string;
  readonly customerId: string;
  readonly productId: string;
  readonly type: "recurring" | "onetime";
  readonly amount: number;
  /** Newer shapes state the paid amount (tax included) and the order's transaction. */
  readonly amountPaid?: number;
  readonly transactionId?: string;
  readonly currency?: string;
  readonly orderStatus?: string;
  readonly subscriptionId?: string;
  readonly metadata?: JsonObject;
  readonly email?: string;
};

export const checkout = (input: CheckoutInput): JsonObject => {
  const order: Record<string, Json> = {
    id: input.orderId,
    customer: input.customerId,
    product: input.productId,
    amount: input.amount,
    currency: input.currency ?? "EUR",
    status: input.orderStatus ?? "paid",
    type: input.type,
    created_at: "2025-01-01T00:00:00.000Z",
    updated_at: "2025-01-01T00:00:00.000Z",
    mode: "test",
  };
  if (input.amountPaid !== undefined) order["amount_paid"] = input.amountPaid;
  if (input.transactionId !== undefined) order["transaction"] = input.transactionId;
  const body: Record<string, Json> = {
    id: input.id,
    object: "checkout",
    request_id: `req_${input.id}`,
    order,
    product: product({ id: input.productId, price: input.amount, billingType: input.type }),
    customer: customer({ id: input.customerId, ...(input.email === undefined ? {} : { email: input.email }) }),
    custom_fields: [],
    status: "completed",
    mode: "test",
  };
  if (input.subscriptionId !== undefined) {
    body["subscription"] = {
      id: input.subscriptionId,
      object: "subscription",
      product: input.productId,
      customer: input.customerId,
      status: "active",
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    };
  }
  if (input.metadata !== undefined) body["metadata"] = input.metadata;
  return body;
};

export type TransactionInput = {
  readonly id: string;
  readonly orderId: string;
  readonly customerId: string;
  readonly amountPaid: number;
  /** The transaction's cumulative refunded amount after this refund / dispute. */
  readonly refundedTotal: number;
  readonly subscriptionId?: string | null;
  readonly currency?: string;
  readonly status?: string;
};

const transaction = (input: TransactionInput): JsonObject => ({
  id: input.id,
  object: "transaction",
  amount: input.amountPaid,
  amount_paid: input.amountPaid,
  currency: input.currency ?? "EUR",
  type: "invoice",
  tax_amount: 0,
  status: input.status ?? (input.refundedTotal >= input.amountPaid ? "refunded" : "partially_refunded"),
  refunded_amount: input.refundedTotal,
  order: input.orderId,
  subscription: input.subscriptionId ?? null,
  customer: input.customerId,
  description: input.subscriptionId ? "Subscription payment" : "Payment",
  created_at: 1_700_000_000_000,
  mode: "test",
});

type TakenBackInput = {
  readonly id: string;
  readonly amount: number;
  readonly transaction: TransactionInput;
  readonly checkoutId?: string;
  readonly metadata?: JsonObject;
};

const takenBackContext = (input: TakenBackInput): Record<string, Json> => ({
  transaction: transaction(input.transaction),
  ...(input.transaction.subscriptionId
    ? { subscription: { id: input.transaction.subscriptionId, object: "subscription", customer: input.transaction.customerId, status: "active", ...(input.metadata ? { metadata: input.metadata } : {}) } }
    : {}),
  ...(input.checkoutId ? { checkout: { id: input.checkoutId, object: "checkout", status: "completed", ...(input.metadata ? { metadata: input.metadata } : {}) } } : {}),
  order: { id: input.transaction.orderId, customer: input.transaction.customerId, status: "paid", mode: "test" },
  customer: customer({ id: input.transaction.customerId }),
  created_at: 1_700_000_000_000,
  mode: "test",
});

export const refund = (input: TakenBackInput & { readonly status?: string }): JsonObject => ({
  id: input.id,
  object: "refund",
  status: input.status ?? "succeeded",
  refund_amount: input.amount,
  refund_currency: input.transaction.currency ?? "EUR",
  reason: "requested_by_customer",
  ...takenBackContext(input),
});

export const dispute = (input: TakenBackInput): JsonObject => ({
  id: input.id,
  object: "dispute",
  amount: input.amount,
  currency: input.transaction.currency ?? "EUR",
  ...takenBackContext({ ...input, transaction: { ...input.transaction, status: "chargeback" } }),
});
