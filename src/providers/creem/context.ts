// What every Creem fact builder shares: the event's instant and cause, the identity keys a fact
// names (app user first, then customer, then objects) and the rule that finds the app's own user id.
import { causeOf } from "../../domain/event.js";
import { appUserKey, customerKey, objectKey, type IdentityKey, type IdentityKind } from "../../domain/identity.js";
import type { Instant } from "../../domain/time.js";
import type { NormalizeOptions, StoredEventInput } from "../types.js";
import { distinct, field, integer, text } from "./read.js";

export type FactContext = {
  readonly at: Instant;
  readonly cause: string;
  readonly userIdKeys: readonly string[];
};

export const factContext = (event: StoredEventInput, options: NormalizeOptions): FactContext => ({
  at: event.occurredAt,
  cause: causeOf("creem", event.providerEventId),
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
    ...(customer === null ? [] : [customerKey("creem", customer)]),
    ...objects.flatMap(([kind, id]) => (id === null ? [] : [objectKey(kind, "creem", id)])),
  ]);

/** The fields every fact carries besides its own. */
export const factBase = (ctx: FactContext, keys: readonly IdentityKey[]) =>
  ({ at: ctx.at, cause: ctx.cause, provider: "creem", keys }) as const;

/**
 * The app's user id from Creem `metadata`: the first configured key holding a non-blank string or
 * an integer (Creem metadata is free JSON, so an app may pass its numeric id as a number).
 */
export const appUserIdFromMetadata = (metadata: unknown, userIdKeys: readonly string[]): string | null => {
  for (const key of userIdKeys) {
    const value = field(metadata, key);
    const id = text(value) ?? (integer(value) === null ? null : String(value));
    if (id !== null) return id;
  }
  return null;
};

/** The first app user id found among several metadata objects (e.g. a checkout's, then its subscription's). */
export const appUserIdFromAny = (metadatas: readonly unknown[], userIdKeys: readonly string[]): string | null => {
  for (const metadata of metadatas) {
    const id = appUserIdFromMetadata(metadata, userIdKeys);
    if (id !== null) return id;
  }
  return null;
};
