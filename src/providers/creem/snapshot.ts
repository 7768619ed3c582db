// Creem's subscription snapshot (see ../snapshot.ts): the subscription as GET /v1/subscriptions
// returns it now. Creem lists no events, so a snapshot is how `verity sync creem` stores what
// webhooks missed.
import { ref, text, type Json } from "../json.js";
import { snapshotId } from "../snapshot.js";
import { subscriptionProductIds } from "./subscription.js";

export const subscriptionSnapshotId = (subscription: Json): string =>
  snapshotId(text(subscription["id"]) ?? "?", [
    subscription["status"],
    subscriptionProductIds(subscription),
    subscription["current_period_start_date"],
    subscription["current_period_end_date"],
    subscription["canceled_at"],
    subscription["metadata"],
    ref(subscription["customer"]),
  ]);
