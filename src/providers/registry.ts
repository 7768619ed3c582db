// Every provider's webhook edge and normalizer, by name. A provider without a normalizer yet
// stores its events and derives no facts.
import { noHint, type NormalizedEvent } from "../domain/event.js";
import type { Provider } from "../domain/provider.js";
import { normalizeCreemEvent } from "./creem/normalize.js";
import { creemWebhook } from "./creem/webhook.js";
import { normalizeLemonSqueezyEvent } from "./lemonsqueezy/normalize.js";
import { lemonsqueezyWebhook } from "./lemonsqueezy/webhook.js";
import { checkoutRef as lemonSqueezyCheckoutRef } from "./lemonsqueezy/context.js";
import { normalizePaddleEvent } from "./paddle/normalize.js";
import { paddleWebhook } from "./paddle/webhook.js";
import { normalizeStripeEvent } from "./stripe/normalize.js";
import { stripeApiNeeds } from "./stripe/api-needs.js";
import { stripeWebhook } from "./stripe/webhook.js";
import type { ApiNeeds, NormalizeOptions, Normalizer, StoredEventInput, WebhookScheme } from "./types.js";

const factless =
  (provider: Provider): Normalizer =>
  (event) => ({ provider, eventId: event.providerEventId, type: event.type, occurredAt: event.occurredAt, hint: noHint, facts: [] });

export const normalizers: Readonly<Record<Provider, Normalizer>> = {
  stripe: normalizeStripeEvent,
  paddle: normalizePaddleEvent,
  lemonsqueezy: normalizeLemonSqueezyEvent,
  creem: normalizeCreemEvent,
};

/** Providers whose webhooks Verity accepts. */
export const webhookSchemes: Readonly<Partial<Record<Provider, WebhookScheme>>> = {
  stripe: stripeWebhook,
  creem: creemWebhook,
  paddle: paddleWebhook,
  lemonsqueezy: lemonsqueezyWebhook,
};

/**
 * How a checkout id the app holds (from a success page's redirect) is keyed in Verity, where a
 * provider keys it otherwise; the others key it as given.
 */
export const checkoutRefs: Readonly<Partial<Record<Provider, (id: string) => string>>> = {
  lemonsqueezy: lemonSqueezyCheckoutRef,
};

/** What each provider needs read from its API to complete some of its events (see ApiNeeds). */
export const apiNeeds: Readonly<Partial<Record<Provider, ApiNeeds>>> = {
  stripe: stripeApiNeeds,
};

/**
 * A normalizer must not throw; if one does on some stored body (a bug), that event derives no facts
 * rather than blocking its user's projection and every rebuild. Deterministic: the same body fails
 * the same way in replay, so replay still equals the projections.
 */
export const normalize = (provider: Provider, event: StoredEventInput, options: NormalizeOptions): NormalizedEvent => {
  try {
    return normalizers[provider](event, options);
  } catch {
    return factless(provider)(event, options);
  }
};
