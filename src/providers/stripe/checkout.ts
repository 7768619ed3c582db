// Stripe customers and Checkout Sessions → CustomerSeen / CheckoutCompleted, and the line items
// Verity fetches for a paid session whose event does not say what was bought → CheckoutItemsFetched.
import type { Fact } from "../../domain/facts.js";
import { objectKey } from "../../domain/identity.js";
import { appUserIdFromMetadata, factBase, identityKeys } from "./context.js";
import type { FactContext } from "../context.js";
import { eventObject, listData } from "./read.js";
import { distinct, field, integer, present, record, ref, text, type Json } from "../json.js";

/** Type of the synthetic event ingest stores with the body of `GET /v1/checkout/sessions/{id}/line_items`. */
export const LINE_ITEMS_EVENT_TYPE = "verity.checkout.line_items";
const LINE_ITEMS_ID_PREFIX = "line_items:";

/** The provider event id of that synthetic event: one per session, so refetches deduplicate. */
export const lineItemsEventId = (checkoutId: string): string => `${LINE_ITEMS_ID_PREFIX}${checkoutId}`;

export const checkoutIdOfLineItemsEvent = (providerEventId: string): string | null =>
  providerEventId.startsWith(LINE_ITEMS_ID_PREFIX) ? text(providerEventId.slice(LINE_ITEMS_ID_PREFIX.length)) : null;

/** customer.created / customer.updated → who the customer is. */
export const customerFacts = (customer: Json | null, ctx: FactContext): Fact[] => {
  const customerId = text(customer?.["id"]);
  if (customer === null || customerId === null) return [];
  const appUserId = appUserIdFromMetadata(customer["metadata"], ctx.userIdKeys);
  const keys = identityKeys({ app: appUserId, customer: customerId });
  return [{ ...factBase(ctx, keys), _tag: "CustomerSeen", customerId, appUserId, email: text(customer["email"]) }];
};

/** Price ids the app put in the session metadata: `price_id`, or a comma-separated `price_ids`. */
const metadataPriceIds = (metadata: unknown): string[] | null => {
  const single = text(field(metadata, "price_id"));
  if (single !== null) return [single.trim()];
  const many = text(field(metadata, "price_ids"));
  const ids = many === null ? [] : distinct(many.split(",").map((id) => id.trim()).filter((id) => id.length > 0));
  return ids.length > 0 ? ids : null;
};

/** Price ids of expanded line items; a truncated list (`has_more`) does not say everything bought. */
const expandedLinePriceIds = (lineItems: unknown): string[] | null => {
  if (!Array.isArray(field(lineItems, "data")) || field(lineItems, "has_more") === true) return null;
  return distinct(present(listData(lineItems).map((item) => ref(field(item, "price")))));
};

/** What a session bought, or null when its payload does not say (webhooks never expand line items). */
export const checkoutPriceIds = (session: Json): readonly string[] | null =>
  metadataPriceIds(session["metadata"]) ?? expandedLinePriceIds(session["line_items"]);

/**
 * The session id to fetch line items for: a completed one-time checkout whose payload does not say
 * what was bought. Subscription checkouts need no fetch (the subscription's events carry prices).
 */
export const checkoutNeedingLineItems = (payload: unknown): string | null => {
  if (field(payload, "type") !== "checkout.session.completed") return null;
  const session = eventObject(payload);
  if (session === null || session["mode"] !== "payment") return null;
  return checkoutPriceIds(session) === null ? text(session["id"]) : null;
};

const isPaid = (paymentStatus: unknown): boolean => paymentStatus === "paid" || paymentStatus === "no_payment_required";

/** checkout.session.completed / async_payment_succeeded → CheckoutCompleted (setup mode buys nothing). */
export const checkoutFacts = (session: Json | null, ctx: FactContext): Fact[] => {
  const checkoutId = text(session?.["id"]);
  const mode = session?.["mode"];
  if (session === null || checkoutId === null || (mode !== "subscription" && mode !== "payment")) return [];
  const customerId = ref(session["customer"]);
  const appUserId = text(session["client_reference_id"]) ?? appUserIdFromMetadata(session["metadata"], ctx.userIdKeys);
  const subscriptionId = ref(session["subscription"]);
  const paymentRefs = present([ref(session["payment_intent"])]);
  const keys = identityKeys({
    app: appUserId,
    customer: customerId,
    objects: [["checkout", checkoutId], ["subscription", subscriptionId], ["invoice", ref(session["invoice"])], ...paymentRefs.map((r) => ["payment", r] as const)],
  });
  return [
    {
      ...factBase(ctx, keys),
      _tag: "CheckoutCompleted",
      checkoutId,
      mode,
      customerId,
      appUserId,
      email: text(field(session, "customer_details", "email")) ?? text(session["customer_email"]),
      subscriptionId,
      priceIds: checkoutPriceIds(session),
      // Stripe documents both as nullable; an order of unknown amount still records the purchase.
      amount: integer(session["amount_total"]) ?? 0,
      currency: text(session["currency"]) ?? "",
      paid: isPaid(session["payment_status"]),
      paymentRefs,
    },
  ];
};

/** verity.checkout.line_items → the price ids of one session (the payload is Stripe's list response). */
export const lineItemsFacts = (providerEventId: string, payload: unknown, ctx: FactContext): Fact[] => {
  const checkoutId = checkoutIdOfLineItemsEvent(providerEventId);
  if (checkoutId === null || record(payload) === null) return [];
  const priceIds = distinct(present(listData(payload).map((item) => ref(field(item, "price")))));
  return [{ ...factBase(ctx, [objectKey("checkout", "stripe", checkoutId)]), _tag: "CheckoutItemsFetched", checkoutId, priceIds }];
};
