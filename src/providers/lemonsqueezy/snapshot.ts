// Lemon Squeezy's snapshots (see ../snapshot.ts): a subscription or order resource as its API lists
// it now. Lemon Squeezy lists no events, so a snapshot is how `verity sync lemonsqueezy` stores what
// webhooks missed. The digest leaves out the signed links (`urls`), which are signed afresh on
// every read, so an unchanged object stores nothing new.
import { field, type Json } from "../json.js";
import { snapshotId } from "../snapshot.js";
import { idText } from "./read.js";

const attributes = (resource: Json) => (field(resource, "attributes") ?? {}) as Json;

export const subscriptionSnapshotId = (resource: Json): string => {
  const a = attributes(resource);
  return snapshotId(`subscriptions/${idText(resource["id"]) ?? "?"}`, [a["status"], a["variant_id"], a["renews_at"], a["ends_at"], a["trial_ends_at"], a["pause"], a["cancelled"], a["customer_id"]]);
};

export const orderSnapshotId = (resource: Json): string => {
  const a = attributes(resource);
  return snapshotId(`orders/${idText(resource["id"]) ?? "?"}`, [a["status"], a["refunded"], a["refunded_amount"], a["total"], field(a, "first_order_item", "variant_id"), a["customer_id"]]);
};
