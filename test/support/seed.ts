// A database filled the way the offline suites need it: one user's Stripe history (a Pro
// subscription through a late Checkout, and a Lifetime purchase that is partly refunded), delivered
// newest first and ingested as the server would (appended, then projected as each event arrives).
import type { Database } from "../../src/store/database.js";
import { buildHistory, PRICES, type History, type OneTimeScript, type SubscriptionScript } from "../builders/histories.js";
import { ingest } from "../offline/support.js";

/** What a suite chooses about the user's lifecycle; the rest is fixed. */
export type SeedChoices = {
  readonly subscription: Pick<SubscriptionScript, "trial" | "renewals" | "pastDue" | "cancel" | "planChange" | "paymentSucceededToo">;
  readonly oneTime: Pick<OneTimeScript, "ownCustomer" | "delayDays" | "expandRefunds" | "refundTie">;
};

/** The history of user_1 (customer cus_U1, subscription sub_U1) with the suite's choices. */
export const seedHistory = (choices: SeedChoices, salt: number): History =>
  buildHistory(
    [
      {
        customerMetadata: true,
        email: true,
        startOffset: 0,
        subscription: {
          shape: "basil",
          priceId: PRICES.proMonthly,
          checkout: "late_same_second",
          metadataUserId: false,
          cancelAtSignup: false,
          renewalTie: true,
          cancelTie: true,
          updateAtDeletion: true,
          ...choices.subscription,
        },
        oneTime: { priceId: PRICES.lifetime, identified: true, refund: "partial", refundEvents: "both", ...choices.oneTime },
        sharesFirstCustomer: false,
      },
    ],
    salt,
  );

/** Ingests the history into `db` in reverse order (newest event first). */
export const seedDatabase = async (db: Database, history: History): Promise<void> => ingest(db, [...history.events].reverse());
