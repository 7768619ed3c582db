// What every Paddle fact builder shares: the event's instant and cause, the identity keys a fact
// names (app user first, then customer, then objects) and the rule that finds the app's own user id.
import { causeOf } from "../../domain/event.js";
import { appUserKey, customerKey, objectKey, type IdentityKey, type IdentityKind } from "../../domain/identity.js";
import type { Instant } from "../../domain/time.js";
import type { NormalizeOptions, StoredEventInput } from "../types.js";
import { distinct, field, text } from "./read.js";

export type FactContext = {
  readonly at: Instant;
  readonly cause: string;
  readonly userIdKeys: readonly string[];
};

export const factContext = (event: StoredEventInput, options: NormalizeOptions): FactContext => ({
  at: event.occurredAt,
  cause: causeOf("paddle", event.providerEventId),
  userIdKeys: options.userIdKeys,
});

type ObjectKind = Exclude<IdentityKind, "app" | "customer">;

export type KeyParts = {
  readonly app?: string | null;
  readonly customer?: string | null;
  readonly objects?: ReadonlyArray<readonly [ObjectKind, string | null]>;
};

/**
 * The keys a fact touches. The app key comes first because the resolver derives a new user's
 * internal id from the first key: the app's own id is the most stable name a user has.
 */
export const identityKeys = ({ app = null, customer = null, objects = [] }: KeyParts): IdentityKey[] =>
  distinct([
    ...(app === null ? [] : [appUserKey(app)]),
    ...(customer === null ? [] : [customerKey("paddle", customer)]),
    ...objects.flatMap(([kind, id]) => (id === null ? [] : [objectKey(kind, "paddle", id)])),
  ]);

/** The fields every fact carries besides its own. */
export const factBase = (ctx: FactContext, keys: readonly IdentityKey[]) =>
  ({ at: ctx.at, cause: ctx.cause, provider: "paddle", keys }) as const;

/**
 * The app's user id from Paddle `custom_data` (set at checkout, copied onto the transaction and the
 * subscription; null when unset): the first configured key holding a non-blank string or an
 * integer. custom_data is free JSON, so an app may well store its numeric id as a number.
 */
export const appUserIdFromCustomData = (customData: unknown, userIdKeys: readonly string[]): string | null => {
  for (const key of userIdKeys) {
    const value = field(customData, key);
    if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
    const id = text(value);
    if (id !== null) return id;
  }
  return null;
};
