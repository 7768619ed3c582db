// The client package's tests' world: a real Verity server with a catalog that has every kind of
// feature (flag, blocking and overage meters, a concurrency limit, a value, credits), users made by
// delivering signed Stripe webhooks built here, and keys of each scope the client's calls need.
import { Either } from "effect";
import { parseCatalog } from "../../src/config/catalog.js";
import type { Scope } from "../../src/api/scopes.js";
import type { Catalog } from "../../src/domain/catalog.js";
import { createApiKey } from "../../src/server/auth.js";
import { checkoutSession, customer, invoice, stripeEvent, subscription } from "../builders/stripe.js";
import { startServer, type RunningServer } from "../support/server.js";
import { deliver } from "../support/stripe-delivery.js";

export const PRICES = { pro: "price_client_pro", lifetime: "price_client_lifetime", pack: "price_client_pack" } as const;

/** Pro has one of each kind of feature; Lifetime a flag, bought once; the pack grants credits once. */
export const clientCatalog: Catalog = Either.getOrThrow(
  parseCatalog(
    JSON.stringify({
      plans: {
        pro: {
          name: "Pro",
          description: "For growing products",
          order: 1,
          highlighted: true,
          locales: { de: { name: "Profi", description: "Für wachsende Produkte" } },
          prices: { stripe: [{ id: PRICES.pro, amount: 1900, currency: "usd", interval: "month" }] },
          features: {
            export: true,
            api_calls: { limit: 3, per: "month", overage: "block" },
            cpu_seconds: { limit: 10, per: "period", overage: "allow", decimals: 3 },
            tasks: { concurrent: 1, leaseSeconds: 60 },
            max_duration_seconds: { value: 300 },
            ai_image: { credits: 5 },
          },
          credits: { amount: 100, per: "period" },
        },
        lifetime: { name: "Lifetime", order: 2, lifetime: true, prices: { stripe: [{ id: PRICES.lifetime, amount: 19900, currency: "usd", interval: "once" }] }, features: { export: true } },
        pack: { name: "Credit pack", order: 3, prices: { stripe: [PRICES.pack] }, features: {}, credits: { amount: 50, per: "once", expiresAfterDays: 365 } },
      },
    }),
    "verity.config.json",
  ),
);

export type World = {
  readonly server: RunningServer;
  /** read */
  readonly readKey: string;
  /** read, usage:write */
  readonly usageKey: string;
  /** tokens:write */
  readonly tokensKey: string;
  /** Seconds: the server's clock when the world was made. */
  readonly now: number;
  readonly stop: () => Promise<void>;
};

const DAY = 86_400;

/** Signed at the server's clock, so the signature is fresh whatever the events say happened. */
const signedNow = (server: RunningServer) => ({ timestamp: Math.floor(server.clock.now / 1000) });

/** A customer carrying the app's user id: Verity knows the user from then on, with no plan yet. */
export const knownUser = async (server: RunningServer, user: string, created: number): Promise<void> => {
  await deliver(server.url, stripeEvent({ id: `evt_cus_${user}`, type: "customer.created", created, object: customer({ id: `cus_${user}`, metadata: { user_id: user } }) }), signedNow(server));
};

/** An active Pro subscription of a known user, its first period paid (which grants the period's credits). */
export const subscribePro = async (server: RunningServer, user: string, created: number): Promise<void> => {
  const sub = subscription({ id: `sub_${user}`, customer: `cus_${user}`, status: "active", priceId: PRICES.pro, periodStart: created, periodEnd: created + 30 * DAY, shape: "basil" });
  await deliver(server.url, stripeEvent({ id: `evt_sub_${user}`, type: "customer.subscription.created", created, object: sub }), signedNow(server));
  const paid = invoice({ id: `in_${user}`, customer: `cus_${user}`, subscription: `sub_${user}`, priceId: PRICES.pro, amountPaid: 1900, billingReason: "subscription_create", created, shape: "legacy" });
  await deliver(server.url, stripeEvent({ id: `evt_in_${user}`, type: "invoice.paid", created, object: paid }), signedNow(server));
};

/** A completed checkout of the lifetime plan, paid once. */
export const buyLifetime = async (server: RunningServer, user: string, sessionId: string, created: number): Promise<void> => {
  const session = checkoutSession({ id: sessionId, mode: "payment", customer: `cus_${user}`, clientReferenceId: user, paymentIntent: `pi_${user}`, amountTotal: 19900, currency: "usd", metadata: { price_id: PRICES.lifetime, user_id: user }, created });
  await deliver(server.url, stripeEvent({ id: `evt_co_${user}`, type: "checkout.session.completed", created, object: session }), signedNow(server));
};

/** A server with `u_pro` (Pro, paid), `u_free` (known, no plan) and, when asked, more Pro users. */
export const startWorld = async (options: { readonly proUsers?: readonly string[] } = {}): Promise<World> => {
  const server = await startServer("sqlite", clientCatalog);
  const now = Math.floor(server.clock.now / 1000);
  const created = now - 60;
  for (const user of ["u_pro", ...(options.proUsers ?? [])]) {
    await knownUser(server, user, created);
    await subscribePro(server, user, created);
  }
  await knownUser(server, "u_free", created);
  const key = async (scopes: readonly Scope[]) => (await createApiKey(server.db, scopes, new Date())).key;
  return {
    server,
    readKey: await key(["read"]),
    usageKey: await key(["read", "usage:write"]),
    tokensKey: await key(["tokens:write"]),
    now,
    stop: () => server.stop(),
  };
};
