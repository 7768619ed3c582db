// The projection rows of given users read with raw statements (src/store/sql.ts), converted to what
// Prisma would return for them, so a check that reads many users (`verity verify`) does not pay
// Prisma's per-value cost.
import { instantOf } from "./events.js";
import { getDatamodel } from "./generated/pothos-types.js";
import { Prisma } from "./generated/postgresql/client.js";
import { PROJECTION_COLUMNS, type ProjectionRows } from "./projection-rows.js";
import type { Sql } from "./sql.js";

const BATCH = 500;

const MODEL_OF: Record<keyof ProjectionRows, string> = {
  users: "User",
  identities: "UserIdentity",
  subscriptions: "Subscription",
  orders: "Order",
  grants: "Entitlement",
  transitions: "Transition",
};

/** Raw column values as Prisma returns them for the schema's field types (instants as Dates, booleans, numbers). */
const fromRaw = (table: keyof ProjectionRows): ((row: Record<string, unknown>) => Record<string, unknown>) => {
  const types = new Map(getDatamodel().datamodel.models[MODEL_OF[table]]!.fields.map((f) => [f.name, f.type]));
  const columns = Object.keys(PROJECTION_COLUMNS[table]).map((c) => [c, types.get(c)] as const);
  return (row) => {
    const out: Record<string, unknown> = {};
    for (const [c, type] of columns) {
      const v = row[c];
      out[c] =
        v === null || v === undefined
          ? null
          : type === "DateTime"
            ? v instanceof Date
              ? v
              : new Date(instantOf(v as string | number))
            : type === "Boolean"
              ? v === true || v === 1 || v === 1n
              : type === "Int"
                ? Number(v)
                : v;
    }
    return out;
  };
};

const CONVERTERS = Object.fromEntries((Object.keys(MODEL_OF) as (keyof ProjectionRows)[]).map((t) => [t, fromRaw(t)])) as Record<
  keyof ProjectionRows,
  (row: Record<string, unknown>) => Record<string, unknown>
>;

/** The rows of `table` whose `owner` column is one of `ids`, read raw (see src/store/sql.ts). */
const rowsOwnedBy = async <T extends keyof ProjectionRows>(sql: Sql, table: T, owner: "id" | "userId", ids: readonly string[]): Promise<ProjectionRows[T]> => {
  const columns = Prisma.raw(Object.keys(PROJECTION_COLUMNS[table]).map((c) => `"${c}"`).join(", "));
  const rows = await sql.query<Record<string, unknown>>(
    Prisma.sql`SELECT ${columns} FROM ${Prisma.raw(`"${MODEL_OF[table]}"`)} WHERE ${Prisma.raw(`"${owner}"`)} IN (${Prisma.join(ids)})`,
  );
  return rows.map(CONVERTERS[table]) as ProjectionRows[T];
};

/** The projection rows of these users (theirs by `userId`; the users themselves by `id`), as Prisma would read them. */
export const rowsOfUsers = async (sql: Sql, userIds: readonly string[]): Promise<ProjectionRows> => {
  const rows: ProjectionRows = { users: [], identities: [], subscriptions: [], orders: [], grants: [], transitions: [] };
  for (let i = 0; i < userIds.length; i += BATCH) {
    const ids = userIds.slice(i, i + BATCH);
    rows.users.push(...(await rowsOwnedBy(sql, "users", "id", ids)));
    rows.identities.push(...(await rowsOwnedBy(sql, "identities", "userId", ids)));
    rows.subscriptions.push(...(await rowsOwnedBy(sql, "subscriptions", "userId", ids)));
    rows.orders.push(...(await rowsOwnedBy(sql, "orders", "userId", ids)));
    rows.grants.push(...(await rowsOwnedBy(sql, "grants", "userId", ids)));
    rows.transitions.push(...(await rowsOwnedBy(sql, "transitions", "userId", ids)));
  }
  return rows;
};
