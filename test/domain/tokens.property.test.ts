// What an entitlement token states: every enabled feature and nothing else, and an expiry that is
// never past its lifetime nor past the end of any feature it states.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entitlementsAt, isGrantLive, type Grant } from "../../src/domain/entitlements.js";
import { featureEnd, tokenClaims } from "../../src/domain/tokens.js";
import { testCatalog } from "../builders/histories.js";

const NOW = 1_780_000_000_000;
const FEATURES = ["api_calls", "export"] as const;

const arbGrant = fc.record({
  feature: fc.constantFrom(...FEATURES),
  sourceId: fc.constantFrom("stripe:sub_a", "stripe:sub_b", "stripe:cs_lifetime"),
  // Ended, ending within the hour or the day, or no end known.
  validUntil: fc.option(fc.integer({ min: NOW - 3_600_000, max: NOW + 86_400_000 }), { nil: null }),
}).map(
  (g): Grant => ({
    id: `${g.sourceId}:${g.feature}`,
    userId: "usr_1",
    feature: g.feature,
    source: "pro",
    sourceKind: "subscription",
    sourceId: g.sourceId,
    spec: g.feature === "export" ? { _tag: "Flag" } : { _tag: "Metered", limit: 100, per: "month", overage: "block", decimals: 0 },
    validUntil: g.validUntil,
    periodEnd: null,
  }),
);

describe("entitlement token claims", () => {
  it("state exactly the enabled features, and expire before any of them ends and within their lifetime", () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbGrant, { selector: (g) => g.id, maxLength: 6 }), fc.integer({ min: 1, max: 86_400 }), (grants, lifetime) => {
        const entitlements = entitlementsAt(grants, testCatalog, NOW);
        const claims = tokenClaims({ subject: "u_1", audience: "example.com", entitlements, grants, now: NOW, lifetimeSeconds: lifetime });
        expect(Object.keys(claims.ent).sort()).toEqual(entitlements.filter((e) => e.enabled).map((e) => e.feature).sort());
        expect(claims.iat).toBe(Math.floor(NOW / 1000));
        expect(claims.exp).toBeLessThanOrEqual(claims.iat + lifetime);
        expect(claims.exp).toBeGreaterThanOrEqual(claims.iat);
        for (const feature of Object.keys(claims.ent)) {
          // Until the token expires, the feature it states is still granted by some grant.
          const end = featureEnd(grants, feature, NOW);
          if (end !== null) expect(claims.exp * 1000).toBeLessThanOrEqual(end);
          if (claims.exp > claims.iat) expect(grants.some((g) => g.feature === feature && isGrantLive(g, claims.exp * 1000 - 1))).toBe(true);
        }
      }),
    );
  });

  it("lives its whole lifetime when no stated feature ends before, and states limits and values", () => {
    const grants: Grant[] = [
      { id: "s:export", userId: "u", feature: "export", source: "pro", sourceKind: "lifetime", sourceId: "s", spec: { _tag: "Flag" }, validUntil: null, periodEnd: null },
      { id: "s:api_calls", userId: "u", feature: "api_calls", source: "pro", sourceKind: "lifetime", sourceId: "s", spec: { _tag: "Metered", limit: 100, per: "month", overage: "block", decimals: 0 }, validUntil: NOW + 7_200_000, periodEnd: null },
    ];
    const claims = tokenClaims({ subject: "u", audience: "a", entitlements: entitlementsAt(grants, testCatalog, NOW), grants, now: NOW, lifetimeSeconds: 900 });
    expect(claims.exp - claims.iat).toBe(900);
    expect(claims.ent).toEqual({ export: {}, api_calls: { limit: 100, remaining: 100, resetsAt: expect.any(Number) } });
    // The metered feature ends in two hours: a longer token stops then.
    expect(tokenClaims({ subject: "u", audience: "a", entitlements: entitlementsAt(grants, testCatalog, NOW), grants, now: NOW, lifetimeSeconds: 86_400 }).exp).toBe(Math.floor((NOW + 7_200_000) / 1000));
  });
});
