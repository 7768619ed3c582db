// The REST answers as Verity sends them (README "Read the state", "Usage, quotas, leases and
// credits"; the server's src/server/rest.ts, usage.ts, leases.ts, tokens.ts). Written by hand, and
// held to the real server by test/client/rest-contract.test.ts: it compares the keys of real answers
// with the key sets declared there against these types, so a field the server adds, renames or
// drops fails that test. Times are ISO 8601 strings in UTC unless a comment says otherwise.

/** One feature of a user: whether it is usable now, by which plan, and how much of it is used. */
export type Entitlement = {
  readonly feature: string;
  readonly enabled: boolean;
  /** The plan that grants it; null when not enabled. */
  readonly source: string | null;
  /** Units per period for a meter, credits per use for a credit-priced feature, slots for a concurrency limit. */
  readonly limit: number | null;
  readonly used: number | null;
  readonly remaining: number | null;
  readonly resetsAt: string | null;
  /** Units past the limit of an `allow` meter (0 within it); null without a limit. */
  readonly overage: number | null;
  /** The plan's number for a value feature (e.g. max_duration_seconds). */
  readonly value: number | null;
};

/** `GET /api/users/{id}/entitlements`: every feature of the catalog for this user. */
export type EntitlementsAnswer = {
  /** The app's user id when Verity knows it, else Verity's own (`usr_…`). */
  readonly userId: string;
  readonly entitlements: readonly Entitlement[];
};

export type SubscriptionStatus = "trialing" | "active" | "past_due" | "canceled" | "incomplete";

export type Subscription = {
  readonly provider: string;
  /** The provider's subscription id. */
  readonly id: string;
  readonly plan: string | null;
  readonly status: SubscriptionStatus;
  /** The provider's own status word. */
  readonly providerStatus: string;
  readonly currentPeriodStart: string | null;
  readonly currentPeriodEnd: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly trialStart: string | null;
  readonly trialEnd: string | null;
};

/** `GET /api/users/{id}/subscription`. */
export type SubscriptionAnswer = {
  readonly userId: string;
  /** The live subscription that grants the most (ties: the latest started), or null. */
  readonly subscription: Subscription | null;
  readonly subscriptions: readonly Subscription[];
};

export type CreditBalances = { readonly subscription: number; readonly oneTime: number };

export type CreditLedgerEntry = {
  readonly at: string;
  readonly bucket: "subscription" | "oneTime";
  readonly kind: "grant" | "debit" | "expiry" | "revocation";
  /** Positive for a grant, negative otherwise: the ledger sums to the balance. */
  readonly amount: number;
  readonly balanceAfter: number;
  /** The order (grant, expiry, revocation) or the usage record (debit). */
  readonly cause: string;
  readonly note: string;
};

/** `GET /api/users/{id}/credits`: balances now and one page of the ledger, oldest first. */
export type CreditsAnswer = {
  readonly userId: string;
  readonly balances: CreditBalances;
  readonly ledger: readonly CreditLedgerEntry[];
  /** Pass back as `after` for the next page; null on the last. */
  readonly next: string | null;
};

export type PlanPrice = {
  readonly provider: string;
  readonly id: string;
  /** Minor units; null where the catalog does not say. */
  readonly amount: number | null;
  readonly currency: string | null;
  readonly interval: "month" | "year" | "once" | null;
};

export type PlanFeature =
  | { readonly feature: string; readonly kind: "flag" }
  | { readonly feature: string; readonly kind: "metered"; readonly limit: number; readonly per: "month" | "year" | "period"; readonly overage: "block" | "allow" }
  | { readonly feature: string; readonly kind: "credits"; readonly credits: number }
  | { readonly feature: string; readonly kind: "concurrent"; readonly concurrent: number; readonly leaseSeconds: number }
  | { readonly feature: string; readonly kind: "value"; readonly value: number };

export type PlanCredits = {
  readonly amount: number;
  readonly per: "once" | "period";
  readonly rollover: boolean;
  readonly expiresAfterDays: number | null;
};

export type Plan = {
  readonly code: string;
  readonly name: string;
  readonly description: string | null;
  /** The language tag the texts were taken from, or null for the catalog's own. */
  readonly locale: string | null;
  readonly order: number | null;
  readonly highlighted: boolean;
  readonly lifetime: boolean;
  readonly prices: readonly PlanPrice[];
  readonly features: readonly PlanFeature[];
  readonly credits: PlanCredits | null;
};

/** `GET /api/plans?locale=`: the catalog in display order. */
export type PlansAnswer = { readonly plans: readonly Plan[] };

export type Provider = "stripe" | "paddle" | "lemonsqueezy" | "creem";

export type CheckoutOrder = {
  readonly id: string;
  readonly plan: string | null;
  readonly status: "pending" | "paid" | "partially_refunded" | "refunded";
  /** Minor units. */
  readonly amount: number;
  readonly amountRefunded: number;
  readonly currency: string;
  readonly paidAt: string;
};

/** `GET /api/checkouts/{provider}/{id}`: pending until the provider's signed event naming it arrived. */
export type CheckoutAnswer = {
  readonly provider: Provider;
  readonly id: string;
  readonly status: "pending" | "completed";
  readonly userId: string | null;
  readonly paid: boolean;
  readonly order: CheckoutOrder | null;
  readonly subscriptions: readonly Subscription[];
  /** What the checkout grants now (a refunded purchase grants nothing). */
  readonly entitlements: readonly Entitlement[];
};

/** A meter after a usage was counted (or, for a check, as it stands). */
export type UsageAnswer = {
  readonly feature: string;
  readonly limit: number | null;
  readonly used: number;
  readonly remaining: number | null;
  readonly resetsAt: string | null;
  /** Units past the limit of an `allow` meter, else 0; null without a limit. */
  readonly overage: number | null;
  /** For a credit-priced feature: the balances after the debit. */
  readonly credits?: CreditBalances;
};

/** `POST /v1/check` answered 200: the decision for `units` more, nothing recorded. */
export type CheckAllowed = {
  readonly allowed: true;
  readonly feature: string;
  readonly limit: number | null;
  readonly used: number;
  readonly remaining: number | null;
  readonly resetsAt: string | null;
  readonly overage: number | null;
  /** For a credit-priced feature: what `units` would cost, and the balances now. */
  readonly cost?: number;
  readonly credits?: CreditBalances;
};

/** How a spent quota stands (`quota_exceeded`). */
export type QuotaExceededDetails = {
  readonly feature: string;
  readonly limit: number | null;
  readonly used: number;
  readonly remaining: number | null;
  /** When the period resets; null when its end is not known yet. */
  readonly resetsAt: string | null;
  readonly overage: number | null;
};

/** Every slot of a concurrency limit is held (`concurrency_exceeded`). */
export type ConcurrencyExceededDetails = {
  readonly feature: string;
  readonly limit: number;
  readonly active: number;
  /** When the first held slot frees itself (unless released sooner). */
  readonly resetsAt: string | null;
};

/** The balance does not pay for the use (`insufficient_credits`). */
export type InsufficientCreditsDetails = {
  readonly feature: string;
  readonly cost: number;
  readonly credits: CreditBalances;
};

/** Verity's error body, `{ "error": { "code", "message", … } }`: a refusal by a quota adds how it stands. */
export type ErrorBody = {
  readonly error:
    | ({ readonly code: "quota_exceeded"; readonly message: string } & QuotaExceededDetails)
    | ({ readonly code: "concurrency_exceeded"; readonly message: string } & ConcurrencyExceededDetails)
    | ({ readonly code: "insufficient_credits"; readonly message: string } & InsufficientCreditsDetails)
    | { readonly code: string; readonly message: string };
};

/** The codes a usage decision refuses with (402 and 429). */
export type QuotaCode = "no_entitlement" | "insufficient_credits" | "quota_exceeded" | "concurrency_exceeded";

/** `POST /v1/check` answered 402 or 429: not allowed, and why (the error body beside `allowed`). */
export type CheckRefused = { readonly allowed: false } & ErrorBody;

/** A record of `POST /v1/usage`. */
export type UsageRecord = {
  /** Your user id or a provider customer id: whatever you bill. */
  readonly userId: string;
  readonly feature: string;
  /** Positive; whole unless the meter declares `decimals`. */
  readonly units: number;
  /** Required: the same key for the same user counts once (a request id, a job id). */
  readonly idempotencyKey: string;
  /** When the usage happened (counts in the period holding it); default: when Verity receives it. */
  readonly at?: Date | string;
};

/** One record's answer in a batch: 200 with the meter, or its refusal with its own status. */
export type BatchResult =
  | ({ readonly status: 200; readonly replayed?: true } & UsageAnswer)
  | ({ readonly status: number } & ErrorBody);

/** `POST /v1/usage` with `{ records }`: answered record by record, in order. */
export type BatchAnswer = { readonly results: readonly BatchResult[] };

/** `POST /v1/leases`: a slot held until `expiresAt` or its release. */
export type LeaseAnswer = {
  readonly leaseId: string;
  readonly expiresAt: string;
  /** Slots held once this one was taken. */
  readonly active: number;
  readonly limit: number;
  readonly feature: string;
};

/** What a release says of the usage sent with it: the usage's own answer, or its refusal (code and message only). */
export type ReleaseUsage = ({ readonly status: 200 } & UsageAnswer) | { readonly status: number; readonly error: { readonly code: string; readonly message: string } };

/** `POST /v1/leases/{id}/release`. */
export type ReleaseAnswer = {
  readonly leaseId: string;
  readonly feature: string;
  readonly releasedAt: string;
  /** The lease had expired before this release (its usage still counts). */
  readonly expired: boolean;
  /** Present when usage was sent with the release. */
  readonly usage?: ReleaseUsage;
};

/** What an entitlement token states of one enabled feature; members that do not apply are absent. */
export type TokenFeature = {
  readonly limit?: number;
  readonly remaining?: number;
  /** Seconds since the epoch, as JWT times are. */
  readonly resetsAt?: number;
  readonly value?: number;
};

/** `POST /v1/tokens`: a signed token of what the user may use now. */
export type TokenAnswer = {
  /** A JWT (EdDSA), verified with `verifyEntitlementToken` from `@verity/client/tokens`. */
  readonly token: string;
  /** The id of the key that signed it (the JWT's `kid`). */
  readonly keyId: string;
  readonly userId: string;
  readonly audience: string;
  readonly expiresAt: string;
  readonly entitlements: Readonly<Record<string, TokenFeature>>;
};

/** `POST /v1/activation-codes`: a one-time code to show the customer (it is shown once: Verity keeps only its hash). */
export type ActivationCodeAnswer = {
  readonly code: string;
  readonly userId: string;
  readonly expiresAt: string;
  /** The lifetime of the access tokens the activation will get. */
  readonly tokenTtlSeconds: number;
};

/** `POST /v1/activate` and `POST /v1/refresh`: an access token for the domain and the refresh token that replaces the last one. */
export type TokenPairAnswer = {
  readonly activationId: string;
  readonly userId: string;
  readonly domain: string;
  readonly tokenType: "Bearer";
  /** A JWT (EdDSA) with `aud` = the domain and `sid` = the activation, verified with `verifyEntitlementToken`. */
  readonly accessToken: string;
  readonly expiresAt: string;
  /** Store it before using the access token: the one presented is spent (a retry within a minute gets this same answer; later, presenting it again revokes the activation). */
  readonly refreshToken: string;
  readonly refreshExpiresAt: string;
  readonly entitlements: Readonly<Record<string, TokenFeature>>;
};

/** An activation as `GET /api/users/{id}/activations` and a revocation answer it. */
export type Activation = {
  readonly id: string;
  readonly userId: string;
  readonly domain: string;
  readonly createdAt: string;
  readonly lastRefreshedAt: string | null;
  readonly refreshExpiresAt: string;
  readonly rotations: number;
  readonly status: "active" | "revoked" | "expired";
  readonly revokedAt: string | null;
  /** "reuse": a spent refresh token came back; "revoked": by the app. */
  readonly revokedReason: "reuse" | "revoked" | null;
};

/** `GET /api/users/{id}/activations`, newest first. */
export type ActivationsAnswer = { readonly userId: string; readonly activations: readonly Activation[] };
