// Paddle customers → CustomerSeen: who the customer is, and the app's user id when its custom_data names one.
import type { Fact } from "../../domain/facts.js";
import { appUserIdFromCustomData, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { text, type Json } from "../json.js";

/** customer.created / customer.updated / customer.imported. */
export const customerFacts = (customer: Json | null, ctx: FactContext): Fact[] => {
  const customerId = text(customer?.["id"]);
  if (customer === null || customerId === null) return [];
  const appUserId = appUserIdFromCustomData(customer["custom_data"], ctx.userIdKeys);
  const keys = identityKeys({ app: appUserId, customer: customerId });
  return [{ ...factBase(ctx, keys), _tag: "CustomerSeen", customerId, appUserId, email: text(customer["email"]) }];
};
