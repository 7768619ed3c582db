// What every Lemon Squeezy fact builder shares: the provider-neutral helpers of ../context.ts bound
// to Lemon Squeezy, the app's user id from `meta.custom_data` (read once per event: every resource
// of the event shares it), and the ids Verity gives Lemon Squeezy's orders and invoices.
import { appUserIdIn, factKit, type FactContext as ProviderFactContext } from "../context.js";
import type { NormalizeOptions, StoredEventInput } from "../types.js";
import { textOrInteger, type Json } from "../json.js";
import { customData } from "./read.js";

export type FactContext = ProviderFactContext & {
  /** The app's own user id from `meta.custom_data`, if the checkout passed one. */
  readonly appUserId: string | null;
};

/**
 * The app's user id: the first configured key of `meta.custom_data` holding a non-blank string or a
 * whole number (custom data set through the API keeps JSON types, so `{"user_id": 42}` is "42"),
 * read by the same rule as Paddle's and Creem's custom data, so one person is one user across them.
 */
export const appUserIdFromCustomData = (custom: Json | null, userIdKeys: readonly string[]): string | null =>
  appUserIdIn(custom, userIdKeys, textOrInteger);

const kit = factKit("lemonsqueezy");

export const { identityKeys, factBase } = kit;

export const factContext = (event: StoredEventInput, options: NormalizeOptions): FactContext => ({
  ...kit.factContext(event, options),
  appUserId: appUserIdFromCustomData(customData(event.payload), options.userIdKeys),
});

// Orders and subscription invoices are numbered apart at Lemon Squeezy (order "1" and invoice "1"
// are different payments), but Verity keeps every provider's orders in one table keyed by
// provider + id: each id is prefixed with its JSON:API type, the path Lemon Squeezy's API uses.
export const orderRef = (orderId: string): string => `orders/${orderId}`;
export const invoiceRef = (invoiceId: string): string => `subscription-invoices/${invoiceId}`;

/** A checkout id as the app holds it (the order's number, "4242") → how Verity keys it ("orders/4242"). */
export const checkoutRef = (id: string): string => (/^\d+$/.test(id) ? orderRef(id) : id);
