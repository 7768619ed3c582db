// What `verity simulate` sends: per provider, the deliveries of a scenario (built by that
// provider's module) and how a delivery is signed, as the provider signs it.
import type { Provider } from "../domain/provider.js";
import { paddleSignatureHeader, PADDLE_SIGNATURE_HEADER } from "../providers/paddle/verify.js";
import { stripeSignatureHeader } from "../providers/stripe/verify.js";
import { creemSignatureHeader, CREEM_SIGNATURE_HEADER } from "../providers/creem/verify.js";
import { creemScenario } from "./creem.js";
import { lemonSqueezySignature, SIGNATURE_HEADER as LEMONSQUEEZY_SIGNATURE_HEADER } from "../providers/lemonsqueezy/verify.js";
import { lemonSqueezyScenario } from "./lemonsqueezy.js";
import { paddleScenario } from "./paddle.js";
import { toRawBody } from "./payloads/stripe.js";
import { stripeScenario } from "./stripe.js";

export const SCENARIOS = ["subscription", "renewal", "past-due", "cancel", "purchase", "refund"] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const isScenario = (s: string): s is Scenario => (SCENARIOS as readonly string[]).includes(s);

export type ScenarioInput = {
  readonly user: string;
  readonly price: string;
  /** Minor units (cents) the price costs. */
  readonly amount: number;
  readonly currency: string;
  /** Now, in seconds. */
  readonly now: number;
};

/** One request a provider would send: the event's id (null where the body has none), its type, and the exact bytes. */
export type Delivery = { readonly id: string | null; readonly type: string; readonly body: Uint8Array };

export type Simulated = {
  readonly scenario: (scenario: Scenario, input: ScenarioInput) => Delivery[];
  /** The signature header for a body, as the provider sends it at `nowSeconds`. */
  readonly sign: (body: Uint8Array, secret: string, nowSeconds: number) => readonly [string, string];
};

export const SIMULATED: Readonly<Partial<Record<Provider, Simulated>>> = {
  stripe: {
    scenario: (scenario, input) => stripeScenario(scenario, input).map((e) => ({ id: e.id, type: e.type, body: toRawBody(e) })),
    sign: (body, secret, now) => ["stripe-signature", stripeSignatureHeader(body, secret, now)],
  },
  paddle: {
    scenario: paddleScenario,
    sign: (body, secret, now) => [PADDLE_SIGNATURE_HEADER.toLowerCase(), paddleSignatureHeader(body, secret, now)],
  },
  lemonsqueezy: {
    scenario: lemonSqueezyScenario,
    sign: (body, secret) => [LEMONSQUEEZY_SIGNATURE_HEADER.toLowerCase(), lemonSqueezySignature(body, secret)],
  },
  creem: {
    scenario: creemScenario,
    sign: (body, secret) => [CREEM_SIGNATURE_HEADER, creemSignatureHeader(body, secret)],
  },
};
