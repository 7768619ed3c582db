// Every provider's webhook edge and normalizer, by name. A provider without a normalizer yet
// stores its events and derives no facts.
import { noHint, type NormalizedEvent } from "../domain/event.js";
import type { Provider } from "../domain/provider.js";
import { normalizeCreemEvent } from "./creem/normalize.js";
import { creemWebhook } from "./creem/webhook.js";
import { normalizeLemonSqueezyEvent } from "./lemonsqueezy/normalize.js";
import { lemonsqueezyWebhook } from "./lemonsqueezy/webhook.js";
import { normalizePaddleEvent } from "./paddle/normalize.js";
import { paddleWebhook } from "./paddle/webhook.js";
import { normalizeStripeEvent } from "./stripe/normalize.js";
import { stripeWebhook } from "./stripe/webhook.js";
import type { NormalizeOptions, Normalizer, StoredEventInput, WebhookScheme } from "./types.js";

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

export const normalize = (provider: Provider, event: StoredEventInput, options: NormalizeOptions): NormalizedEvent =>
  normalizers[provider](event, options);
