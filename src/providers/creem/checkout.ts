// Creem checkout.completed → CheckoutCompleted. The checkout embeds the order it created: a
// one-time order is Verity's order (mode "payment"); a recurring one places no order here, because
// Creem sends subscription.paid for that same first payment (see payments.ts).
import type { CheckoutCompleted, Fact } from "../../domain/facts.js";
import { appUserIdFromAny, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { distinct, field, integer, present, record, ref, text, type Json } from "../json.js";

/**
 * `order.type` says it ("recurring" / "onetime"); without it, a checkout that created a
 * subscription is a subscription checkout and any other a one-time purchase.
 */
const checkoutMode = (checkout: Json, order: Json | null): CheckoutCompleted["mode"] => {
  switch (order?.["type"]) {
    case "recurring":
      return "subscription";
    case "onetime":
    case "one_time":
    case "one-time":
      return "payment";
    default:
      return ref(checkout["subscription"]) === null ? "payment" : "subscription";
  }
};

/** The order and its transaction: the ids a later refund.created or dispute.created names. */
export const orderRefs = (order: Json | null): string[] => present([text(order?.["id"]), ref(order?.["transaction"])]);

/** What the customer paid: `amount_paid` (tax included) when stated, else the order `amount`. */
const orderAmount = (order: Json | null): number => integer(order?.["amount_paid"]) ?? integer(order?.["amount"]) ?? 0;

/** checkout.completed → CheckoutCompleted; nothing for a checkout without an id or anything bought. */
export const checkoutFacts = (checkout: Json | null, ctx: FactContext): Fact[] => {
  const checkoutId = text(checkout?.["id"]);
  const order = record(checkout?.["order"]);
  // Neither an order nor a subscription: the payload does not say that anything was bought.
  if (checkout === null || checkoutId === null || (order === null && ref(checkout["subscription"]) === null)) return [];
  const mode = checkoutMode(checkout, order);
  const customerId = ref(checkout["customer"]) ?? ref(order?.["customer"]);
  const subscriptionId = ref(checkout["subscription"]);
  const appUserId = appUserIdFromAny([checkout["metadata"], field(checkout, "subscription", "metadata")], ctx.userIdKeys);
  const paymentRefs = orderRefs(order);
  const keys = identityKeys({
    app: appUserId,
    customer: customerId,
    objects: [["checkout", checkoutId], ["subscription", subscriptionId], ...paymentRefs.map((r) => ["payment", r] as const)],
  });
  return [
    {
      ...factBase(ctx, keys),
      _tag: "CheckoutCompleted",
      checkoutId,
      mode,
      customerId,
      appUserId,
      email: text(field(checkout, "customer", "email")),
      subscriptionId,
      // The product is the catalog's key for Creem; a checkout buys one.
      priceIds: distinct(present([ref(order?.["product"]), ref(checkout["product"])])),
      amount: orderAmount(order),
      currency: text(order?.["currency"]) ?? text(field(checkout, "product", "currency")) ?? "",
      paid: order?.["status"] === "paid",
      paymentRefs,
    },
  ];
};
