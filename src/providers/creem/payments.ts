// Creem payments and what takes them back → PaymentSucceeded / PaymentFailed / RefundIssued.
// A subscription payment is known by its transaction (`tran_…`); a one-time purchase by its order
// (`ord_…`, see checkout.ts). Refunds and disputes embed the transaction, which names its order, so
// they carry both ids and find either kind of order.
import type { Fact, PaymentSucceeded } from "../../domain/facts.js";
import { appUserIdFromAny, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { instant } from "./read.js";
import { distinct, field, integer, present, record, ref, text, type Json } from "../json.js";
import { currentPeriod, subscriptionParts, subscriptionProductIds } from "./subscription.js";

/**
 * The first payment's period starts when the subscription is created (a few seconds before it, in
 * Creem's sample); a renewal's starts later. Unknown when either time is missing.
 */
const paymentReason = (subscription: Json): PaymentSucceeded["reason"] => {
  const start = currentPeriod(subscription).start;
  const created = instant(subscription["created_at"]);
  if (start === null || created === null) return "other";
  return start <= created ? "subscription_create" : "subscription_cycle";
};

/** The product's list price (before tax when its tax_mode is exclusive): a subscription object states no charged amount. */
const listPrice = (subscription: Json) => ({
  amount: integer(field(subscription, "product", "price")) ?? 0,
  currency: text(field(subscription, "product", "currency")) ?? "",
});

/**
 * subscription.paid → the transaction it names (`last_transaction_id`) is a paid order. Without
 * that id there is no payment to name, and the subscription's own fact still carries the access.
 */
export const subscriptionPaidFacts = (subscription: Json | null, ctx: FactContext): Fact[] => {
  const parts = subscriptionParts(subscription, ctx);
  const transactionId = text(subscription?.["last_transaction_id"]);
  if (subscription === null || parts === null || transactionId === null) return [];
  const keys = identityKeys({
    app: parts.appUserId,
    customer: parts.customerId,
    objects: [["subscription", parts.subscriptionId], ["invoice", transactionId], ["payment", transactionId]],
  });
  return [
    {
      ...factBase(ctx, keys),
      _tag: "PaymentSucceeded",
      paymentId: transactionId,
      customerId: parts.customerId,
      subscriptionId: parts.subscriptionId,
      reason: paymentReason(subscription),
      ...listPrice(subscription),
      priceIds: subscriptionProductIds(subscription),
      paymentRefs: [transactionId],
    },
  ];
};

/**
 * subscription.past_due → the renewal due at the current period's end failed. Creem names no
 * transaction for a failed attempt, so the payment is named after that renewal:
 * `<subscription id>@<period end, ISO-8601>` (stable for every redelivery).
 */
export const subscriptionPastDueFacts = (subscription: Json | null, ctx: FactContext): Fact[] => {
  const parts = subscriptionParts(subscription, ctx);
  const periodEnd = subscription === null ? null : currentPeriod(subscription).end;
  if (subscription === null || parts === null || periodEnd === null) return [];
  return [
    {
      ...factBase(ctx, parts.keys),
      _tag: "PaymentFailed",
      paymentId: `${parts.subscriptionId}@${new Date(periodEnd).toISOString()}`,
      customerId: parts.customerId,
      subscriptionId: parts.subscriptionId,
      ...listPrice(subscription),
    },
  ];
};

/** The transaction and the order a refund or dispute is about: the refs its order carries. */
const takenBackRefs = (object: Json): string[] =>
  distinct(present([ref(object["transaction"]), ref(field(object, "transaction", "order")), ref(object["order"])]));

/** The keys of a refund or dispute: whoever paid, the subscription and checkout it came from, its payment. */
const takenBackKeys = (object: Json, paymentRefs: readonly string[], ctx: FactContext): string[] => {
  const transaction = record(object["transaction"]);
  return identityKeys({
    app: appUserIdFromAny([field(object, "checkout", "metadata"), field(object, "subscription", "metadata")], ctx.userIdKeys),
    customer: ref(object["customer"]) ?? ref(transaction?.["customer"]) ?? ref(field(object, "order", "customer")),
    objects: [
      ["checkout", ref(object["checkout"])],
      ["subscription", ref(object["subscription"]) ?? ref(transaction?.["subscription"])],
      ...paymentRefs.map((r) => ["payment", r] as const),
    ],
  });
};

/**
 * Money gone back, or about to: a refund counts while "succeeded" or "pending" (or when it states no
 * status: the event says it was created); "failed" and "canceled" ones gave nothing back and are
 * recorded as 0, so that folded after a pending state they undo its amount.
 */
const refundAmount = (status: unknown, amount: number): number | null => {
  if (status === undefined || status === null || status === "succeeded" || status === "pending") return amount;
  return status === "failed" || status === "canceled" ? 0 : null;
};

type TakenBack = { readonly id: string | null; readonly amount: number | null; readonly status: unknown; readonly currency: string | null };

const takenBackFacts = (object: Json | null, read: (object: Json) => TakenBack, ctx: FactContext): Fact[] => {
  const paymentRefs = object === null ? [] : takenBackRefs(object);
  if (object === null || paymentRefs.length === 0) return [];
  const { id, amount, status, currency } = read(object);
  const counted = id === null || amount === null ? null : refundAmount(status, amount);
  return [
    {
      ...factBase(ctx, takenBackKeys(object, paymentRefs, ctx)),
      _tag: "RefundIssued",
      paymentRefs,
      // Object.fromEntries: an untrusted id such as "__proto__" cannot reach a prototype.
      refunds: Object.fromEntries(id === null || counted === null ? [] : [[id, counted]]),
      // The transaction's cumulative refunded amount, as of this event.
      totalRefunded: integer(field(object, "transaction", "refunded_amount")),
      currency: currency ?? text(field(object, "transaction", "currency")) ?? "",
    },
  ];
};

/** refund.created → one refund of a transaction; full or partial follows from the amounts. */
export const refundFacts = (refund: Json | null, ctx: FactContext): Fact[] =>
  takenBackFacts(
    refund,
    (r) => ({ id: text(r["id"]), amount: integer(r["refund_amount"]), status: r["status"], currency: text(r["refund_currency"]) }),
    ctx,
  );

/**
 * dispute.created → a chargeback: the disputed amount is taken back from the merchant at once, so
 * it counts as refunded and a disputed lifetime order grants nothing. Creem documents no event for a
 * dispute the merchant wins, so nothing gives it back (an operator would see it in the dashboard).
 */
export const disputeFacts = (dispute: Json | null, ctx: FactContext): Fact[] =>
  takenBackFacts(dispute, (d) => ({ id: text(d["id"]), amount: integer(d["amount"]), status: undefined, currency: text(d["currency"]) }), ctx);
