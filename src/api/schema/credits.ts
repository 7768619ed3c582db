// Credits: a user's balances per bucket and its ledger (grants, debits, expiries, revocations),
// mirroring GET /api/users/{id}/credits.
import type { Balances, LedgerEntry } from "../../domain/credits.js";
import { builder } from "../builder.js";

const BalancesRef = builder.objectRef<Balances>("CreditBalances").implement({
  description: "Credits held now, per bucket: subscription credits are drawn first, then one-time ones.",
  fields: (t) => ({ subscription: t.exposeInt("subscription"), oneTime: t.exposeInt("oneTime") }),
});

const LedgerEntryRef = builder.objectRef<LedgerEntry>("CreditLedgerEntry").implement({
  fields: (t) => ({
    at: t.field({ type: "DateTime", resolve: (e) => new Date(e.at) }),
    bucket: t.exposeString("bucket", { description: "subscription or oneTime." }),
    kind: t.exposeString("kind", { description: "grant, debit, expiry or revocation." }),
    amount: t.exposeInt("amount", { description: "Positive for a grant, negative otherwise: the ledger sums to the balance." }),
    balanceAfter: t.exposeInt("balanceAfter", { description: "The bucket's balance after this entry." }),
    cause: t.exposeString("cause", { description: "The order that granted (or lost) the credits, or the usage record that drew them." }),
    note: t.exposeString("note"),
  }),
});

export type CreditsView = { readonly balances: Balances; readonly ledger: readonly LedgerEntry[] };

export const CreditsRef = builder.objectRef<CreditsView>("Credits").implement({
  fields: (t) => ({
    balances: t.field({ type: BalancesRef, resolve: (c) => c.balances }),
    ledger: t.field({
      type: [LedgerEntryRef],
      description: "Oldest first; `offset` and `first` page through it.",
      args: { first: t.arg.int({ defaultValue: 100 }), offset: t.arg.int({ defaultValue: 0 }) },
      resolve: (c, args) => {
        const offset = Math.max(0, args.offset ?? 0);
        return c.ledger.slice(offset, offset + Math.min(500, Math.max(1, args.first ?? 100)));
      },
    }),
  }),
});
