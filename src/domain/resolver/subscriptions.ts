// Subscriptions view: each subscription is the latest snapshot its provider sent, with what Verity
// derives beside it (its plan, since when it is past due, whether it has ended for good).
import { planForPrices } from "../catalog.js";
import type { SubscriptionEnded, SubscriptionObserved } from "../facts.js";
import type { State, Subscription } from "../state.js";
import { adopted, change, iso, text, unchanged, type Claim, type Evolve, type Step } from "./view.js";

/** The subscription as the fact's snapshot states it, kept by the owner of its key (the claim's subject). */
const observe = (state: State, fact: SubscriptionObserved | SubscriptionEnded, claim: Claim): Step => {
  const { subject: userId } = claim;
  const id = `${fact.provider}:${fact.subscriptionId}`;
  const before = state.subscriptions.get(id);
  if (before?.ended && fact._tag === "SubscriptionObserved") {
    return { state, transitions: change(claim, userId, "subscription", id, "anomaly", null, "update_after_end") };
  }
  const snap = fact.snapshot;
  const ended = fact._tag === "SubscriptionEnded";
  const status = ended ? "canceled" : snap.status;
  const after: Subscription = {
    id,
    provider: fact.provider,
    providerId: fact.subscriptionId,
    userId,
    plan: planForPrices(claim.catalog, fact.provider, snap.priceIds),
    priceIds: snap.priceIds,
    status,
    providerStatus: snap.providerStatus,
    currentPeriodStart: snap.currentPeriodStart,
    currentPeriodEnd: snap.currentPeriodEnd,
    cancelAtPeriodEnd: snap.cancelAtPeriodEnd,
    cancelAt: snap.cancelAt,
    canceledAt: snap.canceledAt ?? (ended ? fact.at : null),
    startedAt: snap.startedAt ?? before?.startedAt ?? null,
    endedAt: snap.endedAt ?? (ended ? fact.at : null),
    trialStart: snap.trialStart,
    trialEnd: snap.trialEnd,
    pastDueSince: status === "past_due" ? (before?.status === "past_due" ? before.pastDueSince : fact.at) : null,
    ended: ended || (before?.ended ?? false),
    updatedAt: fact.at,
  };
  return {
    state: { ...state, subscriptions: state.subscriptions.set(id, after) },
    transitions: [
      ...change(claim, userId, "subscription", id, "status", before?.status ?? null, after.status),
      ...change(claim, userId, "subscription", id, "plan", before?.plan ?? null, after.plan),
      ...change(claim, userId, "subscription", id, "cancelAtPeriodEnd", text(before?.cancelAtPeriodEnd ?? null), text(after.cancelAtPeriodEnd)),
      ...change(claim, userId, "subscription", id, "currentPeriodEnd", iso(before?.currentPeriodEnd ?? null), iso(after.currentPeriodEnd)),
      ...change(claim, userId, "subscription", id, "cancelAt", iso(before?.cancelAt ?? null), iso(after.cancelAt)),
    ],
  };
};

export const evolve: Evolve = (state, fact, claim) => {
  const own = claim.absorbed.length === 0 ? state : { ...state, subscriptions: adopted(state.subscriptions, claim, ["subscription"]) };
  switch (fact._tag) {
    case "SubscriptionObserved":
    case "SubscriptionEnded":
      return observe(own, fact, claim);
    default:
      return unchanged(own);
  }
};
