// What every Lemon Squeezy fact builder shares: the event's instant and cause, the identity keys a
// fact names (app user first, then customer, then objects), the app's user id from
// `meta.custom_data`, and the ids Verity gives Lemon Squeezy's orders and invoices.
import { causeOf } from "../../domain/event.js";
import { appUserKey, customerKey, objectKey, type IdentityKey, type IdentityKind } from "../../domain/identity.js";
import type { Instant } from "../../domain/time.js";
import type { NormalizeOptions, StoredEventInput } from "../types.js";
import { customData, distinct, field, idText, text, type Json } from "./read.js";

export type FactContext = {
  readonly at: Instant;
  readonly cause: string;
  /** The app's own user id from `meta.custom_data`, if the checkout passed one. */
  readonly appUserId: string | null;
};

/**
 * The app's user id: the first configured key of `meta.custom_data` holding a non-blank string or a
 * whole number (custom data set through the API keeps JSON types, so `{"user_id": 42}` is "42").
 */
export const appUserIdFromCustomData = (custom: Json | null, userIdKeys: readonly string[]): string | null => {
  for (const key of userIdKeys) {
    const value = field(custom, key);
    const id = typeof value === "number" ? idText(value) : text(value);
    if (id !== null) return id;
  }
  return null;
};

export const factContext = (event: StoredEventInput, options: NormalizeOptions): FactContext => ({
  at: event.occurredAt,
  cause: causeOf("lemonsqueezy", event.providerEventId),
  appUserId: appUserIdFromCustomData(customData(event.payload), options.userIdKeys),
});

// Orders and subscription invoices are numbered apart at Lemon Squeezy (order "1" and invoice "1"
// are different payments), but Verity keeps every provider's orders in one table keyed by
// provider + id: each id is prefixed with its JSON:API type, the path Lemon Squeezy's API uses.
export const orderRef = (orderId: string): string => `orders/${orderId}`;
export const invoiceRef = (invoiceId: string): string => `subscription-invoices/${invoiceId}`;

type ObjectKind = Exclude<IdentityKind, "app" | "customer">;

export type KeyParts = {
  readonly app?: string | null;
  readonly customer?: string | null;
  readonly objects?: ReadonlyArray<readonly [ObjectKind, string | null]>;
};

/** The keys a fact touches; the app key first, since a new user's id derives from its first key. */
export const identityKeys = ({ app = null, customer = null, objects = [] }: KeyParts): IdentityKey[] =>
  distinct([
    ...(app === null ? [] : [appUserKey(app)]),
    ...(customer === null ? [] : [customerKey("lemonsqueezy", customer)]),
    ...objects.flatMap(([kind, id]) => (id === null ? [] : [objectKey(kind, "lemonsqueezy", id)])),
  ]);

/** The fields every fact carries besides its own. */
export const factBase = (ctx: FactContext, keys: readonly IdentityKey[]) =>
  ({ at: ctx.at, cause: ctx.cause, provider: "lemonsqueezy", keys }) as const;
