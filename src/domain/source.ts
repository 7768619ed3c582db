// Where a stored event comes from: a payment provider's webhook (or its API), or the app itself
// through Verity's own write endpoints (usage records). Provider events are folded by the
// resolver; the app's records are summed into usage counters (see usage.ts).
import { PROVIDERS, type Provider } from "./provider.js";

/** The source name the app's own records are stored under, beside the providers'. */
export const APP_SOURCE = "app";

export const SOURCES = [...PROVIDERS, APP_SOURCE] as const;
export type Source = (typeof SOURCES)[number];

export const isSource = (value: string): value is Source => (SOURCES as readonly string[]).includes(value);
