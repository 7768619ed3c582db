// What an API key may read. Keys carry scopes; every read names the scope it needs.
export const SCOPES = ["read", "events"] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

/** Who is asking: the key's id and its scopes. */
export type Principal = { readonly keyId: string; readonly scopes: ReadonlySet<Scope> };
