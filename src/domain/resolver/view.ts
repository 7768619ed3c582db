// What every view of the fold shares. A view owns some tables of the state and says, in one
// `evolve`, what one fact does to them: `(state, fact, claim) → { state, transitions }`, a switch
// over the facts it folds with a default that leaves the state as it is. The step
// (./step.ts) runs the identity claim first, then each view in turn, each seeing what the ones
// before it wrote.
import type { Catalog } from "../catalog.js";
import { parseKey, type IdentityKind } from "../identity.js";
import type { Table } from "../table.js";
import type { Fact } from "../facts.js";
import type { State, Transition, User, UserStatus } from "../state.js";
import type { Instant } from "../time.js";

export type Step = { readonly state: State; readonly transitions: readonly Transition[] };

/** What a fact is folded with: the catalog, and the fact's instant and cause for its transitions. */
export type Ctx = { readonly catalog: Catalog; readonly at: Instant; readonly cause: string };

/** Who a fact is about, settled by the identity claim before any view sees the fact. */
export type Claim = Ctx & {
  /** The user the fact's keys were claimed for. */
  readonly userId: string;
  /**
   * The owner of the object the fact records (its subscription, one-time checkout or paid invoice):
   * the claimed user, unless an identity conflict kept that object's key with another user.
   */
  readonly subject: string;
  /** Users merged into `userId` by this fact, as they were: their records now belong to it. */
  readonly absorbed: readonly User[];
  /** The claimed user and the subject as they were before the fact, for the per-user derivation. */
  readonly was: ReadonlyMap<string, Was>;
};

/**
 * A user's derived values before a fact: its status (null for a user the fact creates) and which
 * plan grants each feature. Taken before any view writes, since a fold writes its tables in place.
 */
export type Was = { readonly status: UserStatus | null; readonly sources: Readonly<Record<string, string>> };

export type Evolve = (state: State, fact: Fact, claim: Claim) => Step;

/** The transition for one field of one entity, or none when it did not change. */
export const change = (
  ctx: Ctx,
  userId: string,
  entity: Transition["entity"],
  entityId: string,
  field: string,
  from: string | null,
  to: string | null,
): Transition[] => (from === to ? [] : [{ userId, entity, entityId, field, from, to, at: ctx.at, cause: ctx.cause }]);

export const unchanged = (state: State): Step => ({ state, transitions: [] });

/** Fields as transitions carry them: text, or null. */
export const text = (v: number | boolean | null): string | null => (v === null ? null : String(v));
export const iso = (v: number | null): string | null => (v === null ? null : new Date(v).toISOString());

/**
 * The records of a table that the absorbed users held, now `claim.userId`'s: found through the
 * absorbed users' keys of `kinds` (a record's id is its key without the kind), as subscriptionsOf
 * and ordersOf find them. Subscriptions and orders adopt the same way.
 */
export const adopted = <T extends { readonly id: string; readonly userId: string }>(table: Table<T>, claim: Claim, kinds: readonly IdentityKind[]): Table<T> => {
  let next = table;
  for (const user of claim.absorbed) {
    for (const key of user.keys) {
      const { kind, provider, value } = parseKey(key);
      if (!kinds.includes(kind)) continue;
      const record = next.get(`${provider}:${value}`);
      if (record !== undefined && record.userId === user.id) next = next.set(record.id, { ...record, userId: claim.userId });
    }
  }
  return next;
};
