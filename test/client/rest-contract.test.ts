// The client package's hand-written REST types (packages/client/src/types.ts) against the real
// server. Each key set below is tied to its type with `satisfies KeySpec<…>`: a member added to,
// renamed in or dropped from a type does not compile until its key set follows (and says whether
// the member is always there). The test then asks a real server every REST question and compares
// the keys of each object in each answer with its key set: a field the server adds, renames or
// drops fails here, and so does a declared member no answer ever carries.
import type {
  Activation,
  ActivationCodeAnswer,
  ActivationsAnswer,
  BatchAnswer,
  BatchResult,
  CheckAllowed,
  CheckoutAnswer,
  CheckoutOrder,
  CheckRefused,
  CreditBalances,
  CreditLedgerEntry,
  CreditsAnswer,
  Entitlement,
  EntitlementsAnswer,
  ErrorBody,
  LeaseAnswer,
  Plan,
  PlanCredits,
  PlanFeature,
  PlanPrice,
  PlansAnswer,
  ReleaseAnswer,
  ReleaseUsage,
  Subscription,
  SubscriptionAnswer,
  TokenAnswer,
  TokenFeature,
  TokenPairAnswer,
  UsageAnswer,
} from "@verity/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buyLifetime, knownUser, startWorld, type World } from "./world.js";

type Presence = "required" | "optional";

/** Every member of T, marked as T declares it (optional or not): nothing more, nothing less. */
type KeySpec<T> = { readonly [K in keyof T]-?: {} extends Pick<T, K> ? "optional" : "required" };

type ErrorObject = ErrorBody["error"];
type Variant<T, K extends keyof T, V extends T[K]> = Extract<T, { readonly [P in K]: V }>;

const ENTITLEMENT = { feature: "required", enabled: "required", source: "required", limit: "required", used: "required", remaining: "required", resetsAt: "required", overage: "required", value: "required" } as const satisfies KeySpec<Entitlement>;
const ENTITLEMENTS = { userId: "required", entitlements: "required" } as const satisfies KeySpec<EntitlementsAnswer>;
const SUBSCRIPTION = {
  provider: "required",
  id: "required",
  plan: "required",
  status: "required",
  providerStatus: "required",
  currentPeriodStart: "required",
  currentPeriodEnd: "required",
  cancelAtPeriodEnd: "required",
  canceledAt: "required",
  startedAt: "required",
  endedAt: "required",
  trialStart: "required",
  trialEnd: "required",
} as const satisfies KeySpec<Subscription>;
const SUBSCRIPTION_ANSWER = { userId: "required", subscription: "required", subscriptions: "required" } as const satisfies KeySpec<SubscriptionAnswer>;
const BALANCES = { subscription: "required", oneTime: "required" } as const satisfies KeySpec<CreditBalances>;
const LEDGER_ENTRY = { at: "required", bucket: "required", kind: "required", amount: "required", balanceAfter: "required", cause: "required", note: "required" } as const satisfies KeySpec<CreditLedgerEntry>;
const CREDITS = { userId: "required", balances: "required", ledger: "required", next: "required" } as const satisfies KeySpec<CreditsAnswer>;
const PLAN_PRICE = { provider: "required", id: "required", amount: "required", currency: "required", interval: "required" } as const satisfies KeySpec<PlanPrice>;
const PLAN_FEATURE = {
  flag: { feature: "required", kind: "required" } as const satisfies KeySpec<Variant<PlanFeature, "kind", "flag">>,
  metered: { feature: "required", kind: "required", limit: "required", per: "required", overage: "required" } as const satisfies KeySpec<Variant<PlanFeature, "kind", "metered">>,
  credits: { feature: "required", kind: "required", credits: "required" } as const satisfies KeySpec<Variant<PlanFeature, "kind", "credits">>,
  concurrent: { feature: "required", kind: "required", concurrent: "required", leaseSeconds: "required" } as const satisfies KeySpec<Variant<PlanFeature, "kind", "concurrent">>,
  value: { feature: "required", kind: "required", value: "required" } as const satisfies KeySpec<Variant<PlanFeature, "kind", "value">>,
} as const satisfies { readonly [K in PlanFeature["kind"]]: Readonly<Record<string, Presence>> };
const PLAN_CREDITS = { amount: "required", per: "required", rollover: "required", expiresAfterDays: "required" } as const satisfies KeySpec<PlanCredits>;
const PLAN = {
  code: "required",
  name: "required",
  description: "required",
  locale: "required",
  order: "required",
  highlighted: "required",
  lifetime: "required",
  prices: "required",
  features: "required",
  credits: "required",
} as const satisfies KeySpec<Plan>;
const PLANS = { plans: "required" } as const satisfies KeySpec<PlansAnswer>;
const ORDER = { id: "required", plan: "required", status: "required", amount: "required", amountRefunded: "required", currency: "required", paidAt: "required" } as const satisfies KeySpec<CheckoutOrder>;
const CHECKOUT = { provider: "required", id: "required", status: "required", userId: "required", paid: "required", order: "required", subscriptions: "required", entitlements: "required" } as const satisfies KeySpec<CheckoutAnswer>;
const USAGE = { feature: "required", limit: "required", used: "required", remaining: "required", resetsAt: "required", overage: "required", credits: "optional" } as const satisfies KeySpec<UsageAnswer>;
const CHECK_ALLOWED = { allowed: "required", feature: "required", limit: "required", used: "required", remaining: "required", resetsAt: "required", overage: "required", cost: "optional", credits: "optional" } as const satisfies KeySpec<CheckAllowed>;
const CHECK_REFUSED = { allowed: "required", error: "required" } as const satisfies KeySpec<CheckRefused>;
const ERROR_BODY = { error: "required" } as const satisfies KeySpec<ErrorBody>;
const ERROR = {
  other: { code: "required", message: "required" } as const satisfies KeySpec<{ readonly code: string; readonly message: string }>,
  quota_exceeded: { code: "required", message: "required", feature: "required", limit: "required", used: "required", remaining: "required", resetsAt: "required", overage: "required" } as const satisfies KeySpec<Variant<ErrorObject, "code", "quota_exceeded">>,
  concurrency_exceeded: { code: "required", message: "required", feature: "required", limit: "required", active: "required", resetsAt: "required" } as const satisfies KeySpec<Variant<ErrorObject, "code", "concurrency_exceeded">>,
  insufficient_credits: { code: "required", message: "required", feature: "required", cost: "required", credits: "required" } as const satisfies KeySpec<Variant<ErrorObject, "code", "insufficient_credits">>,
};
const BATCH = { results: "required" } as const satisfies KeySpec<BatchAnswer>;
const BATCH_OK = { status: "required", replayed: "optional", ...USAGE } as const satisfies KeySpec<Variant<BatchResult, "status", 200>>;
const WITH_STATUS = { status: "required", ...ERROR_BODY } as const satisfies KeySpec<Exclude<BatchResult, { readonly status: 200 }>>;
const LEASE = { leaseId: "required", expiresAt: "required", active: "required", limit: "required", feature: "required" } as const satisfies KeySpec<LeaseAnswer>;
const RELEASE = { leaseId: "required", feature: "required", releasedAt: "required", expired: "required", usage: "optional" } as const satisfies KeySpec<ReleaseAnswer>;
const RELEASE_USAGE_OK = { status: "required", ...USAGE } as const satisfies KeySpec<Variant<ReleaseUsage, "status", 200>>;
const RELEASE_USAGE_REFUSED = { status: "required", error: "required" } as const satisfies KeySpec<Exclude<ReleaseUsage, { readonly status: 200 }>>;
const RELEASE_USAGE_ERROR = { code: "required", message: "required" } as const satisfies KeySpec<Exclude<ReleaseUsage, { readonly status: 200 }>["error"]>;
const TOKEN = { token: "required", keyId: "required", userId: "required", audience: "required", expiresAt: "required", entitlements: "required" } as const satisfies KeySpec<TokenAnswer>;
const ACTIVATION_CODE = { code: "required", userId: "required", expiresAt: "required", tokenTtlSeconds: "required" } as const satisfies KeySpec<ActivationCodeAnswer>;
const TOKEN_PAIR = { activationId: "required", userId: "required", domain: "required", tokenType: "required", accessToken: "required", expiresAt: "required", refreshToken: "required", refreshExpiresAt: "required", entitlements: "required" } as const satisfies KeySpec<TokenPairAnswer>;
const ACTIVATION = { id: "required", userId: "required", domain: "required", createdAt: "required", lastRefreshedAt: "required", refreshExpiresAt: "required", rotations: "required", status: "required", revokedAt: "required", revokedReason: "required" } as const satisfies KeySpec<Activation>;
const ACTIVATIONS = { userId: "required", activations: "required" } as const satisfies KeySpec<ActivationsAnswer>;
const TOKEN_FEATURE = { limit: "optional", remaining: "optional", resetsAt: "optional", value: "optional" } as const satisfies KeySpec<TokenFeature>;

type Spec = Readonly<Record<string, Presence>>;
type Json = { readonly [key: string]: any };

describe("REST answer types of @verity/client match the real server's answers", () => {
  let world: World;
  /** Keys seen per key set, to show at the end that every declared member occurs in some answer. */
  const seen = new Map<Spec, Set<string>>();
  const problems: string[] = [];

  /** The object at `where` has every required key of `spec`, and no key `spec` does not declare. */
  const shape = (where: string, value: unknown, spec: Spec): Json => {
    expect(value, `${where} is an object`).toBeTypeOf("object");
    expect(value, `${where} is an object`).not.toBeNull();
    const keys = Object.keys(value as object);
    for (const k of keys) if (!(k in spec)) problems.push(`${where}: the server sends "${k}", which the type does not declare`);
    for (const [k, p] of Object.entries(spec)) if (p === "required" && !keys.includes(k)) problems.push(`${where}: the type requires "${k}", which the server does not send`);
    const held = seen.get(spec) ?? new Set<string>();
    for (const k of keys) held.add(k);
    seen.set(spec, held);
    return value as Json;
  };
  const each = (where: string, values: unknown, spec: Spec) => {
    expect(Array.isArray(values), `${where} is an array`).toBe(true);
    expect((values as unknown[]).length, `${where} is not empty (else nothing is compared)`).toBeGreaterThan(0);
    (values as unknown[]).forEach((v, i) => shape(`${where}[${i}]`, v, spec));
  };
  const errorShape = (where: string, body: unknown): void => {
    const error = shape(where, body, ERROR_BODY).error as Json;
    shape(`${where}.error`, error, (ERROR as Record<string, Spec>)[error.code] ?? ERROR.other);
  };

  const call = async (method: "GET" | "POST", path: string, key: string, body?: unknown): Promise<{ readonly status: number; readonly body: Json }> => {
    const res = await fetch(`${world.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  beforeAll(async () => {
    world = await startWorld({ proUsers: ["u_use"] });
    await knownUser(world.server, "u_buyer", world.now - 30);
    await buyLifetime(world.server, "u_buyer", "cs_contract", world.now - 20);
  });
  afterAll(async () => world?.stop());

  it("reads: entitlements, subscription, credits, plans, checkouts, errors", async () => {
    const entitlements = shape("entitlements", (await call("GET", "/api/users/u_pro/entitlements", world.readKey)).body, ENTITLEMENTS);
    each("entitlements.entitlements", entitlements.entitlements, ENTITLEMENT);

    const sub = shape("subscription", (await call("GET", "/api/users/u_pro/subscription", world.readKey)).body, SUBSCRIPTION_ANSWER);
    shape("subscription.subscription", sub.subscription, SUBSCRIPTION);
    each("subscription.subscriptions", sub.subscriptions, SUBSCRIPTION);

    const credits = shape("credits", (await call("GET", "/api/users/u_pro/credits", world.readKey)).body, CREDITS);
    shape("credits.balances", credits.balances, BALANCES);
    each("credits.ledger", credits.ledger, LEDGER_ENTRY);

    const plans = shape("plans", (await call("GET", "/api/plans", world.readKey)).body, PLANS);
    each("plans.plans", plans.plans, PLAN);
    for (const [i, plan] of (plans.plans as Json[]).entries()) {
      each(`plans.plans[${i}].prices`, plan.prices, PLAN_PRICE);
      for (const [j, f] of (plan.features as Json[]).entries()) shape(`plans.plans[${i}].features[${j}]`, f, (PLAN_FEATURE as Record<string, Spec>)[f.kind] ?? {});
      if (plan.credits !== null) shape(`plans.plans[${i}].credits`, plan.credits, PLAN_CREDITS);
    }

    shape("checkout (pending)", (await call("GET", "/api/checkouts/stripe/cs_unknown", world.readKey)).body, CHECKOUT);
    const checkout = shape("checkout", (await call("GET", "/api/checkouts/stripe/cs_contract", world.readKey)).body, CHECKOUT);
    shape("checkout.order", checkout.order, ORDER);
    each("checkout.entitlements", checkout.entitlements, ENTITLEMENT);

    const missing = await call("GET", "/api/users/nobody/entitlements", world.readKey);
    expect(missing.status).toBe(404);
    errorShape("404", missing.body);
    expect(problems).toEqual([]);
  });

  it("writes: check, usage (one and batch), leases, tokens, and their refusals", async () => {
    const u = world.usageKey;
    shape("check", (await call("POST", "/v1/check", u, { userId: "u_use", feature: "api_calls" })).body, CHECK_ALLOWED);
    shape("check (credits)", (await call("POST", "/v1/check", u, { userId: "u_use", feature: "ai_image" })).body, CHECK_ALLOWED);
    const noPlan = shape("check 402", (await call("POST", "/v1/check", u, { userId: "u_free", feature: "api_calls" })).body, CHECK_REFUSED);
    shape("check 402.error", noPlan.error, ERROR.other);
    const tooMany = shape("check 429", (await call("POST", "/v1/check", u, { userId: "u_use", feature: "api_calls", units: 9 })).body, CHECK_REFUSED);
    shape("check 429.error", tooMany.error, ERROR.quota_exceeded);

    shape("usage", (await call("POST", "/v1/usage", u, { userId: "u_use", feature: "api_calls", units: 3, idempotencyKey: "c-1" })).body, USAGE);
    const spent = await call("POST", "/v1/usage", u, { userId: "u_use", feature: "api_calls", units: 1, idempotencyKey: "c-2" });
    expect(spent.status).toBe(429);
    errorShape("usage 429", spent.body);
    const image = shape("usage (credits)", (await call("POST", "/v1/usage", u, { userId: "u_use", feature: "ai_image", units: 1, idempotencyKey: "c-3" })).body, USAGE);
    shape("usage (credits).credits", image.credits, BALANCES);
    const short = await call("POST", "/v1/usage", u, { userId: "u_use", feature: "ai_image", units: 1000, idempotencyKey: "c-4" });
    expect(short.status).toBe(402);
    errorShape("usage 402", short.body);

    const batch = await call("POST", "/v1/usage", u, { records: [{ userId: "u_use", feature: "ai_image", units: 1, idempotencyKey: "c-5" }, { userId: "u_use", feature: "api_calls", units: 1, idempotencyKey: "c-6" }, { userId: "u_use", feature: "ai_image", units: 1, idempotencyKey: "c-5" }] });
    const [ok, refused, replayed] = shape("batch", batch.body, BATCH).results as Json[];
    shape("batch.results[0].credits", shape("batch.results[0]", ok, BATCH_OK).credits, BALANCES);
    errorShape("batch.results[1]", { error: shape("batch.results[1]", refused, WITH_STATUS).error });
    expect(shape("batch.results[2]", replayed, BATCH_OK).replayed).toBe(true);

    const lease = shape("lease", (await call("POST", "/v1/leases", u, { userId: "u_use", feature: "tasks", idempotencyKey: "l-1" })).body, LEASE);
    const held = await call("POST", "/v1/leases", u, { userId: "u_use", feature: "tasks", idempotencyKey: "l-2" });
    expect(held.status).toBe(429);
    errorShape("lease 429", held.body);
    const released = shape("release", (await call("POST", `/v1/leases/${lease.leaseId}/release`, u, { usage: { feature: "ai_image", units: 1 } })).body, RELEASE);
    shape("release.usage.credits", shape("release.usage", released.usage, RELEASE_USAGE_OK).credits, BALANCES);
    const second = shape("lease 2", (await call("POST", "/v1/leases", u, { userId: "u_use", feature: "tasks", idempotencyKey: "l-3" })).body, LEASE);
    const refusedUsage = shape("release (usage refused)", (await call("POST", `/v1/leases/${second.leaseId}/release`, u, { usage: { feature: "api_calls", units: 1 } })).body, RELEASE);
    shape("release.usage (refused).error", shape("release.usage (refused)", refusedUsage.usage, RELEASE_USAGE_REFUSED).error, RELEASE_USAGE_ERROR);
    shape("release (no usage)", (await call("POST", `/v1/leases/${second.leaseId}/release`, u, {})).body, RELEASE);

    const token = shape("token", (await call("POST", "/v1/tokens", world.tokensKey, { userId: "u_use", audience: "a.example.com" })).body, TOKEN);
    for (const [feature, stated] of Object.entries(token.entitlements as Json)) shape(`token.entitlements.${feature}`, stated, TOKEN_FEATURE);

    const code = shape("activation code", (await call("POST", "/v1/activation-codes", world.tokensKey, { userId: "u_use" })).body, ACTIVATION_CODE);
    const pair = shape("activate", (await call("POST", "/v1/activate", world.tokensKey, { code: code.code, domain: "a.example.com" })).body, TOKEN_PAIR);
    for (const [feature, stated] of Object.entries(pair.entitlements as Json)) shape(`activate.entitlements.${feature}`, stated, TOKEN_FEATURE);
    shape("refresh", (await call("POST", "/v1/refresh", world.tokensKey, { refreshToken: pair.refreshToken, domain: "a.example.com" })).body, TOKEN_PAIR);
    const listed = shape("activations", (await call("GET", "/api/users/u_use/activations", world.readKey)).body, ACTIVATIONS);
    each("activations.activations", listed.activations, ACTIVATION);
    shape("revoke", (await call("POST", `/v1/activations/${pair.activationId}/revoke`, world.tokensKey, {})).body, ACTIVATION);
    const gone = await call("POST", "/v1/refresh", world.tokensKey, { refreshToken: pair.refreshToken, domain: "a.example.com" });
    expect(gone.status).toBe(401);
    errorShape("refresh 401", gone.body);
    expect(problems).toEqual([]);
  });

  it("saw every member each type declares in some answer", () => {
    const specs: Readonly<Record<string, Spec>> = {
      ENTITLEMENT, ENTITLEMENTS, SUBSCRIPTION, SUBSCRIPTION_ANSWER, BALANCES, LEDGER_ENTRY, CREDITS, PLAN_PRICE, PLAN_CREDITS, PLAN, PLANS, ORDER, CHECKOUT, USAGE, CHECK_ALLOWED, CHECK_REFUSED, ERROR_BODY,
      BATCH, BATCH_OK, WITH_STATUS, LEASE, RELEASE, RELEASE_USAGE_OK, RELEASE_USAGE_REFUSED, RELEASE_USAGE_ERROR, TOKEN, TOKEN_FEATURE, ACTIVATION_CODE, TOKEN_PAIR, ACTIVATION, ACTIVATIONS,
      ...Object.fromEntries(Object.entries(PLAN_FEATURE).map(([k, v]) => [`PLAN_FEATURE.${k}`, v])),
      ...Object.fromEntries(Object.entries(ERROR).map(([k, v]) => [`ERROR.${k}`, v])),
    };
    const unseen = Object.entries(specs).flatMap(([name, spec]) => Object.keys(spec).filter((k) => !seen.get(spec)?.has(k)).map((k) => `${name}.${k}`));
    expect(unseen).toEqual([]);
  });
});
