// What every provider's fact builders share: the event's instant and cause, the identity keys a
// fact names (app user first, then customer, then objects), the fields every fact carries, and the
// rule that finds the app's own user id among the configured keys. Each provider binds the first
// three to its name once (factKit); where it keeps the app's user id, and which values count as
// one, stay in its own context.ts. Pure: normalizers import it.
import { causeOf } from "../domain/event.js";
import { appUserKey, customerKey, objectKey, type IdentityKey, type IdentityKind } from "../domain/identity.js";
import type { Provider } from "../domain/provider.js";
import type { Instant } from "../domain/time.js";
import { distinct, field } from "./json.js";
import type { NormalizeOptions, StoredEventInput } from "./types.js";

export type FactContext = {
  readonly at: Instant;
  readonly cause: string;
  readonly userIdKeys: readonly string[];
};

type ObjectKind = Exclude<IdentityKind, "app" | "customer">;

export type KeyParts = {
  readonly app?: string | null;
  readonly customer?: string | null;
  readonly objects?: ReadonlyArray<readonly [ObjectKind, string | null]>;
};

/** A provider's fact helpers, bound to its name so that no fact builder can name another provider. */
export const factKit = <P extends Provider>(provider: P) => ({
  factContext: (event: StoredEventInput, options: NormalizeOptions): FactContext => ({
    at: event.occurredAt,
    cause: causeOf(provider, event.providerEventId),
    userIdKeys: options.userIdKeys,
  }),

  /**
   * The keys a fact touches. The app key comes first because the resolver derives a new user's
   * internal id from the first key: the app's own id is the most stable name a user has.
   */
  identityKeys: ({ app = null, customer = null, objects = [] }: KeyParts): IdentityKey[] =>
    distinct([
      ...(app === null ? [] : [appUserKey(app)]),
      ...(customer === null ? [] : [customerKey(provider, customer)]),
      ...objects.flatMap(([kind, id]) => (id === null ? [] : [objectKey(kind, provider, id)])),
    ]),

  /** The fields every fact carries besides its own. */
  factBase: (ctx: Pick<FactContext, "at" | "cause">, keys: readonly IdentityKey[]) => ({ at: ctx.at, cause: ctx.cause, provider, keys }) as const,
});

/**
 * The app's user id in a provider's free-form JSON (metadata, custom data): the value of the first
 * configured key that `read` accepts. Providers differ only in which values they accept.
 */
export const appUserIdIn = (container: unknown, userIdKeys: readonly string[], read: (value: unknown) => string | null): string | null => {
  for (const key of userIdKeys) {
    const id = read(field(container, key));
    if (id !== null) return id;
  }
  return null;
};
