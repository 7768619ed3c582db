// Activation codes and refresh tokens under generated histories, decided as the store decides them
// (the fold of the facts so far, then the pure decision, then the fact appended): a code works once;
// a refresh token rotates once and a rotated one coming back ends the activation for good; the fold
// is the same in any order of the facts; and a token never outlives the entitlement it states by more
// than its lifetime, also when a refund ends that entitlement after the token was issued.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { activationsOf, redeemDecision, refreshDecision, REFRESH_SECONDS, RETRY_GRACE_MS, type ActivationFact } from "../../src/domain/activations.js";
import { entitlementsAt, isGrantLive, type Grant } from "../../src/domain/entitlements.js";
import { featureEnd, tokenClaims, type TokenClaims } from "../../src/domain/tokens.js";
import { testCatalog } from "../builders/histories.js";

const T0 = 1_780_000_000_000;
/** A distinct SHA-256-like hex per number; `tag` (c: code, f: refresh token) keeps the kinds apart. */
const hex = (n: number, tag: "c" | "f"): string => `${tag}${n.toString(16).padStart(63, "0")}`;

type Op =
  | { readonly _tag: "Issue"; readonly ttl: number }
  | { readonly _tag: "Redeem"; readonly code: number; readonly domain: number }
  | { readonly _tag: "Refresh"; readonly token: number; readonly domain: number }
  | { readonly _tag: "Revoke"; readonly activation: number }
  | { readonly _tag: "Refund"; readonly grant: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("Issue" as const), ttl: fc.integer({ min: 1, max: 1_800 }) }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("Redeem" as const), code: fc.nat(), domain: fc.nat(1) }) },
  { weight: 6, arbitrary: fc.record({ _tag: fc.constant("Refresh" as const), token: fc.nat(), domain: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Revoke" as const), activation: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Refund" as const), grant: fc.nat(2) }) },
);

/** Each step comes after the previous one by up to two minutes (the server's clock only moves on). */
const arbStep = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 120_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 * 86_400_000 }) });
const arbHistory = fc.array(fc.tuple(arbOp, arbStep), { minLength: 5, maxLength: 60, size: "max" });

const DOMAINS = ["a.example.com", "b.example.com"];

/** The grants a user holds, before refunds: a subscription with an end, one without, a lifetime purchase. */
const GRANTS: readonly Grant[] = [
  { id: "g0", userId: "u", feature: "export", source: "pro", sourceKind: "subscription", sourceId: "s0", spec: { _tag: "Flag" }, validUntil: T0 + 3 * 3_600_000, periodEnd: null },
  { id: "g1", userId: "u", feature: "api_calls", source: "pro", sourceKind: "subscription", sourceId: "s1", spec: { _tag: "Metered", limit: 100, per: "month", overage: "block", decimals: 0 }, validUntil: null, periodEnd: null },
  { id: "g2", userId: "u", feature: "export", source: "pro", sourceKind: "lifetime", sourceId: "o2", spec: { _tag: "Flag" }, validUntil: null, periodEnd: null },
];

/** The grants with refunds applied: one refunded at r ends at r (or at its own end when that is sooner). */
const grantsWith = (refunds: ReadonlyMap<number, number>): Grant[] =>
  GRANTS.map((g, i) => {
    const r = refunds.get(i);
    return r === undefined ? g : { ...g, validUntil: g.validUntil === null ? r : Math.min(g.validUntil, r) };
  });

type Run = {
  readonly facts: ActivationFact[];
  readonly redeemed: { readonly code: string; readonly at: number; readonly expiresAt: number }[];
  readonly tokens: { readonly claims: TokenClaims; readonly lifetime: number; readonly known: readonly Grant[]; readonly at: number }[];
  /** Refreshes that succeeded on an activation already revoked (by reuse or by the app). */
  successesAfterRevocation: number;
  readonly refunds: Map<number, number>;
};

/** Runs a history as the server would: every decision from the fold of the facts so far. */
const run = (history: readonly (readonly [Op, number])[]): Run => {
  const facts: ActivationFact[] = [];
  const codes: string[] = [];
  const refreshTokens: { readonly hash: string; readonly domain: string }[] = [];
  const activationIds: string[] = [];
  const refunds = new Map<number, number>();
  const out: Run = { facts, redeemed: [], tokens: [], successesAfterRevocation: 0, refunds };
  const revoked = new Set<string>();
  let t = T0;
  let made = 0;
  const token = (activationId: string, domain: string, lifetime: number) => {
    const grants = grantsWith(refunds);
    const claims = tokenClaims({ subject: "u", audience: domain, entitlements: entitlementsAt(grants, testCatalog, t), grants, now: t, lifetimeSeconds: lifetime, activationId });
    out.tokens.push({ claims, lifetime, known: grants, at: t });
  };
  for (const [op, step] of history) {
    t += step;
    const folded = activationsOf(facts);
    switch (op._tag) {
      case "Issue": {
        const hash = hex(codes.length, "c");
        codes.push(hash);
        facts.push({ _tag: "CodeIssued", fact: { codeHash: hash, subject: "u", userId: "usr_u", at: t, expiresAt: t + op.ttl * 1000, tokenSeconds: 300, keyId: "k", requestId: "r" } });
        break;
      }
      case "Redeem": {
        // Indexes pick among what exists so far (an earlier one too: a second try).
        const hash = codes[op.code % Math.max(1, codes.length)];
        if (hash === undefined) break;
        const decision = redeemDecision(folded.codes.get(hash) ?? null, t);
        if (decision._tag !== "Redeemable") break;
        const refreshHash = hex(made++, "f");
        const activationId = `act_${hash}`;
        facts.push({ _tag: "CodeRedeemed", fact: { codeHash: hash, activationId, domain: DOMAINS[op.domain]!, refreshHash, refreshExpiresAt: t + REFRESH_SECONDS * 1000, at: t, requestId: "r" } });
        refreshTokens.push({ hash: refreshHash, domain: DOMAINS[op.domain]! });
        activationIds.push(activationId);
        out.redeemed.push({ code: hash, at: t, expiresAt: decision.code.expiresAt });
        token(activationId, DOMAINS[op.domain]!, decision.code.tokenSeconds);
        break;
      }
      case "Refresh": {
        const presented = refreshTokens[op.token % Math.max(1, refreshTokens.length)];
        if (presented === undefined) break;
        // Domains 0 and 1 are the two sites; 2 and 3 stand for "the one it is bound to".
        const domain = op.domain < 2 ? DOMAINS[op.domain]! : presented.domain;
        const owner = [...folded.activations.values()].find((a) => a.refreshHash === presented.hash) ?? [...folded.activations.values()].find((a) => facts.some((f) => f._tag === "RefreshRotated" && f.fact.fromHash === presented.hash && f.fact.activationId === a.id)) ?? null;
        const spentBy = facts.find((f): f is Extract<ActivationFact, { _tag: "RefreshRotated" }> => f._tag === "RefreshRotated" && f.fact.fromHash === presented.hash)?.fact ?? null;
        const decision = refreshDecision(owner, presented.hash, domain, t, spentBy);
        if (decision._tag === "Retry") {
          // Answered again from the rotation already stored: nothing written, and never for a revoked activation.
          if (revoked.has(decision.activation.id)) out.successesAfterRevocation += 1;
          expect(spentBy!.refreshHash).toBe(decision.activation.refreshHash);
          expect(t - spentBy!.at).toBeLessThan(RETRY_GRACE_MS);
        } else if (decision._tag === "Rotate") {
          if (revoked.has(decision.activation.id)) out.successesAfterRevocation += 1;
          const next = hex(made++, "f");
          facts.push({ _tag: "RefreshRotated", fact: { activationId: decision.activation.id, fromHash: presented.hash, refreshHash: next, refreshExpiresAt: t + REFRESH_SECONDS * 1000, at: t, requestId: "r" } });
          refreshTokens.push({ hash: next, domain: decision.activation.domain });
          token(decision.activation.id, decision.activation.domain, decision.activation.tokenSeconds);
        } else if (decision._tag === "Reused") {
          revoked.add(decision.activation.id);
          facts.push({ _tag: "ActivationRevoked", fact: { activationId: decision.activation.id, at: t, reason: "reuse", keyId: null, requestId: "r" } });
        }
        break;
      }
      case "Revoke": {
        const id = activationIds[op.activation % Math.max(1, activationIds.length)];
        const a = id === undefined ? undefined : folded.activations.get(id);
        if (a !== undefined && a.revokedAt === null) facts.push({ _tag: "ActivationRevoked", fact: { activationId: a.id, at: t, reason: "revoked", keyId: "k", requestId: "r" } });
        if (a !== undefined) revoked.add(a.id);
        break;
      }
      case "Refund":
        if (!refunds.has(op.grant)) refunds.set(op.grant, t);
        break;
      default: {
        const unreachable: never = op;
        return unreachable;
      }
    }
  }
  return out;
};

describe("activation codes and refresh tokens", () => {
  it("a code works once, and only before it expires", () => {
    fc.assert(
      fc.property(arbHistory, (history) => {
        const { facts, redeemed } = run(history);
        const perCode = new Map<string, number>();
        for (const f of facts) if (f._tag === "CodeRedeemed") perCode.set(f.fact.codeHash, (perCode.get(f.fact.codeHash) ?? 0) + 1);
        expect([...perCode.values()].every((n) => n === 1)).toBe(true);
        for (const r of redeemed) expect(r.at).toBeLessThan(r.expiresAt);
      }),
    );
  });

  it("a refresh token rotates once; once revoked (a rotated one came back, or the app), nothing refreshes that activation again", () => {
    fc.assert(
      fc.property(arbHistory, (history) => {
        const { facts, successesAfterRevocation } = run(history);
        const from = facts.flatMap((f) => (f._tag === "RefreshRotated" ? [f.fact.fromHash] : []));
        expect(new Set(from).size).toBe(from.length);
        expect(successesAfterRevocation).toBe(0);
        // No token rotated once past its expiry.
        const expiry = new Map(facts.flatMap((f) => (f._tag === "CodeRedeemed" || f._tag === "RefreshRotated" ? [[f.fact.refreshHash, f.fact.refreshExpiresAt] as const] : [])));
        for (const f of facts) if (f._tag === "RefreshRotated") expect(f.fact.at).toBeLessThan(expiry.get(f.fact.fromHash)!);
        // Every activation has exactly one current token, the last of its chain.
        const { activations } = activationsOf(facts);
        for (const a of activations.values()) {
          const chain = facts.filter((f) => f._tag === "RefreshRotated" && f.fact.activationId === a.id);
          expect(a.rotations).toBe(chain.length);
          if (chain.length > 0) expect(a.refreshHash).toBe((chain.at(-1) as Extract<ActivationFact, { _tag: "RefreshRotated" }>).fact.refreshHash);
        }
      }),
    );
  });

  it("folds to the same codes and activations in any order of the facts, duplicates included", () => {
    fc.assert(
      fc.property(arbHistory, fc.integer(), (history, seed) => {
        const { facts } = run(history);
        // Every third fact twice (two exports concatenated, say).
        const shuffled = [...facts, ...facts.filter((_, i) => i % 3 === 0)]
          .map((f, i) => ({ f, k: Math.imul(i + 1, seed | 1) >>> 0 }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.f);
        expect(activationsOf(shuffled)).toEqual(activationsOf(facts));
      }),
    );
  });

  it("a token never outlives the entitlement it states by more than its lifetime, refunds after it included", () => {
    fc.assert(
      fc.property(arbHistory, (history) => {
        const { tokens, refunds } = run(history);
        // The truth as known in the end: every refund applied.
        const truth = grantsWith(refunds);
        for (const { claims, lifetime, known, at } of tokens) {
          expect(claims.exp - claims.iat).toBeLessThanOrEqual(lifetime);
          for (const feature of Object.keys(claims.ent)) {
            // An end known when it was issued is never passed.
            const knownEnd = featureEnd(known, feature, claims.iat * 1000);
            if (knownEnd !== null) expect(claims.exp * 1000).toBeLessThanOrEqual(knownEnd);
            const end = featureEnd(truth, feature, claims.iat * 1000);
            if (end !== null) expect(claims.exp - Math.floor(end / 1000)).toBeLessThanOrEqual(lifetime);
            // Nothing ended (refunded or run out) by the time it was issued is stated.
            expect(truth.some((g) => g.feature === feature && isGrantLive(g, at))).toBe(true);
          }
        }
      }),
    );
  });
});
