// Activation codes and activations, decided and stored atomically: each step re-reads its row under
// the append lock (PostgreSQL; SQLite has one writer), decides with domain/activations.ts, and
// appends its event with the rows it changes in the same transaction, so a code is exchanged once and
// a refresh token rotates once even when two processes race for it. The rows are a projection of the
// activation events: rebuild and verify derive them again from the log.
import { activationsOf, redeemDecision, refreshDecision, type Activation, type ActivationCode, type ActivationFact, type ActivationRevoked, type CodeIssued, type CodeRedeemed, type RedeemDecision, type RefreshDecision, type RefreshRotated } from "../domain/activations.js";
import { APP_SOURCE } from "../domain/source.js";
import { activationFactOf, ACTIVATION_TYPES, codeEventId, encodeActivationFact, redeemEventId, revokeEventId, rotateEventId } from "./activation-body.js";
import type { Database } from "./database.js";
import { instantOf, readEvents } from "./events.js";
import { appendToFeed, lockFeed } from "./feed.js";
import { Prisma } from "./generated/postgresql/client.js";
import { insertRows, sqlValue } from "./insert-rows.js";
import { sqlOf, type Sql } from "./sql.js";
import { appendAppEvents, inAppendTransaction } from "./usage.js";

type Stamp = Date | string;
type CodeRow = { hash: string; subject: string; userId: string; issuedAt: Stamp; expiresAt: Stamp; tokenSeconds: number | bigint; redeemedAt: Stamp | null; activationId: string | null };
type ActivationRow = {
  id: string;
  subject: string;
  userId: string;
  domain: string;
  codeHash: string;
  createdAt: Stamp;
  tokenSeconds: number | bigint;
  refreshHash: string;
  refreshExpiresAt: Stamp;
  lastRefreshedAt: Stamp | null;
  rotations: number | bigint;
  revokedAt: Stamp | null;
  revokedReason: string | null;
};

const orNull = (v: Stamp | null): number | null => (v === null ? null : instantOf(v));

const codeOf = (r: CodeRow): ActivationCode => ({ ...r, issuedAt: instantOf(r.issuedAt), expiresAt: instantOf(r.expiresAt), tokenSeconds: Number(r.tokenSeconds), redeemedAt: orNull(r.redeemedAt) });

const activationOf = (r: ActivationRow): Activation => ({
  ...r,
  createdAt: instantOf(r.createdAt),
  tokenSeconds: Number(r.tokenSeconds),
  refreshExpiresAt: instantOf(r.refreshExpiresAt),
  lastRefreshedAt: orNull(r.lastRefreshedAt),
  rotations: Number(r.rotations),
  revokedAt: orNull(r.revokedAt),
  revokedReason: r.revokedReason === "reuse" || r.revokedReason === "revoked" ? r.revokedReason : null,
});

const CODE_COLUMNS = ["hash", "subject", "userId", "issuedAt", "expiresAt", "tokenSeconds", "redeemedAt", "activationId"] as const;
const ACTIVATION_COLUMNS = ["id", "subject", "userId", "domain", "codeHash", "createdAt", "tokenSeconds", "refreshHash", "refreshExpiresAt", "lastRefreshedAt", "rotations", "revokedAt", "revokedReason"] as const;
const columns = (names: readonly string[]) => Prisma.raw(names.map((n) => `"${n}"`).join(", "));
const date = (t: number | null): Date | null => (t === null ? null : new Date(t));

const writeCodes = (sql: Sql, codes: readonly ActivationCode[]): Promise<void> =>
  insertRows(
    sql,
    "ActivationCode",
    CODE_COLUMNS,
    codes.map((c) => ({ ...c, issuedAt: new Date(c.issuedAt), expiresAt: new Date(c.expiresAt), redeemedAt: date(c.redeemedAt) })),
  );

const writeActivations = (sql: Sql, activations: readonly Activation[]): Promise<void> =>
  insertRows(
    sql,
    "Activation",
    ACTIVATION_COLUMNS,
    activations.map((a) => ({ ...a, createdAt: new Date(a.createdAt), refreshExpiresAt: new Date(a.refreshExpiresAt), lastRefreshedAt: date(a.lastRefreshedAt), revokedAt: date(a.revokedAt) })),
  );

export const findCode = async (sql: Sql, hash: string): Promise<ActivationCode | null> => {
  const [row] = await sql.query<CodeRow>(Prisma.sql`SELECT ${columns(CODE_COLUMNS)} FROM "ActivationCode" WHERE "hash" = ${hash}`);
  return row === undefined ? null : codeOf(row);
};

export const findActivation = async (sql: Sql, id: string): Promise<Activation | null> => {
  const [row] = await sql.query<ActivationRow>(Prisma.sql`SELECT ${columns(ACTIVATION_COLUMNS)} FROM "Activation" WHERE "id" = ${id}`);
  return row === undefined ? null : activationOf(row);
};

/**
 * The activation a refresh token belongs to: the one it is current for, else the one it was rotated
 * away from, with the rotation that spent it.
 */
export const activationOfRefresh = async (sql: Sql, hash: string): Promise<{ readonly activation: Activation; readonly spentBy: RefreshRotated | null } | null> => {
  const [row] = await sql.query<ActivationRow>(Prisma.sql`SELECT ${columns(ACTIVATION_COLUMNS)} FROM "Activation" WHERE "refreshHash" = ${hash}`);
  if (row !== undefined) return { activation: activationOf(row), spentBy: null };
  const [rotation] = await readEvents(sql, Prisma.sql`"provider" = ${APP_SOURCE} AND "providerEventId" = ${rotateEventId(hash)}`);
  if (rotation === undefined) return null;
  const fact = activationFactOf(rotation.rawBody);
  if (fact._tag !== "RefreshRotated") return null;
  const activation = await findActivation(sql, fact.fact.activationId);
  return activation === null ? null : { activation, spentBy: fact.fact };
};

/** refreshDecision for a presented token, from what the store holds. */
export const decideRefresh = async (sql: Sql, presented: { readonly hash: string; readonly domain: string }, t: number, graceMs?: number): Promise<RefreshDecision> => {
  const found = await activationOfRefresh(sql, presented.hash);
  return refreshDecision(found?.activation ?? null, presented.hash, presented.domain, t, found?.spentBy ?? null, graceMs);
};

/** A subject's activations, newest first. */
export const activationsOfSubject = async (sql: Sql, subject: string): Promise<Activation[]> =>
  (await sql.query<ActivationRow>(Prisma.sql`SELECT ${columns(ACTIVATION_COLUMNS)} FROM "Activation" WHERE "subject" = ${subject} ORDER BY "createdAt" DESC, "id"`)).map(activationOf);

const append = async (sql: Sql, id: string, fact: ActivationFact, at: number, receivedAt: number, projectedAt: number): Promise<number> => {
  const { type, body } = encodeActivationFact(fact);
  const [seq] = await appendAppEvents(sql, [{ id, type, at, receivedAt, body }], projectedAt);
  return seq!;
};

const statusTransition = (a: Activation, from: string | null, to: string, at: number, eventId: string, keyId: string | null, requestId: string) => ({
  userId: a.userId,
  entity: "activation",
  entityId: a.id,
  field: "status",
  from,
  to,
  cause: `${APP_SOURCE}:${eventId}`,
  at: new Date(at),
  ...(keyId === null ? {} : { keyId }),
  requestId,
});

/** Stores a new code (its hash). */
export const issueCode = (db: Database, code: CodeIssued, receivedAt: number): Promise<ActivationCode> =>
  inAppendTransaction(db, async (sql) => {
    await append(sql, codeEventId(code.codeHash), { _tag: "CodeIssued", fact: code }, code.at, receivedAt, receivedAt);
    const row: ActivationCode = { hash: code.codeHash, subject: code.subject, userId: code.userId, issuedAt: code.at, expiresAt: code.expiresAt, tokenSeconds: code.tokenSeconds, redeemedAt: null, activationId: null };
    await writeCodes(sql, [row]);
    return row;
  });

export type RedeemOutcome = Exclude<RedeemDecision, { _tag: "Redeemable" }> | { readonly _tag: "Redeemed"; readonly activation: Activation };

/** Exchanges a code for an activation when it is still redeemable at `r.at`. */
export const redeemCode = (db: Database, r: CodeRedeemed, receivedAt: number): Promise<RedeemOutcome> =>
  inAppendTransaction(db, async (sql) => {
    const decision = redeemDecision(await findCode(sql, r.codeHash), r.at);
    if (decision._tag !== "Redeemable") return decision;
    const eventId = redeemEventId(r.codeHash);
    await append(sql, eventId, { _tag: "CodeRedeemed", fact: r }, r.at, receivedAt, receivedAt);
    const code = decision.code;
    await sql.run(Prisma.sql`UPDATE "ActivationCode" SET "redeemedAt" = ${sqlValue(sql.kind, new Date(r.at))}, "activationId" = ${r.activationId} WHERE "hash" = ${r.codeHash}`);
    const activation: Activation = {
      id: r.activationId,
      subject: code.subject,
      userId: code.userId,
      domain: r.domain,
      codeHash: code.hash,
      createdAt: r.at,
      tokenSeconds: code.tokenSeconds,
      refreshHash: r.refreshHash,
      refreshExpiresAt: r.refreshExpiresAt,
      lastRefreshedAt: null,
      rotations: 0,
      revokedAt: null,
      revokedReason: null,
    };
    await writeActivations(sql, [activation]);
    await lockFeed(sql);
    await appendToFeed(sql, [statusTransition(activation, null, "active", r.at, eventId, null, r.requestId)]);
    return { _tag: "Redeemed", activation };
  });

/** The instant of an activation's last step so far. */
const latestOf = (a: Activation): number => Math.max(a.createdAt, a.lastRefreshedAt ?? a.createdAt);

const markRevoked = async (sql: Sql, a: Activation, stated: ActivationRevoked, receivedAt: number): Promise<Activation> => {
  const fact: ActivationRevoked = { ...stated, at: Math.max(stated.at, latestOf(a)) };
  const eventId = revokeEventId(a.id);
  await append(sql, eventId, { _tag: "ActivationRevoked", fact }, fact.at, receivedAt, receivedAt);
  await sql.run(Prisma.sql`UPDATE "Activation" SET "revokedAt" = ${sqlValue(sql.kind, new Date(fact.at))}, "revokedReason" = ${fact.reason} WHERE "id" = ${a.id}`);
  const revoked: Activation = { ...a, revokedAt: fact.at, revokedReason: fact.reason };
  await lockFeed(sql);
  await appendToFeed(sql, [statusTransition(revoked, "active", "revoked", fact.at, eventId, fact.keyId, fact.requestId)]);
  return revoked;
};

export type RefreshOutcome = Exclude<RefreshDecision, { _tag: "Rotate" }> | { readonly _tag: "Rotated"; readonly activation: Activation };

/**
 * Presents a refresh token (its hash): rotates it to `next` when it is the current one, revokes the
 * activation when it was rotated away before (reuse), and changes nothing otherwise (a retry within
 * the grace included: its answer is made again from the rotation already stored).
 */
export const refreshWith = (
  db: Database,
  presented: { readonly hash: string; readonly domain: string },
  next: Omit<RefreshRotated, "activationId" | "fromHash">,
  receivedAt: number,
  graceMs?: number,
): Promise<RefreshOutcome> =>
  inAppendTransaction(db, async (sql) => {
    const decision = await decideRefresh(sql, presented, next.at, graceMs);
    switch (decision._tag) {
      case "Rotate": {
        const a = decision.activation;
        // Never before the activation's last step: another process's clock may be behind, and the log of one activation stays in time order.
        const at = Math.max(next.at, latestOf(a));
        const fact: RefreshRotated = { ...next, at, refreshExpiresAt: next.refreshExpiresAt + (at - next.at), activationId: a.id, fromHash: presented.hash };
        await append(sql, rotateEventId(presented.hash), { _tag: "RefreshRotated", fact }, at, receivedAt, receivedAt);
        await sql.run(
          Prisma.sql`UPDATE "Activation" SET "refreshHash" = ${fact.refreshHash}, "refreshExpiresAt" = ${sqlValue(sql.kind, new Date(fact.refreshExpiresAt))}, "lastRefreshedAt" = ${sqlValue(sql.kind, new Date(at))}, "rotations" = "rotations" + 1 WHERE "id" = ${a.id}`,
        );
        return { _tag: "Rotated", activation: { ...a, refreshHash: fact.refreshHash, refreshExpiresAt: fact.refreshExpiresAt, lastRefreshedAt: at, rotations: a.rotations + 1 } };
      }
      case "Reused":
        return { _tag: "Reused", activation: await markRevoked(sql, decision.activation, { activationId: decision.activation.id, at: next.at, reason: "reuse", keyId: null, requestId: next.requestId }, receivedAt) };
      case "Retry":
      case "UnknownToken":
      case "Revoked":
      case "TokenExpired":
      case "WrongDomain":
        return decision;
      default: {
        const unreachable: never = decision;
        return unreachable;
      }
    }
  });

/**
 * A spent refresh token whose retry cannot be answered again (no signing key makes its successor
 * any more): decided with no grace, so it is a reuse and revokes the activation, unless it is
 * already revoked or unknown. Rotates nothing.
 */
export const refuseSpent = (db: Database, presented: { readonly hash: string; readonly domain: string }, at: number, requestId: string, receivedAt: number): Promise<Exclude<RefreshDecision, { _tag: "Rotate" | "Retry" }>> =>
  inAppendTransaction(db, async (sql) => {
    const decision = await decideRefresh(sql, presented, at, 0);
    switch (decision._tag) {
      case "Reused":
        return { _tag: "Reused", activation: await markRevoked(sql, decision.activation, { activationId: decision.activation.id, at, reason: "reuse", keyId: null, requestId }, receivedAt) };
      case "Rotate":
      case "Retry":
        // Not a spent token after all (grace 0 gives no Retry; a current token is not spent): nothing to refuse here.
        return { _tag: "UnknownToken" };
      default:
        return decision;
    }
  });

/** Revokes an activation (once: revoking it again answers with the first revocation); null when there is none. */
export const revokeActivation = (db: Database, id: string, r: Omit<ActivationRevoked, "activationId" | "reason">, receivedAt: number): Promise<{ readonly activation: Activation; readonly again: boolean } | null> =>
  inAppendTransaction(db, async (sql) => {
    const a = await findActivation(sql, id);
    if (a === null) return null;
    if (a.revokedAt !== null) return { activation: a, again: true };
    return { activation: await markRevoked(sql, a, { ...r, activationId: id, reason: "revoked" }, receivedAt), again: false };
  });

/** Every activation event of the store, folded: what the rows must be (verify, rebuild). */
export const activationsFromEvents = async (sql: Sql): Promise<ReturnType<typeof activationsOf>> => {
  const facts: ActivationFact[] = [];
  const types = Prisma.join(ACTIVATION_TYPES.map((t) => Prisma.sql`${t}`));
  for (let after = 0; ; ) {
    const events = await readEvents(sql, Prisma.sql`"provider" = ${APP_SOURCE} AND "type" IN (${types}) AND "seq" > ${after}`, Prisma.sql`ORDER BY "seq" LIMIT 2000`);
    for (const e of events) facts.push(activationFactOf(e.rawBody));
    if (events.length < 2000) break;
    after = events.at(-1)!.seq;
  }
  return activationsOf(facts);
};

/** The rows as stored (verify compares them with the events' fold). */
export const storedActivations = async (db: Database): Promise<ReturnType<typeof activationsOf>> => {
  const sql = sqlOf(db);
  const codes = (await sql.query<CodeRow>(Prisma.sql`SELECT ${columns(CODE_COLUMNS)} FROM "ActivationCode"`)).map(codeOf);
  const activations = (await sql.query<ActivationRow>(Prisma.sql`SELECT ${columns(ACTIVATION_COLUMNS)} FROM "Activation"`)).map(activationOf);
  return { codes: new Map(codes.map((c) => [c.hash, c])), activations: new Map(activations.map((a) => [a.id, a])) };
};

/** Rebuilds the rows from the activation events (a projection rebuild). */
export const rebuildActivations = async (sql: Sql): Promise<void> => {
  const { codes, activations } = await activationsFromEvents(sql);
  await sql.run(Prisma.sql`DELETE FROM "ActivationCode"`);
  await sql.run(Prisma.sql`DELETE FROM "Activation"`);
  await writeCodes(sql, [...codes.values()]);
  await writeActivations(sql, [...activations.values()]);
};
