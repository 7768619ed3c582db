// Stripe's snapshots (see ../snapshot.ts): the subscription and customer objects as Stripe's API
// returns them, for histories older than the 30 days of events Stripe still lists.
import { record, text, type Json } from "../json.js";
import { snapshotId } from "../snapshot.js";
import { canonicalStatus, subscriptionPeriodSeconds, subscriptionPriceIds } from "./subscription.js";

export { CUSTOMER_SNAPSHOT_TYPE, SUBSCRIPTION_SNAPSHOT_TYPE } from "../snapshot.js";

/** The stored id of a subscription's snapshot: changes only when what it states does. */
export const subscriptionSnapshotId = (subscription: Json): string => {
  const period = subscriptionPeriodSeconds(subscription);
  const stated = [subscription["status"], subscriptionPriceIds(subscription), period.start, period.end, subscription["cancel_at_period_end"], subscription["cancel_at"], subscription["canceled_at"], subscription["ended_at"], subscription["trial_end"], subscription["metadata"]];
  return snapshotId(text(subscription["id"]) ?? "?", stated);
};

export const customerSnapshotId = (customer: Json): string => snapshotId(text(customer["id"]) ?? "?", [customer["email"], customer["metadata"], customer["deleted"]]);

/** Whether a snapshot's subscription has ended (its facts say so, as customer.subscription.deleted's do). */
export const snapshotEnded = (payload: unknown): boolean => {
  const subscription = record(payload);
  return subscription !== null && canonicalStatus(text(subscription["status"]) ?? "") === "canceled";
};
