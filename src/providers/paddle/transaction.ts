// Paddle transactions → PaymentSucceeded / PaymentFailed. A Paddle transaction is both the checkout
// and the invoice, so every paid one is an order named by its transaction id: the "invoice" key and
// the payment reference adjustments (refunds) name it by.
//
// One-time or subscription is the transaction's own `subscription_id`: null → a one-time purchase,
// set → a subscription payment. The checkout transaction that starts a subscription is paid before
// the subscription exists (transaction.paid carries subscription_id null, transaction.completed
// carries it): both are PaymentSucceeded for the same order, so the later one makes it a
// subscription payment instead of leaving two rows.
import type { Fact, PaymentSucceeded } from "../../domain/facts.js";
import { appUserIdFromCustomData, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { minorUnits, objects, paymentRef } from "./read.js";
import { currency, distinct, field, present, text, type Json } from "../json.js";

type TransactionFields = {
  readonly transactionId: string;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly appUserId: string | null;
  readonly amount: number;
  readonly currency: string;
  readonly keys: string[];
};

/** Price ids of the items (`price.id`, older shapes `price_id`), else of the computed line items. */
export const transactionPriceIds = (transaction: Json): string[] => {
  const fromItems = present(objects(transaction["items"]).map((item) => text(field(item, "price", "id")) ?? text(item["price_id"])));
  const fromLines = present(objects(field(transaction, "details", "line_items")).map((line) => text(line["price_id"])));
  return distinct(fromItems.length > 0 ? fromItems : fromLines);
};

/** What the customer was charged: grand_total (total less credit applied), else total. */
const chargedAmount = (transaction: Json): number | null =>
  minorUnits(field(transaction, "details", "totals", "grand_total")) ?? minorUnits(field(transaction, "details", "totals", "total"));

const transactionFields = (transaction: Json | null, ctx: FactContext): TransactionFields | null => {
  const transactionId = paymentRef(transaction?.["id"]);
  if (transaction === null || transactionId === null) return null;
  const customerId = text(transaction["customer_id"]);
  const subscriptionId = text(transaction["subscription_id"]);
  const appUserId = appUserIdFromCustomData(transaction["custom_data"], ctx.userIdKeys);
  const keys = identityKeys({
    app: appUserId,
    customer: customerId,
    objects: [["subscription", subscriptionId], ["invoice", transactionId], ["payment", transactionId]],
  });
  return {
    transactionId,
    customerId,
    subscriptionId,
    appUserId,
    // An order of unknown amount still records the purchase.
    amount: chargedAmount(transaction) ?? 0,
    currency: currency(transaction["currency_code"], field(transaction, "details", "totals", "currency_code")),
    keys,
  };
};

/** Why it was billed (`origin`), in the canonical words. */
const paymentReason = (origin: unknown, subscriptionId: string | null): PaymentSucceeded["reason"] => {
  if (subscriptionId === null) return "one_time";
  switch (origin) {
    case "web":
      return "subscription_create";
    case "subscription_recurring":
      return "subscription_cycle";
    case "subscription_update":
      return "subscription_update";
    default:
      return "other";
  }
};

/**
 * transaction.paid / transaction.completed → the transaction is a paid order. When custom_data
 * names the app user and the customer is known, a CustomerSeen says so too: a one-time buyer has
 * no subscription event that would reveal it.
 */
export const transactionPaidFacts = (transaction: Json | null, ctx: FactContext): Fact[] => {
  const fields = transactionFields(transaction, ctx);
  if (transaction === null || fields === null) return [];
  const { transactionId, customerId, subscriptionId, appUserId } = fields;
  const customerSeen: Fact[] =
    customerId === null || appUserId === null
      ? []
      : [{ ...factBase(ctx, identityKeys({ app: appUserId, customer: customerId })), _tag: "CustomerSeen", customerId, appUserId, email: null }];
  return [
    ...customerSeen,
    {
      ...factBase(ctx, fields.keys),
      _tag: "PaymentSucceeded",
      paymentId: transactionId,
      customerId,
      subscriptionId,
      reason: paymentReason(transaction["origin"], subscriptionId),
      amount: fields.amount,
      currency: fields.currency,
      priceIds: transactionPriceIds(transaction),
      paymentRefs: [transactionId],
    },
  ];
};

/** transaction.payment_failed → a failed attempt (the subscription's own events carry past_due). */
export const transactionFailedFacts = (transaction: Json | null, ctx: FactContext): Fact[] => {
  const fields = transactionFields(transaction, ctx);
  if (fields === null) return [];
  return [
    {
      ...factBase(ctx, fields.keys),
      _tag: "PaymentFailed",
      paymentId: fields.transactionId,
      customerId: fields.customerId,
      subscriptionId: fields.subscriptionId,
      amount: fields.amount,
      currency: fields.currency,
    },
  ];
};
