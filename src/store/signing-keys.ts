// The Ed25519 keys that sign entitlement tokens. The first process that needs one makes it; all
// processes sign with the newest and publish every one (/.well-known/jwks.json), so a token signed by
// any process verifies against the keys any process serves. Two processes making the first key at
// once both keep theirs: both are published.
import type { Database } from "./database.js";

export type SigningKeyRow = { readonly id: string; readonly publicJwk: string; readonly privateJwk: string; readonly createdAt: Date };

/** Every signing key, newest first. */
export const signingKeys = async (db: Database): Promise<SigningKeyRow[]> => db.prisma.signingKey.findMany({ orderBy: [{ createdAt: "desc" }, { id: "asc" }] });

/** The keys, after making one with `make` when there is none. */
export const ensureSigningKey = async (db: Database, make: () => Promise<Omit<SigningKeyRow, "createdAt">>, now: Date): Promise<SigningKeyRow[]> => {
  const keys = await signingKeys(db);
  if (keys.length > 0) return keys;
  const key = await make();
  await db.prisma.signingKey.create({ data: { ...key, createdAt: now } });
  return signingKeys(db);
};

/** Adds a key that becomes the one tokens are signed with; the older ones stay published. */
export const addSigningKey = async (db: Database, key: Omit<SigningKeyRow, "createdAt">, now: Date): Promise<void> => {
  await db.prisma.signingKey.create({ data: { ...key, createdAt: now } });
};
