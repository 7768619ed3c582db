// Paddle's subscription snapshot (see ../snapshot.ts): the subscription entity as GET /subscriptions
// returns it, for a subscription whose events Paddle no longer lists.
import { text, type Json } from "../json.js";
import { snapshotId } from "../snapshot.js";
import { subscriptionPriceIds } from "./subscription.js";

export const subscriptionSnapshotId = (subscription: Json): string =>
  snapshotId(text(subscription["id"]) ?? "?", [
    subscription["status"],
    subscriptionPriceIds(subscription),
    subscription["current_billing_period"],
    subscription["scheduled_change"],
    subscription["canceled_at"],
    subscription["paused_at"],
    subscription["started_at"],
    subscription["custom_data"],
    subscription["customer_id"],
  ]);
