// API keys as stored: the SHA-256 of each secret (never the secret) and its scopes.
import { isScope, type Principal, type Scope } from "../api/scopes.js";
import type { Database } from "./database.js";
import { announceKeysChanged } from "./read-model.js";

export type StoredKey = { readonly id: string; readonly name: string | null; readonly scopes: readonly string[]; readonly createdAt: Date };

export const insertApiKey = async (
  db: Database,
  key: { readonly id: string; readonly hash: string; readonly name: string | null; readonly scopes: readonly Scope[]; readonly createdAt: Date },
): Promise<void> => {
  await db.prisma.apiKey.create({ data: { id: key.id, hash: key.hash, name: key.name, scopes: key.scopes.join(","), createdAt: key.createdAt } });
};

/** Every key, oldest first, without its hash. */
export const storedApiKeys = async (db: Database): Promise<StoredKey[]> =>
  (await db.prisma.apiKey.findMany({ orderBy: { createdAt: "asc" } })).map((k) => ({ id: k.id, name: k.name, scopes: k.scopes.split(","), createdAt: k.createdAt }));

/**
 * Deletes a key; whether it existed. Every process hears of it at once: on PostgreSQL through the
 * read models' NOTIFY channel, on SQLite because the file's data version moves (store/read-model.ts).
 */
export const deleteApiKey = async (db: Database, id: string): Promise<boolean> => {
  const deleted = (await db.prisma.apiKey.deleteMany({ where: { id } })).count > 0;
  if (deleted) await announceKeysChanged(db);
  return deleted;
};

/** The principal of the key stored with this hash, or null. */
export const principalByHash = async (db: Database, hash: string): Promise<Principal | null> => {
  const row = await db.prisma.apiKey.findUnique({ where: { hash } });
  return row === null ? null : { keyId: row.id, scopes: new Set(row.scopes.split(",").filter(isScope)) };
};
