// Paddle adjustments → RefundIssued. A refund is an adjustment with action "refund" on a
// transaction; it starts as pending_approval and only an approved one moved money. Other actions
// (credit, chargeback, chargeback_warning, …) are not refunds and give no facts.
import type { Fact } from "../../domain/facts.js";
import { factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { minorUnits, paymentRef } from "./read.js";
import { currency, field, text, type Json } from "../json.js";

/**
 * The refund amounts this adjustment states (id → amount): approved counts its total; rejected and
 * reversed count 0, so folded after a state that counted it they take it back; pending_approval
 * states nothing yet.
 */
// A computed key is always an own property, so an id such as "__proto__" cannot reach a prototype.
const refundAmounts = (adjustmentId: string, status: unknown, total: number | null): Record<string, number> => {
  if (status === "approved" && total !== null) return { [adjustmentId]: total };
  if (status === "rejected" || status === "reversed") return { [adjustmentId]: 0 };
  return {};
};

/** adjustment.created / adjustment.updated → a refund of the transaction it names, full or partial by amount. */
export const adjustmentFacts = (adjustment: Json | null, ctx: FactContext): Fact[] => {
  const adjustmentId = text(adjustment?.["id"]);
  const transactionId = paymentRef(adjustment?.["transaction_id"]);
  if (adjustment === null || adjustmentId === null || transactionId === null || adjustment["action"] !== "refund") return [];
  const keys = identityKeys({
    customer: text(adjustment["customer_id"]),
    objects: [["subscription", text(adjustment["subscription_id"])], ["payment", transactionId]],
  });
  return [
    {
      ...factBase(ctx, keys),
      _tag: "RefundIssued",
      paymentRefs: [transactionId],
      refunds: refundAmounts(adjustmentId, adjustment["status"], minorUnits(field(adjustment, "totals", "total"))),
      // One adjustment does not state the transaction's cumulative refunded total.
      totalRefunded: null,
      currency: currency(field(adjustment, "totals", "currency_code"), adjustment["currency_code"]),
    },
  ];
};
