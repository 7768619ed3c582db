// Identity keys: every id a user can be known by, as one namespaced string. Facts name the keys
// they touch; the keys named by one fact belong to one user, except that two app user ids are
// never one user (see resolver/identity.ts for the rule).
import type { Provider } from "./provider.js";

export type IdentityKey = string;

export type IdentityKind = "app" | "customer" | "subscription" | "checkout" | "invoice" | "payment";

export const appUserKey = (appUserId: string): IdentityKey => `app:${appUserId}`;
export const customerKey = (provider: Provider, id: string): IdentityKey => `customer:${provider}:${id}`;
export const objectKey = (kind: Exclude<IdentityKind, "app" | "customer">, provider: Provider, id: string): IdentityKey =>
  `${kind}:${provider}:${id}`;

export type ParsedKey = { readonly kind: IdentityKind; readonly provider: Provider | null; readonly value: string };

export const parseKey = (key: IdentityKey): ParsedKey => {
  const first = key.indexOf(":");
  const kind = key.slice(0, first) as IdentityKind;
  if (kind === "app") return { kind, provider: null, value: key.slice(first + 1) };
  const second = key.indexOf(":", first + 1);
  return { kind, provider: key.slice(first + 1, second) as Provider, value: key.slice(second + 1) };
};

/** FNV-1a, 64 bit: a stable, pure digest for ids derived from data. */
export const fnv1a64 = (text: string): string => {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * prime) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
};

/** A user's internal id: derived from the first key that revealed the user, so replay gives the same id. */
export const userIdFor = (firstKey: IdentityKey): string => `usr_${fnv1a64(firstKey)}`;
