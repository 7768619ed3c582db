// Stripe invoices, charges and refunds → PaymentSucceeded / PaymentFailed / RefundIssued.
// Reads both invoice shapes: top-level `subscription` / line `price` (before 2025-03-31.basil) and
// `parent.subscription_details.subscription` / line `pricing.price_details.price` (basil on).
import type { Fact, PaymentSucceeded } from "../../domain/facts.js";
import { factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { listData } from "./read.js";
import { distinct, field, integer, present, ref, text, type Json } from "../json.js";

const invoiceSubscriptionId = (invoice: Json): string | null =>
  ref(invoice["subscription"]) ?? ref(field(invoice, "parent", "subscription_details", "subscription"));

const invoicePriceIds = (invoice: Json): string[] =>
  distinct(present(listData(invoice["lines"]).map((line) => ref(field(line, "price")) ?? text(field(line, "pricing", "price_details", "price")))));

/** Charge and payment-intent ids: the names by which later refunds find this payment. */
const chargeRefs = (object: Json): string[] => present([ref(object["charge"]), ref(object["payment_intent"])]);

/** An invoice_payment's payment: a payment intent or a charge (Stripe API 2025-03-31 on). */
const invoicePaymentRefs = (invoicePayment: unknown): string[] =>
  present([ref(field(invoicePayment, "payment", "payment_intent")), ref(field(invoicePayment, "payment", "charge"))]);

/** Basil invoices name their payments only in an (expandable) `payments` list, when included. */
const invoiceRefs = (invoice: Json): string[] =>
  distinct([...chargeRefs(invoice), ...listData(invoice["payments"]).flatMap(invoicePaymentRefs)]);

const paymentReason = (billingReason: unknown, subscriptionId: string | null): PaymentSucceeded["reason"] => {
  if (subscriptionId === null) return "one_time";
  switch (billingReason) {
    case "subscription_create":
    case "subscription_cycle":
    case "subscription_update":
      return billingReason;
    default:
      return "other";
  }
};

type InvoiceFields = {
  readonly invoiceId: string;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly paymentRefs: string[];
  readonly currency: string;
  readonly keys: string[];
};

const invoiceFields = (invoice: Json | null): InvoiceFields | null => {
  const invoiceId = text(invoice?.["id"]);
  if (invoice === null || invoiceId === null) return null;
  const customerId = ref(invoice["customer"]);
  const subscriptionId = invoiceSubscriptionId(invoice);
  const paymentRefs = invoiceRefs(invoice);
  const keys = identityKeys({
    customer: customerId,
    objects: [["subscription", subscriptionId], ["invoice", invoiceId], ...paymentRefs.map((r) => ["payment", r] as const)],
  });
  return { invoiceId, customerId, subscriptionId, paymentRefs, currency: text(invoice["currency"]) ?? "", keys };
};

/** invoice.paid / invoice.payment_succeeded → the invoice is a paid order. */
export const invoicePaidFacts = (invoice: Json | null, ctx: FactContext): Fact[] => {
  const fields = invoiceFields(invoice);
  if (invoice === null || fields === null) return [];
  return [
    {
      ...factBase(ctx, fields.keys),
      _tag: "PaymentSucceeded",
      paymentId: fields.invoiceId,
      customerId: fields.customerId,
      subscriptionId: fields.subscriptionId,
      reason: paymentReason(invoice["billing_reason"], fields.subscriptionId),
      amount: integer(invoice["amount_paid"]) ?? 0,
      currency: fields.currency,
      priceIds: invoicePriceIds(invoice),
      paymentRefs: fields.paymentRefs,
    },
  ];
};

/** invoice.payment_failed → a failed attempt (the subscription's own events carry past_due). */
export const invoiceFailedFacts = (invoice: Json | null, ctx: FactContext): Fact[] => {
  const fields = invoiceFields(invoice);
  if (invoice === null || fields === null) return [];
  return [
    {
      ...factBase(ctx, fields.keys),
      _tag: "PaymentFailed",
      paymentId: fields.invoiceId,
      customerId: fields.customerId,
      subscriptionId: fields.subscriptionId,
      amount: integer(invoice["amount_due"]) ?? 0,
      currency: fields.currency,
    },
  ];
};

/**
 * Money moved back, or is about to: "pending" counts because Stripe has accepted the refund, while
 * "failed", "canceled" and "requires_action" never (or not yet) returned anything.
 */
const countsAsRefunded = (status: unknown): boolean => status === "succeeded" || status === "pending";
// A refund that failed or was canceled gave nothing back: recorded as 0 so that, folded after the
// pending state it left, it undoes that state's amount.
const reversesRefund = (status: unknown): boolean => status === "failed" || status === "canceled";

/** id → amount for the refunds that count. Object.fromEntries: untrusted ids cannot reach a prototype. */
const refundAmounts = (refunds: readonly unknown[]): Record<string, number> =>
  Object.fromEntries(
    present(
      refunds.map((refund) => {
        const id = text(field(refund, "id"));
        const amount = integer(field(refund, "amount"));
        const status = field(refund, "status");
        if (id === null || amount === null) return null;
        return countsAsRefunded(status) ? ([id, amount] as const) : reversesRefund(status) ? ([id, 0] as const) : null;
      }),
    ),
  );

/**
 * charge.refunded → the charge's refunds. Old API versions embed `refunds` (a list); newer ones
 * omit it, so `amount_refunded` (the cumulative total) is what always says how much went back.
 */
export const chargeRefundedFacts = (charge: Json | null, ctx: FactContext): Fact[] => {
  const paymentRefs = charge === null ? [] : present([text(charge["id"]), ref(charge["payment_intent"])]);
  if (charge === null || paymentRefs.length === 0) return [];
  const keys = identityKeys({ customer: ref(charge["customer"]), objects: paymentRefs.map((r) => ["payment", r] as const) });
  return [
    {
      ...factBase(ctx, keys),
      _tag: "RefundIssued",
      paymentRefs,
      refunds: refundAmounts(listData(charge["refunds"])),
      totalRefunded: integer(charge["amount_refunded"]),
      currency: text(charge["currency"]) ?? "",
    },
  ];
};

/** refund.created / refund.updated / charge.refund.updated → one refund of a charge. */
export const refundObjectFacts = (refund: Json | null, ctx: FactContext): Fact[] => {
  const paymentRefs = refund === null ? [] : chargeRefs(refund);
  if (refund === null || paymentRefs.length === 0) return [];
  const keys = identityKeys({ objects: paymentRefs.map((r) => ["payment", r] as const) });
  return [
    {
      ...factBase(ctx, keys),
      _tag: "RefundIssued",
      paymentRefs,
      refunds: refundAmounts([refund]),
      // A single refund does not state the charge's cumulative total.
      totalRefunded: null,
      currency: text(refund["currency"]) ?? "",
    },
  ];
};

/** invoice_payment.paid → the invoice's payment intent or charge, so refunds find the invoice. */
export const invoicePaymentFacts = (invoicePayment: Json | null, ctx: FactContext): Fact[] => {
  const invoiceId = invoicePayment === null ? null : ref(invoicePayment["invoice"]);
  const paymentRefs = invoicePaymentRefs(invoicePayment);
  if (invoiceId === null || paymentRefs.length === 0) return [];
  const keys = identityKeys({ objects: [["invoice", invoiceId], ...paymentRefs.map((r) => ["payment", r] as const)] });
  return [{ ...factBase(ctx, keys), _tag: "PaymentLinked", paymentId: invoiceId, paymentRefs }];
};
