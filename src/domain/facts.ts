// Canonical facts: what a provider event means, in Verity's own words. Normalizers produce them;
// the resolver folds them. Nothing here knows any provider's JSON shape.
import type { IdentityKey } from "./identity.js";
import type { Provider } from "./provider.js";
import type { Instant } from "./time.js";

/** Canonical subscription statuses; the provider's own status is kept beside them. */
export type SubscriptionStatus = "trialing" | "active" | "past_due" | "canceled" | "incomplete";

export type SubscriptionSnapshot = {
  readonly status: SubscriptionStatus;
  readonly providerStatus: string;
  readonly priceIds: readonly string[];
  readonly currentPeriodStart: Instant | null;
  readonly currentPeriodEnd: Instant | null;
  /**
   * The subscription stops renewing at a known date: either at the end of the current period, or
   * (with `cancelAt`) at a scheduled instant.
   */
  readonly cancelAtPeriodEnd: boolean;
  /** A scheduled end, when the provider names one; it may fall before the current period ends. */
  readonly cancelAt: Instant | null;
  readonly canceledAt: Instant | null;
  readonly startedAt: Instant | null;
  readonly endedAt: Instant | null;
  readonly trialStart: Instant | null;
  readonly trialEnd: Instant | null;
};

type FactBase = {
  /** When the provider says it happened. */
  readonly at: Instant;
  /** The event that caused it: `${provider}:${providerEventId}`. */
  readonly cause: string;
  /**
   * Every identity this fact touches; they belong to one user, unless they span two app user ids
   * (a shared customer): then the resolver picks one and the other keeps its own (see resolver/identity.ts).
   */
  readonly keys: readonly IdentityKey[];
  readonly provider: Provider;
};

export type CustomerSeen = FactBase & {
  readonly _tag: "CustomerSeen";
  readonly customerId: string;
  readonly appUserId: string | null;
  readonly email: string | null;
};

export type CheckoutCompleted = FactBase & {
  readonly _tag: "CheckoutCompleted";
  readonly checkoutId: string;
  readonly mode: "subscription" | "payment";
  readonly customerId: string | null;
  readonly appUserId: string | null;
  readonly email: string | null;
  readonly subscriptionId: string | null;
  /** Null when the payload does not say what was bought (see CheckoutItemsFetched). */
  readonly priceIds: readonly string[] | null;
  readonly amount: number;
  readonly currency: string;
  readonly paid: boolean;
  readonly paymentRefs: readonly string[];
};

/** Line items Verity retrieved from the provider for a checkout whose event did not carry them. */
export type CheckoutItemsFetched = FactBase & {
  readonly _tag: "CheckoutItemsFetched";
  readonly checkoutId: string;
  readonly priceIds: readonly string[];
};

export type SubscriptionObserved = FactBase & {
  readonly _tag: "SubscriptionObserved";
  readonly subscriptionId: string;
  readonly customerId: string | null;
  readonly appUserId: string | null;
  readonly snapshot: SubscriptionSnapshot;
};

/** Deleted / expired: terminal for the subscription. */
export type SubscriptionEnded = FactBase & {
  readonly _tag: "SubscriptionEnded";
  readonly subscriptionId: string;
  readonly customerId: string | null;
  readonly appUserId: string | null;
  readonly snapshot: SubscriptionSnapshot;
};

export type PaymentSucceeded = FactBase & {
  readonly _tag: "PaymentSucceeded";
  /** The provider's id for what was paid (an invoice, a transaction). */
  readonly paymentId: string;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly reason: "subscription_create" | "subscription_cycle" | "subscription_update" | "one_time" | "other";
  readonly amount: number;
  readonly currency: string;
  readonly priceIds: readonly string[];
  readonly paymentRefs: readonly string[];
};

export type PaymentFailed = FactBase & {
  readonly _tag: "PaymentFailed";
  readonly paymentId: string;
  readonly customerId: string | null;
  readonly subscriptionId: string | null;
  readonly amount: number;
  readonly currency: string;
};

/**
 * More payment references for something paid: how refunds (which name charges and payment
 * intents) find an order whose own event did not name its payment (Stripe invoices from
 * 2025-03-31 on are linked to their payments by separate invoice_payment events).
 */
export type PaymentLinked = FactBase & {
  readonly _tag: "PaymentLinked";
  readonly paymentId: string;
  readonly paymentRefs: readonly string[];
};

export type RefundIssued = FactBase & {
  readonly _tag: "RefundIssued";
  /** Charge / payment-intent ids that identify what was refunded. */
  readonly paymentRefs: readonly string[];
  /** Individual refunds known from this event (id → amount). */
  readonly refunds: Readonly<Record<string, number>>;
  /** The cumulative refunded amount when the event states it, else null. */
  readonly totalRefunded: number | null;
  readonly currency: string;
};

export type Fact =
  | CustomerSeen
  | CheckoutCompleted
  | CheckoutItemsFetched
  | SubscriptionObserved
  | SubscriptionEnded
  | PaymentSucceeded
  | PaymentFailed
  | PaymentLinked
  | RefundIssued;

export type FactTag = Fact["_tag"];
