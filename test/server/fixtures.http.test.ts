// Every published provider fixture through the real server: each event body, signed as its
// provider signs (with the endpoint secret the server is configured with), posted as bytes to
// /webhooks/<provider>. Each is answered 200 and stored byte for byte, a redelivery is a duplicate,
// and once projected the projections are what replaying the stored log offline gives (what
// `verity verify` checks). Skipped, with a warning naming the folder, where the fixtures are absent.
import { describe, expect, it } from "vitest";
import type { Provider } from "../../src/domain/provider.js";
import { diffSnapshots } from "../../src/offline/diff.js";
import { databaseSnapshot } from "../../src/offline/snapshot.js";
import { replaySnapshot } from "../../src/offline/verify.js";
import { creemSignatureHeader } from "../../src/providers/creem/verify.js";
import { lemonSqueezySignature } from "../../src/providers/lemonsqueezy/verify.js";
import { paddleSignatureHeader } from "../../src/providers/paddle/verify.js";
import { stripeSignatureHeader } from "../../src/providers/stripe/verify.js";
import { testCatalog } from "../builders/histories.js";
import { KINDS } from "../support/databases.js";
import { providerFixtures } from "../support/fixtures.js";
import { untilProjected } from "../support/projected.js";
import { startServer } from "../support/server.js";
import { TEST_SECRET } from "../support/stripe-delivery.js";

const SECRETS = { paddle: "pdl_ntfset_fixture_secret", lemonsqueezy: "ls_fixture_secret", creem: "whsec_creem_fixture_secret" } as const;

const signatureHeader = (provider: Provider, body: Buffer): Record<string, string> => {
  const now = Math.floor(Date.now() / 1000);
  switch (provider) {
    case "stripe":
      return { "stripe-signature": stripeSignatureHeader(body, TEST_SECRET, now) };
    case "paddle":
      return { "paddle-signature": paddleSignatureHeader(body, SECRETS.paddle, now) };
    case "lemonsqueezy":
      return { "x-signature": lemonSqueezySignature(body, SECRETS.lemonsqueezy) };
    case "creem":
      return { "creem-signature": creemSignatureHeader(body, SECRETS.creem) };
    default: {
      const unreachable: never = provider;
      return unreachable;
    }
  }
};

const PROVIDERS = [
  ["stripe", "Stripe"],
  ["paddle", "Paddle"],
  ["lemonsqueezy", "Lemon Squeezy"],
  ["creem", "Creem"],
] as const satisfies readonly (readonly [Provider, string])[];

describe.each(KINDS)("published fixtures through the real server (%s)", (kind) => {
  it.each(PROVIDERS.map(([provider, name]) => [provider, providerFixtures(provider, name)] as const))(
    "%s: each event body is answered 200, stored byte for byte, once, and projected as the offline replay projects it",
    async (provider, fixtures) => {
      if (!fixtures.exist) return;
      const s = await startServer(kind, testCatalog, { providerSecrets: { paddle: [SECRETS.paddle], lemonsqueezy: [SECRETS.lemonsqueezy], creem: [SECRETS.creem] } });
      try {
        const post = (body: Buffer) =>
          fetch(`${s.url}/webhooks/${provider}`, { method: "POST", headers: { "content-type": "application/json", ...signatureHeader(provider, body) }, body: new Uint8Array(body) });
        const files = fixtures.eventFiles();
        expect(files.length, `${provider} has event fixtures`).toBeGreaterThan(0);
        let last = 0;
        const seqs = new Map<string, number>();
        for (const file of files) {
          const body = fixtures.bytes(file);
          const res = await post(body);
          expect(res.status, `${file}: ${await res.clone().text()}`).toBe(200);
          const answer = (await res.json()) as { seq: number; duplicate: boolean };
          // Two fixture files may be deliveries of one event (same id, e.g. another API version's
          // body): the later is a duplicate, and the store keeps the first as it came.
          if (!answer.duplicate) seqs.set(file, answer.seq);
          else expect([...seqs.values()], `${file} is a redelivery of an earlier file`).toContain(answer.seq);
          last = Math.max(last, answer.seq);
          const again = (await (await post(body)).json()) as { seq: number; duplicate: boolean };
          expect(again, `${file} delivered again`).toMatchObject({ seq: answer.seq, duplicate: true });
        }
        for (const [file, seq] of seqs) {
          const stored = await s.db.prisma.event.findUnique({ where: { seq }, select: { rawBody: true, provider: true } });
          expect(stored?.provider, file).toBe(provider);
          expect(Buffer.from(stored!.rawBody).equals(fixtures.bytes(file)), `${file} stored byte for byte`).toBe(true);
        }
        expect(await s.db.prisma.event.count()).toBe(new Set(seqs.values()).size);
        await untilProjected(s.url, last);
        const live = await databaseSnapshot(s.db);
        expect(diffSnapshots(live, await replaySnapshot(s.db, testCatalog))).toEqual([]);
        expect(live.users.length, `${provider}: the fixtures name customers`).toBeGreaterThan(0);
      } finally {
        await s.stop();
      }
    },
  );
});
