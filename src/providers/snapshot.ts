// Snapshots: what `verity sync` stores for an object whose history the provider no longer lists
// (Stripe keeps 30 days of events; Lemon Squeezy and Creem list no events at all): the object as the
// provider's API returns it now, stored as a fetched event of a type Verity defines, dated when it
// was read. A subscription snapshot states the subscription as observed at that instant; an order
// snapshot the order (paid, refunded); a customer snapshot who the customer is. Each provider's
// normalizer reads its own objects; the id is the object's and a digest of what the snapshot
// states, so reading an unchanged object again stores nothing new.
import { createHash } from "node:crypto";

export const SUBSCRIPTION_SNAPSHOT_TYPE = "verity.subscription.snapshot";
export const CUSTOMER_SNAPSHOT_TYPE = "verity.customer.snapshot";
export const ORDER_SNAPSHOT_TYPE = "verity.order.snapshot";

export const SNAPSHOT_TYPES: readonly string[] = [SUBSCRIPTION_SNAPSHOT_TYPE, CUSTOMER_SNAPSHOT_TYPE, ORDER_SNAPSHOT_TYPE];
export const isSnapshotType = (type: string): boolean => SNAPSHOT_TYPES.includes(type);

/** `snapshot:<object id>:<digest of what it states>`: changes only when what it states does. */
export const snapshotId = (objectId: string, stated: readonly unknown[]): string =>
  `snapshot:${objectId}:${createHash("sha256").update(JSON.stringify(stated)).digest("hex").slice(0, 16)}`;
