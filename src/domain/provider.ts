// The payment providers Verity understands.
export const PROVIDERS = ["stripe", "paddle", "lemonsqueezy", "creem"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const isProvider = (value: string): value is Provider => (PROVIDERS as readonly string[]).includes(value);
