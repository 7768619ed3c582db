// What every Creem fact builder shares: the provider-neutral helpers of ../context.ts bound to
// Creem, and the rule that finds the app's own user id in Creem `metadata`.
import { appUserIdIn, factKit } from "../context.js";
import { textOrInteger } from "../json.js";

export const { factContext, identityKeys, factBase } = factKit("creem");

/**
 * The app's user id from Creem `metadata`: the first configured key holding a non-blank string or
 * an integer (Creem metadata is free JSON, so an app may pass its numeric id as a number).
 */
export const appUserIdFromMetadata = (metadata: unknown, userIdKeys: readonly string[]): string | null =>
  appUserIdIn(metadata, userIdKeys, textOrInteger);

/** The first app user id found among several metadata objects (e.g. a checkout's, then its subscription's). */
export const appUserIdFromAny = (metadatas: readonly unknown[], userIdKeys: readonly string[]): string | null => {
  for (const metadata of metadatas) {
    const id = appUserIdFromMetadata(metadata, userIdKeys);
    if (id !== null) return id;
  }
  return null;
};
