// Credits in the store: the lots a user's projected orders grant, what uses took from each lot
// (CreditUse, one row per subject and lot), and each debit (CreditDebit, the ledger's debit entries).
// A debit is decided inside the usage transaction (store/usage.ts) from the lots and these sums, so
// it costs the user's billing history (its paid orders), never its history of uses.
import type { Catalog } from "../domain/catalog.js";
import { balancesAt, creditLedger, creditLots, usedByLot, type Balances, type CreditDebit, type CreditLot, type CreditTake, type LedgerEntry } from "../domain/credits.js";
import type { Database } from "./database.js";
import { sqlOf } from "./sql.js";
import type { UsageRecord } from "../domain/usage.js";
import { Prisma } from "./generated/postgresql/client.js";
import { insertRows } from "./insert-rows.js";
import { instantOf } from "./events.js";
import type { Sql } from "./sql.js";

type OrderRow = { id: string; kind: string; plan: string | null; status: string; amount: number | bigint; amountRefunded: number | bigint; paidAt: Date | string; subscriptionId: string | null };

/** The lots a user's projected orders grant. */
export const lotsOfUser = async (sql: Sql, userId: string, catalog: Catalog): Promise<CreditLot[]> => {
  const rows = await sql.query<OrderRow>(
    Prisma.sql`SELECT "id", "kind", "plan", "status", "amount", "amountRefunded", "paidAt", "subscriptionId" FROM "Order" WHERE "userId" = ${userId} AND "plan" IS NOT NULL`,
  );
  return creditLots(
    rows.map((r) => ({
      id: r.id,
      kind: r.kind as "one_time" | "subscription",
      plan: r.plan,
      status: r.status as "pending" | "paid" | "partially_refunded" | "refunded",
      amount: Number(r.amount),
      amountRefunded: Number(r.amountRefunded),
      paidAt: instantOf(r.paidAt),
      subscriptionId: r.subscriptionId,
    })),
    catalog,
  );
};

/** What uses took from each of a subject's lots. */
export const creditUses = async (sql: Sql, subject: string): Promise<Map<string, number>> =>
  new Map((await sql.query<{ lot: string; used: number | bigint }>(Prisma.sql`SELECT "lot", "used" FROM "CreditUse" WHERE "subject" = ${subject}`)).map((r) => [r.lot, Number(r.used)]));

/** Writes the sums as they now stand (the caller holds the append lock). */
export const writeCreditUses = async (sql: Sql, subject: string, used: ReadonlyMap<string, number>): Promise<void> => {
  for (const [lot, n] of used) {
    await sql.run(Prisma.sql`INSERT INTO "CreditUse" ("subject", "lot", "used") VALUES (${subject}, ${lot}, ${n}) ON CONFLICT ("subject", "lot") DO UPDATE SET "used" = excluded."used"`);
  }
};

/** The debit rows of recorded uses. */
export const writeCreditDebits = (sql: Sql, debits: readonly { readonly usageId: string; readonly record: UsageRecord }[]): Promise<void> =>
  insertRows(
    sql,
    "CreditDebit",
    ["usageId", "lot", "subject", "bucket", "amount", "feature", "at"],
    debits.flatMap(({ usageId, record }) =>
      (record.credits?.takes ?? []).map((t: CreditTake) => ({ usageId, lot: t.lot, subject: record.subject, bucket: t.bucket, amount: t.amount, feature: record.feature, at: new Date(record.at) })),
    ),
  );

/** A subject's debits, oldest first, each with its takes. */
export const debitsOf = async (sql: Sql, subject: string): Promise<CreditDebit[]> => {
  const rows = await sql.query<{ usageId: string; lot: string; bucket: string; amount: number | bigint; feature: string; at: Date | string }>(
    Prisma.sql`SELECT "usageId", "lot", "bucket", "amount", "feature", "at" FROM "CreditDebit" WHERE "subject" = ${subject} ORDER BY "at", "usageId", "lot"`,
  );
  const byUse = new Map<string, { at: number; cause: string; feature: string; takes: CreditTake[] }>();
  for (const r of rows) {
    const held = byUse.get(r.usageId) ?? { at: instantOf(r.at), cause: `app:${r.usageId}`, feature: r.feature, takes: [] };
    held.takes.push({ lot: r.lot, bucket: r.bucket as CreditTake["bucket"], amount: Number(r.amount) });
    byUse.set(r.usageId, held);
  }
  return [...byUse.values()];
};

/** When each refunded order of a user was refunded, from its transitions (the latest change to a refunded status). */
export const refundTimes = async (sql: Sql, userId: string): Promise<Map<string, number>> => {
  const rows = await sql.query<{ entityId: string; at: Date | string }>(
    Prisma.sql`SELECT "entityId", "at" FROM "Transition" WHERE "userId" = ${userId} AND "entity" = 'order' AND "field" = 'status' AND "to" IN ('refunded', 'partially_refunded') ORDER BY "ordinal"`,
  );
  return new Map(rows.map((r) => [r.entityId, instantOf(r.at)]));
};

/** Every subject's uses per lot: the stored sums, and the sums of the stored debits (verify). */
export const allCreditUses = async (sql: Sql): Promise<{ readonly stored: Map<string, number>; readonly summed: Map<string, number> }> => {
  const stored = new Map(
    (await sql.query<{ subject: string; lot: string; used: number | bigint }>(Prisma.sql`SELECT "subject", "lot", "used" FROM "CreditUse"`)).map((r) => [`${r.subject}#${r.lot}`, Number(r.used)]),
  );
  const summed = new Map(
    (await sql.query<{ subject: string; lot: string; used: number | bigint }>(Prisma.sql`SELECT "subject", "lot", SUM("amount") AS "used" FROM "CreditDebit" GROUP BY "subject", "lot"`)).map((r) => [
      `${r.subject}#${r.lot}`,
      Number(r.used),
    ]),
  );
  return { stored, summed };
};

/** Rebuilds the use sums and debit rows from the stored usage records (a projection rebuild). */
export const rebuildCredits = async (sql: Sql, records: readonly { readonly usageId: string; readonly record: UsageRecord }[]): Promise<void> => {
  await sql.run(Prisma.sql`DELETE FROM "CreditDebit"`);
  await sql.run(Prisma.sql`DELETE FROM "CreditUse"`);
  const credited = records.filter((r) => r.record.credits);
  await writeCreditDebits(sql, credited);
  const bySubject = new Map<string, UsageRecord[]>();
  for (const { record } of credited) bySubject.set(record.subject, [...(bySubject.get(record.subject) ?? []), record]);
  for (const [subject, recs] of bySubject) await writeCreditUses(sql, subject, usedByLot(recs.map((r) => ({ takes: r.credits!.takes }))));
};


/**
 * A user's balances and ledger at `t`, from its lots, its debits and when its refunds happened.
 * The balances are what a debit is decided with (the lots and the stored use sums); the ledger is
 * built from the debit rows apart, so the two agreeing (the tests, the property) is conservation.
 */
export const creditsOf = async (db: Pick<Database, "kind" | "sqlite" | "prisma">, catalog: Catalog, userId: string, subject: string, t: number): Promise<{ readonly balances: Balances; readonly ledger: LedgerEntry[] }> => {
  const sql = sqlOf(db);
  const lots = await lotsOfUser(sql, userId, catalog);
  const refunds = await refundTimes(sql, userId);
  const ledger = creditLedger(lots, await debitsOf(sql, subject), t, (lot) => refunds.get(lot.id) ?? lot.at);
  return { balances: balancesAt(lots, await creditUses(sql, subject), t), ledger };
};
