// Lemon Squeezy orders and subscription invoices → CheckoutCompleted / PaymentSucceeded /
// PaymentFailed / RefundIssued. Amounts are cents in the order's currency (`total`,
// `refunded_amount`); the `*_usd` and `*_formatted` copies are never read (published samples carry
// hand-edited values there, e.g. `refunded_amount_usd: 9.999` beside `refunded_amount: 999`).
//
// Every Lemon Squeezy order is a Verity order (`orders/<id>`), and so is every subscription invoice
// (`subscription-invoices/<id>`). The first payment of a subscription is both at Lemon Squeezy (an
// order and an invoice with billing_reason "initial"), and an order's body does not say whether it
// started a subscription, so that payment appears as both: a one-time order (whose non-lifetime
// plan grants nothing) and the subscription's first invoice.
import type { Fact, PaymentSucceeded } from "../../domain/facts.js";
import type { IdentityKey } from "../../domain/identity.js";
import { factBase, identityKeys, invoiceRef, orderRef, type FactContext } from "./context.js";
import { currencyOf, idText, type Resource } from "./read.js";
import { field, integer, text, type Json } from "../json.js";

// Order statuses whose money was taken (a refund does not undo that it was paid; the ledger says how much went back).
const PAID_ORDER = new Set(["paid", "refunded", "partial_refund"]);

/**
 * The cumulative refunded amount the object states: `refunded_amount`, else the whole total when it
 * says it is refunded without an amount (older bodies), else null (it does not say).
 */
const refundedTotal = (attributes: Json): number | null => {
  const stated = integer(attributes["refunded_amount"]);
  if (stated !== null) return stated;
  return attributes["refunded"] === true || attributes["status"] === "refunded" ? integer(attributes["total"]) : null;
};

/**
 * A refund fact for `ref`: on a *_refunded event whenever the amount is stated, on other events
 * only when something was refunded already (a body replayed after its refund). Lemon Squeezy states
 * the cumulative total, never individual refunds, so `refunds` stays empty and the total decides:
 * below the order amount it is a partial refund, at it a full one.
 */
const refundFacts = (attributes: Json, ref: string, keys: readonly IdentityKey[], isRefundEvent: boolean, ctx: FactContext): Fact[] => {
  const total = refundedTotal(attributes);
  if (total === null || (!isRefundEvent && total <= 0)) return [];
  return [{ ...factBase(ctx, keys), _tag: "RefundIssued", paymentRefs: [ref], refunds: {}, totalRefunded: total, currency: currencyOf(attributes) }];
};

// ── orders ──────────────────────────────────────────────────────────────────────────────────

const orderKeys = (orderId: string, attributes: Json, ctx: FactContext): IdentityKey[] =>
  identityKeys({
    app: ctx.appUserId,
    customer: idText(attributes["customer_id"]),
    objects: [["checkout", orderRef(orderId)], ["payment", orderRef(orderId)]],
  });

/** What was bought: the variant of the order's (single) item; null when the body does not say. */
const orderPriceIds = (attributes: Json): string[] | null => {
  const variant = idText(field(attributes, "first_order_item", "variant_id"));
  return variant === null ? null : [variant];
};

/** order_created → the order (one-time purchase, or the first order of a subscription). */
export const orderCreatedFacts = (resource: Resource, ctx: FactContext): Fact[] => {
  if (resource.type !== "orders") return [];
  const { id, attributes } = resource;
  const ref = orderRef(id);
  const keys = orderKeys(id, attributes, ctx);
  const order: Fact = {
    ...factBase(ctx, keys),
    _tag: "CheckoutCompleted",
    checkoutId: ref,
    mode: "payment",
    customerId: idText(attributes["customer_id"]),
    appUserId: ctx.appUserId,
    email: text(attributes["user_email"]),
    subscriptionId: null,
    priceIds: orderPriceIds(attributes),
    amount: integer(attributes["total"]) ?? 0,
    currency: currencyOf(attributes),
    paid: PAID_ORDER.has(text(attributes["status"]) ?? ""),
    paymentRefs: [ref],
  };
  return [order, ...refundFacts(attributes, ref, keys, false, ctx)];
};

/** order_refunded → the order's cumulative refund (full or partial). */
export const orderRefundedFacts = (resource: Resource, ctx: FactContext): Fact[] =>
  resource.type !== "orders" ? [] : refundFacts(resource.attributes, orderRef(resource.id), orderKeys(resource.id, resource.attributes, ctx), true, ctx);

// ── subscription invoices ───────────────────────────────────────────────────────────────────

type InvoiceFields = {
  readonly ref: string;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly keys: IdentityKey[];
};

const invoiceFields = (resource: Resource, ctx: FactContext): InvoiceFields | null => {
  if (resource.type !== "subscription-invoices") return null;
  const ref = invoiceRef(resource.id);
  const customerId = idText(resource.attributes["customer_id"]);
  const subscriptionId = idText(resource.attributes["subscription_id"]);
  const keys = identityKeys({
    app: ctx.appUserId,
    customer: customerId,
    objects: [["subscription", subscriptionId], ["invoice", ref], ["payment", ref]],
  });
  return { ref, customerId, subscriptionId, keys };
};

const paymentReason = (billingReason: unknown, subscriptionId: string | null): PaymentSucceeded["reason"] => {
  if (subscriptionId === null) return "one_time";
  switch (billingReason) {
    case "initial":
      return "subscription_create";
    case "renewal":
      return "subscription_cycle";
    case "updated":
      return "subscription_update";
    default:
      return "other";
  }
};

/**
 * subscription_payment_success / subscription_payment_recovered (sent together about one invoice)
 * → the invoice is a paid order. An invoice does not name its variant: the subscription's own
 * events carry the plan, so the order's price ids stay empty.
 */
export const invoicePaidFacts = (resource: Resource, ctx: FactContext): Fact[] => {
  const fields = invoiceFields(resource, ctx);
  if (fields === null) return [];
  const { attributes } = resource;
  const paid: Fact = {
    ...factBase(ctx, fields.keys),
    _tag: "PaymentSucceeded",
    paymentId: fields.ref,
    customerId: fields.customerId,
    subscriptionId: fields.subscriptionId,
    reason: paymentReason(attributes["billing_reason"], fields.subscriptionId),
    amount: integer(attributes["total"]) ?? 0,
    currency: currencyOf(attributes),
    priceIds: [],
    paymentRefs: [fields.ref],
  };
  return [paid, ...refundFacts(attributes, fields.ref, fields.keys, false, ctx)];
};

/** subscription_payment_failed → a failed attempt (the subscription's own events carry past_due). */
export const invoiceFailedFacts = (resource: Resource, ctx: FactContext): Fact[] => {
  const fields = invoiceFields(resource, ctx);
  if (fields === null) return [];
  return [
    {
      ...factBase(ctx, fields.keys),
      _tag: "PaymentFailed",
      paymentId: fields.ref,
      customerId: fields.customerId,
      subscriptionId: fields.subscriptionId,
      amount: integer(resource.attributes["total"]) ?? 0,
      currency: currencyOf(resource.attributes),
    },
  ];
};

/** subscription_payment_refunded → the invoice's cumulative refund (full or partial). */
export const invoiceRefundedFacts = (resource: Resource, ctx: FactContext): Fact[] => {
  const fields = invoiceFields(resource, ctx);
  return fields === null ? [] : refundFacts(resource.attributes, fields.ref, fields.keys, true, ctx);
};

