// Snapshots: what `verity sync stripe` stores for an object whose history is older than the events
// Stripe still holds (30 days): the object as the API returns it now, as a fetched event of a type
// Verity defines. A subscription snapshot states the subscription as observed at that instant; a
// customer snapshot names the customer's app user. The id is the object's id and a digest of what
// it states, so fetching an unchanged object again stores nothing new.
import { createHash } from "node:crypto";
import { record, text, type Json } from "../json.js";
import { canonicalStatus, subscriptionPeriodSeconds, subscriptionPriceIds } from "./subscription.js";

export const SUBSCRIPTION_SNAPSHOT_TYPE = "verity.subscription.snapshot";
export const CUSTOMER_SNAPSHOT_TYPE = "verity.customer.snapshot";

const digest = (value: unknown): string => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);

/** The stored id of a subscription's snapshot: changes only when what it states does. */
export const subscriptionSnapshotId = (subscription: Json): string => {
  const period = subscriptionPeriodSeconds(subscription);
  const stated = [subscription["status"], subscriptionPriceIds(subscription), period.start, period.end, subscription["cancel_at_period_end"], subscription["cancel_at"], subscription["canceled_at"], subscription["ended_at"], subscription["trial_end"], subscription["metadata"]];
  return `snapshot:${text(subscription["id"]) ?? "?"}:${digest(stated)}`;
};

export const customerSnapshotId = (customer: Json): string => `snapshot:${text(customer["id"]) ?? "?"}:${digest([customer["email"], customer["metadata"], customer["deleted"]])}`;

/** Whether a snapshot's subscription has ended (its facts say so, as customer.subscription.deleted's do). */
export const snapshotEnded = (payload: unknown): boolean => {
  const subscription = record(payload);
  return subscription !== null && canonicalStatus(text(subscription["status"]) ?? "") === "canceled";
};
