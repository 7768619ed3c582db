// API keys: random secrets shown once, stored only as SHA-256 hashes, each with a set of scopes.
import { createHash, randomBytes } from "node:crypto";
import type { Principal, Scope } from "../api/scopes.js";
import { deleteApiKey, insertApiKey, principalByHash, storedApiKeys, type StoredKey } from "../store/api-keys.js";
import type { Database } from "../store/database.js";
import { bearerToken } from "../store/read-model.js";

/** How a key is stored and looked up: its SHA-256, hex. */
export const hashKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

export type CreatedKey = { readonly id: string; readonly key: string; readonly name: string | null; readonly scopes: readonly Scope[] };

export const createApiKey = async (db: Database, scopes: readonly Scope[], now: Date, name: string | null = null): Promise<CreatedKey> => {
  const secret = randomBytes(24).toString("base64url");
  // The id is shown in listings and logs, so it shares nothing with the secret.
  const id = `key_${randomBytes(6).toString("hex")}`;
  const key = `vty_${secret}`;
  await insertApiKey(db, { id, hash: hashKey(key), name, scopes, createdAt: now });
  return { id, key, name, scopes };
};

export const listApiKeys = (db: Database): Promise<StoredKey[]> => storedApiKeys(db);

/** Removes a key; every process stops accepting it at once (see store/read-model.ts). Returns whether it existed. */
export const revokeApiKey = (db: Database, id: string): Promise<boolean> => deleteApiKey(db, id);

/**
 * The key's principal from an `Authorization: Bearer …` header, or null when absent or unknown,
 * straight from the database (the server asks its read model, which remembers answers briefly).
 */
export const authenticate = async (db: Database, header: string | undefined): Promise<Principal | null> => {
  const token = bearerToken(header);
  return token === null ? null : principalByHash(db, hashKey(token));
};
