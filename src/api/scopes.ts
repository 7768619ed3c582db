// What an API key may do. Keys carry scopes; every read names the scope it needs, and the app's
// own writes (usage records) need `usage:write`.
export const SCOPES = ["read", "events", "usage:write", "tokens:write", "dashboard", "metrics", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

/** Who is asking: the key's id and its scopes. */
export type Principal = { readonly keyId: string; readonly scopes: ReadonlySet<Scope> };
