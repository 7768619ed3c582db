// What every Paddle fact builder shares: the provider-neutral helpers of ../context.ts bound to
// Paddle, and the rule that finds the app's own user id in Paddle `custom_data`.
import { appUserIdIn, factKit } from "../context.js";
import { textOrInteger } from "../json.js";

export const { factContext, identityKeys, factBase } = factKit("paddle");

/**
 * The app's user id from Paddle `custom_data` (set at checkout, copied onto the transaction and the
 * subscription; null when unset): the first configured key holding a non-blank string or an
 * integer. custom_data is free JSON, so an app may well store its numeric id as a number.
 */
export const appUserIdFromCustomData = (customData: unknown, userIdKeys: readonly string[]): string | null =>
  appUserIdIn(customData, userIdKeys, textOrInteger);
