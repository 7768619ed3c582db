// Hostile webhook deliveries through the real HTTP server, on SQLite and PostgreSQL: a genuine
// (correctly signed) event is stored whatever it holds (any depth, NUL in its id or type) and
// derives its facts; a body that is no JSON is refused 400 and recorded; a flood of forgeries is
// counted, not written one durable row each; REST parameters no row can match answer 400. Each
// case checks the status, the error code, what was stored, and that health checks were answered
// in time meanwhile. The server runs as its own process, so the test's own work (building and
// signing the requests) never counts against it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { creemSignatureHeader } from "../../src/providers/creem/verify.js";
import { lemonSqueezySignature } from "../../src/providers/lemonsqueezy/verify.js";
import { paddleSignatureHeader } from "../../src/providers/paddle/verify.js";
import { verify } from "../../src/offline/verify.js";
import { MAX_PARSED_COPY_DEPTH } from "../../src/store/parsed-copy.js";
import * as creem from "../builders/creem.js";
import { PROVIDER_PRICES, testCatalog } from "../builders/histories.js";
import * as ls from "../builders/lemonsqueezy.js";
import * as paddle from "../builders/paddle.js";
import { customer, stripeEvent } from "../builders/stripe.js";
import { KINDS } from "../support/databases.js";
import { HEALTH_BOUND_MS, whileHealthChecked } from "../support/health-probe.js";
import { startChildVerity, type ChildVerity } from "../support/child-server.js";
import { projectedAfter } from "../support/projected.js";
import { deliver } from "../support/stripe-delivery.js";

// The server's clock is the real one: events happen around now.
const T0 = Math.floor(Date.now() / 1000);
const DAY = 86_400;
const SECRETS = { paddle: "pdl_ntfset_hostile", lemonsqueezy: "ls_hostile", creem: "whsec_creem_hostile" } as const;
const NUL = String.fromCharCode(0);

/** Nested arrays `depth` deep, as JSON text (built as text: JSON.stringify itself recurses). */
const nestedArrays = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;
/** Nested objects `depth` deep, as JSON text. */
const nestedObjects = (depth: number): string => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
/** The JSON of `value` with the string "__DEEP__" replaced by the JSON text `deep`. */
const spliced = (value: unknown, deep: string): Buffer => Buffer.from(JSON.stringify(value).replace('"__DEEP__"', deep));

type ErrorBody = { error: { code: string; message: string } };

describe.each(KINDS)("hostile webhooks on %s", (kind) => {
  let s: ChildVerity;
  const post = async (provider: string, body: Buffer, headers: Record<string, string>) =>
    projectedAfter(s.url, await fetch(`${s.url}/webhooks/${provider}`, { method: "POST", body: new Uint8Array(body), headers: { "content-type": "application/json", ...headers } }));
  const storedRow = (provider: string, providerEventId: string) => s.db.prisma.event.findMany({ where: { provider, providerEventId } });
  const entitlementsOf = async (userId: string) => {
    const res = await fetch(`${s.url}/api/users/${encodeURIComponent(userId)}/entitlements`, { headers: { authorization: `Bearer ${s.readKey}` } });
    return { status: res.status, body: (await res.json()) as { entitlements?: { feature: string; enabled: boolean }[] } };
  };
  const graphql = async (query: string) => {
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.readKey}` },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };

  beforeAll(async () => {
    s = await startChildVerity(kind, {
      VERITY_MAX_BODY_BYTES: String(1024 * 1024),
      PADDLE_WEBHOOK_SECRET: SECRETS.paddle,
      LEMONSQUEEZY_WEBHOOK_SECRET: SECRETS.lemonsqueezy,
      CREEM_WEBHOOK_SECRET: SECRETS.creem,
    });
  }, 90_000);
  /** Refusal counts reach the database within a second or two (they are written in batches). */
  const eventually = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    for (let i = 0; ; i++) {
      const value = await read();
      if (done(value) || i >= 50) return value;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  afterAll(async () => s?.stop());

  it("stores a signed Stripe event nested far deeper than a parsed copy can hold, raw only, and still derives its facts", async () => {
    for (const [n, deep] of [
      [1, nestedArrays(MAX_PARSED_COPY_DEPTH + 60)],
      [2, nestedObjects(2_000)],
      [3, nestedArrays(200_000)],
    ] as const) {
      const event = stripeEvent({
        id: `evt_deep_${n}`,
        type: "customer.created",
        created: T0,
        object: customer({ id: `cus_deep_${n}`, metadata: { user_id: `user_deep_${n}`, nested: "__DEEP__" } }),
      });
      const body = spliced(event, deep);
      const { result: res, healthMs } = await whileHealthChecked(s.url, () => deliver(s.url, body));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ received: true, duplicate: false, id: `evt_deep_${n}` });
      expect(healthMs).toBeLessThan(HEALTH_BOUND_MS);
      const again = await deliver(s.url, body);
      expect(await again.json()).toMatchObject({ received: true, duplicate: true });
      const rows = await storedRow("stripe", `evt_deep_${n}`);
      expect(rows).toHaveLength(1);
      expect(Buffer.from(rows[0]!.rawBody).equals(body)).toBe(true);
      expect(rows[0]!.payload).toBeNull();
      expect(rows[0]!.rawOnlyReason).toMatch(new RegExp(`deeper than ${MAX_PARSED_COPY_DEPTH} levels`));
      // The facts come from the raw bytes: the user is known by the app's id and the customer id.
      expect((await entitlementsOf(`user_deep_${n}`)).status).toBe(200);
      expect((await entitlementsOf(`cus_deep_${n}`)).status).toBe(200);
    }
    const listed = await graphql(`{ events(rawOnly: true, limit: 10) { events { id payload rawOnlyReason } } }`);
    expect(listed.errors).toBeUndefined();
    const events = (listed.data!.events as { events: { id: string; payload: unknown; rawOnlyReason: string }[] }).events;
    expect(events.map((e) => e.id)).toEqual(["evt_deep_1", "evt_deep_2", "evt_deep_3"]);
    expect(events.every((e) => e.payload === null && e.rawOnlyReason.length > 0)).toBe(true);
  });

  it("stores deep custom data a checkout passed through at Paddle, Lemon Squeezy and Creem (derived ids too) and grants the plan", async () => {
    const start = (T0 - DAY) * 1000;
    const end = (T0 + 29 * DAY) * 1000;
    const deep = nestedObjects(5_000);
    const bodies = {
      paddle: spliced(
        paddle.paddleEvent({
          id: "evt_01deeppaddle",
          type: "subscription.created",
          occurredAt: start,
          data: paddle.subscription({
            id: "sub_01deeppaddle",
            customerId: "ctm_01deeppaddle",
            status: "active",
            priceIds: [PROVIDER_PRICES.paddle.proMonthly],
            period: { start, end },
            startedAt: start,
            updatedAt: start,
            customData: { user_id: "user_deep_paddle", cart: "__DEEP__" },
          }),
        }),
        deep,
      ),
      // Lemon Squeezy bodies carry no event id: it is derived from the whole canonical body.
      lemonsqueezy: spliced(
        ls.lsEvent({
          eventName: "subscription_created",
          customData: { user_id: "user_deep_ls", cart: "__DEEP__" },
          data: ls.subscription({
            id: "9901",
            status: "active",
            variantId: Number(PROVIDER_PRICES.lemonsqueezy.proMonthly),
            customerId: 9801,
            createdAt: T0 - DAY,
            updatedAt: T0 - DAY,
            renewsAt: T0 + 29 * DAY,
          }),
        }),
        deep,
      ),
      // No id either: Creem's is derived from the canonical body.
      creem: spliced(
        (({ id: _id, ...rest }) => rest)(
          creem.creemEvent({
            id: "evt_unused",
            type: "subscription.active",
            createdAt: start,
            object: creem.subscription({
              id: "sub_deepcreem",
              customerId: "cust_deepcreem",
              productId: PROVIDER_PRICES.creem.proMonthly,
              status: "active",
              periodStart: start,
              periodEnd: end,
              metadata: { user_id: "user_deep_creem", cart: "__DEEP__" },
            }),
          }) as Record<string, unknown>,
        ),
        deep,
      ),
    };
    const headers = {
      paddle: (b: Buffer) => ({ "paddle-signature": paddleSignatureHeader(b, SECRETS.paddle, Math.floor(Date.now() / 1000)) }),
      lemonsqueezy: (b: Buffer) => ({ "x-signature": lemonSqueezySignature(b, SECRETS.lemonsqueezy) }),
      creem: (b: Buffer) => ({ "creem-signature": creemSignatureHeader(b, SECRETS.creem) }),
    };
    for (const provider of ["paddle", "lemonsqueezy", "creem"] as const) {
      const body = bodies[provider];
      const { result: res, healthMs } = await whileHealthChecked(s.url, () => post(provider, body, headers[provider](body)));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { id: string; duplicate: boolean };
      expect(answer.duplicate).toBe(false);
      expect(healthMs).toBeLessThan(HEALTH_BOUND_MS);
      const again = (await (await post(provider, body, headers[provider](body))).json()) as { id: string; duplicate: boolean };
      expect(again).toMatchObject({ id: answer.id, duplicate: true });
      const rows = await storedRow(provider, answer.id);
      expect(rows).toHaveLength(1);
      expect(Buffer.from(rows[0]!.rawBody).equals(body)).toBe(true);
      expect(rows[0]!.rawOnlyReason).not.toBeNull();
    }
    for (const userId of ["user_deep_paddle", "user_deep_ls", "user_deep_creem"]) {
      const { status, body } = await entitlementsOf(userId);
      expect(status).toBe(200);
      expect(body.entitlements!.find((e) => e.feature === "export")?.enabled).toBe(true);
    }
  });

  it("stores signed events whose id or type hold NUL, finds them again on redelivery, and keeps their raw bytes", async () => {
    const withNulId = stripeEvent({ id: `evt_nul${NUL}id`, type: "customer.created", created: T0, object: customer({ id: "cus_nul", metadata: { user_id: `user${NUL}nul` } }) });
    const withNulType = stripeEvent({ id: "evt_nul_type", type: `customer.created${NUL}`, created: T0, object: customer({ id: "cus_nul_type" }) });
    const seqs: number[] = [];
    for (const event of [withNulId, withNulType]) {
      const first = await deliver(s.url, event);
      expect(first.status).toBe(200);
      const answer = (await first.json()) as { seq: number; duplicate: boolean };
      expect(answer.duplicate).toBe(false);
      const again = await deliver(s.url, event);
      expect(await again.json()).toMatchObject({ seq: answer.seq, duplicate: true });
      seqs.push(answer.seq);
    }
    const [idRow, typeRow] = await Promise.all(seqs.map((seq) => s.db.prisma.event.findUnique({ where: { seq } })));
    // An id no database can hold is stored as its SHA-256; the raw body keeps the provider's own.
    expect(idRow!.providerEventId).toMatch(/^sha256_[0-9a-f]{64}$/);
    expect(Buffer.from(idRow!.rawBody).toString("utf8")).toContain("evt_nul\\u0000id");
    expect(typeRow!.type).toBe("customer.created\uFFFD");
    // Facts come from the raw bytes; a NUL in a derived value reads as U+FFFD, as everywhere.
    const byAppId = await entitlementsOf("user\uFFFDnul");
    const byCustomer = await entitlementsOf("cus_nul");
    expect(byAppId.status).toBe(200);
    expect(byCustomer.status).toBe(200);
    // One user, known by the app id as read (NUL → U+FFFD) and by the customer id.
    expect((byAppId.body as { userId?: string }).userId).toBe("user\uFFFDnul");
    expect(byCustomer.body).toEqual(byAppId.body);
    const user = await s.db.prisma.userIdentity.findUniqueOrThrow({ where: { key: "customer:stripe:cus_nul" } });
    expect((await s.db.prisma.user.findUniqueOrThrow({ where: { id: user.userId } })).appUserId).toBe("user\uFFFDnul");
    // A type no normalizer knows derives nothing (a later version may learn it and reprocess).
    expect((await entitlementsOf("cus_nul_type")).status).toBe(404);
  });

  it("refuses a signed body that is no JSON (even one starting with NUL) with 400 invalid_json, and records it", async () => {
    const before = await s.db.prisma.event.count();
    for (const provider of ["lemonsqueezy", "creem"] as const) {
      const body = Buffer.concat([Buffer.from([0]), Buffer.from("not json")]);
      const signature: Record<string, string> =
        provider === "creem" ? { "creem-signature": creemSignatureHeader(body, SECRETS.creem) } : { "x-signature": lemonSqueezySignature(body, SECRETS.lemonsqueezy) };
      const res = await post(provider, body, signature);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_json");
    }
    expect(await s.db.prisma.event.count()).toBe(before);
    const rows = await eventually(
      () => s.db.prisma.rejectedDelivery.findMany({ where: { code: "invalid_json" } }),
      (r) => r.length >= 2,
    );
    expect(rows.map((r) => r.provider).sort()).toEqual(["creem", "lemonsqueezy"]);
    expect(rows.every((r) => !r.message.includes(NUL))).toBe(true);
  });

  it("counts a flood of forged deliveries in memory and writes them as one row per reason and minute", async () => {
    const rowsBefore = await s.db.prisma.rejectedDelivery.count();
    const forged = spliced(stripeEvent({ id: "evt_forged", type: "customer.created", created: T0, object: customer({ id: "cus_f" }) }), "0");
    const { result: answers, healthMs } = await whileHealthChecked(s.url, () =>
      Promise.all(Array.from({ length: 300 }, () => deliver(s.url, forged, { secret: "whsec_forged" }).then((r) => r.status))),
    );
    expect(new Set(answers)).toEqual(new Set([400]));
    expect(healthMs).toBeLessThan(HEALTH_BOUND_MS);
    const mismatches = () => s.db.prisma.rejectedDelivery.findMany({ where: { code: "signature_mismatch", provider: "stripe" } });
    const rows = await eventually(mismatches, (r) => r.reduce((sum, row) => sum + row.count, 0) >= 300);
    expect(rows.reduce((sum, r) => sum + r.count, 0)).toBe(300);
    // One row per minute: two if the flood straddled a minute boundary; never one per forgery.
    expect(await s.db.prisma.rejectedDelivery.count()).toBeLessThanOrEqual(rowsBefore + 2);
    expect(await storedRow("stripe", "evt_forged")).toHaveLength(0);
  });

  it("answers 400 where no row can match: a cursor past any sequence number, a NUL in a user id", async () => {
    const cursor = Buffer.from(`seq:${2n ** 63n}`).toString("base64url");
    const get = (path: string) => fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${s.readKey}` } });
    for (const path of [`/api/events?since=${cursor}`, "/api/users/%00/entitlements", "/api/users/a%00b/subscription"]) {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_parameter");
    }
    const res = await fetch(`${s.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.readKey}` },
      body: JSON.stringify({ query: `{ events(since: "${cursor}") { next } }` }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("invalid_parameter");
  });

  it("leaves the projections equal to a replay of everything stored", async () => {
    const result = await verify(s.db, testCatalog, { at: Date.now() });
    expect(result.pending).toBe(0);
    expect(result.differences).toEqual([]);
  });
});
