// What every Stripe fact builder shares: the provider-neutral helpers of ../context.ts bound to
// Stripe, and the rule that finds the app's own user id in Stripe metadata.
import { appUserIdIn, factKit } from "../context.js";
import { text } from "../json.js";

export const { factContext, identityKeys, factBase } = factKit("stripe");

/** The app's user id from Stripe metadata: the first configured key holding a non-empty string (Stripe metadata values are strings). */
export const appUserIdFromMetadata = (metadata: unknown, userIdKeys: readonly string[]): string | null => appUserIdIn(metadata, userIdKeys, text);
