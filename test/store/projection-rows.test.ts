// projectionRows, the one mapping from a fold's result to the rows the projector writes and verify
// compares: rows that the database's constraints accept, transitions numbered per final owner, and
// entitlement rows that read back as the grants they were written from.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Grant } from "../../src/domain/entitlements.js";
import { replayEvents } from "../../src/domain/resolver/step.js";
import { normalizeStripeEvent } from "../../src/providers/stripe/normalize.js";
import { grantRow, projectionRows, toGrant } from "../../src/store/projection-rows.js";
import { arbHistory, testCatalog } from "../builders/histories.js";
import { asStoredInput } from "../builders/stripe.js";

const base = { id: "stripe:sub_1:api_calls", userId: "usr_1", feature: "api_calls", source: "pro", sourceKind: "subscription", sourceId: "stripe:sub_1" } as const;

describe("projectionRows", () => {
  it.each<Grant>([
    { ...base, spec: { _tag: "Flag" }, validUntil: null, periodEnd: null },
    { ...base, spec: { _tag: "Metered", limit: 10_000, per: "month", overage: "block", decimals: 0 }, validUntil: 1_717_200_000_000, periodEnd: null },
    { ...base, spec: { _tag: "Metered", limit: 50_000, per: "period", overage: "allow", decimals: 3 }, validUntil: null, periodEnd: 1_719_800_000_000 },
    { ...base, spec: { _tag: "Metered", limit: 5, per: "year", overage: "block", decimals: 0 }, validUntil: 1, periodEnd: 2 },
    { ...base, sourceKind: "lifetime", spec: { _tag: "Credits", credits: 300 }, validUntil: null, periodEnd: null },
    { ...base, spec: { _tag: "Concurrent", concurrent: 3, leaseSeconds: 300 }, validUntil: null, periodEnd: 1_719_800_000_000 },
    { ...base, spec: { _tag: "Value", value: 2.5 }, validUntil: null, periodEnd: null },
    { ...base, spec: { _tag: "Value", value: 0 }, validUntil: null, periodEnd: null },
  ])("writes a $spec._tag grant as a row that reads back as the same grant", (grant) => {
    expect(toGrant(grantRow(grant))).toEqual(grant);
  });

  it("gives rows the database accepts: every row's user is a user, keys unique, transitions numbered per user", () => {
    fc.assert(
      fc.property(arbHistory, (history) => {
        const events = history.events.map((e) => normalizeStripeEvent(asStoredInput(e), { userIdKeys: testCatalog.userIdKeys }));
        const { state, transitions } = replayEvents(testCatalog, events);
        const rows = projectionRows(state, transitions, testCatalog);
        const users = new Set(rows.users.map((u) => u.id));
        expect(users.size).toBe(rows.users.length);
        for (const table of [rows.identities, rows.subscriptions, rows.orders, rows.grants, rows.transitions]) {
          for (const r of table) expect(users).toContain(r.userId);
        }
        expect(new Set(rows.identities.map((i) => i.key)).size).toBe(rows.identities.length);
        expect(rows.transitions).toHaveLength(transitions.length);
        const next = new Map<string, number>();
        for (const t of rows.transitions) {
          expect(t.ordinal).toBe(next.get(t.userId) ?? 0);
          expect(t.id).toBe(`${t.userId}:${t.ordinal}`);
          next.set(t.userId, t.ordinal + 1);
        }
      }),
      { numRuns: 50 },
    );
  });
});
