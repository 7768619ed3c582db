// Projection rows read with raw statements (src/store/sql.ts) and converted to what Prisma would
// return for them, so a check that reads every row (`verity verify`) does not pay Prisma's
// per-value cost: the rows of given users, the rows of users outside a set, and table sizes.
import { instantOf } from "./events.js";
import { getDatamodel } from "./generated/pothos-types.js";
import { Prisma } from "./generated/postgresql/client.js";
import { noRows, PROJECTION_COLUMNS, PROJECTION_TABLES, type ProjectionRows, type ProjectionTable } from "./projection-rows.js";
import type { Sql } from "./sql.js";

const BATCH = 500;
const PAGE = 5000;

type RawRow = Record<string, unknown>;

/** Raw column values as Prisma returns them for the schema's field types (instants as Dates, booleans, numbers). */
const fromRaw = (table: ProjectionTable): ((row: RawRow) => RawRow) => {
  const types = new Map(getDatamodel().datamodel.models[table.model]!.fields.map((f) => [f.name, f.type]));
  const columns = Object.keys(PROJECTION_COLUMNS[table.rows]).map((c) => [c, types.get(c)] as const);
  return (row) => {
    const out: RawRow = {};
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

const READERS = PROJECTION_TABLES.map((table) => ({
  table,
  convert: fromRaw(table),
  columns: Prisma.raw(Object.keys(PROJECTION_COLUMNS[table.rows]).map((c) => `"${c}"`).join(", ")),
  from: Prisma.raw(`"${table.model}"`),
  owner: Prisma.raw(`"${table.owner}"`),
  primaryKey: Prisma.raw(`"${table.primaryKey}"`),
}));

const push = (rows: ProjectionRows, table: ProjectionTable, found: readonly RawRow[]): void => {
  (rows[table.rows] as RawRow[]).push(...found);
};

/** Every projection row. */
export const allRows = async (sql: Sql): Promise<ProjectionRows> => {
  const rows = noRows();
  for (const r of READERS) push(rows, r.table, (await sql.query<RawRow>(Prisma.sql`SELECT ${r.columns} FROM ${r.from}`)).map(r.convert));
  return rows;
};

/** The projection rows of these users (theirs by `userId`; the users themselves by `id`). */
export const rowsOfUsers = async (sql: Sql, userIds: readonly string[]): Promise<ProjectionRows> => {
  const rows = noRows();
  for (let i = 0; i < userIds.length; i += BATCH) {
    const ids = Prisma.join(userIds.slice(i, i + BATCH));
    for (const r of READERS) {
      const found = await sql.query<RawRow>(Prisma.sql`SELECT ${r.columns} FROM ${r.from} WHERE ${r.owner} IN (${ids})`);
      push(rows, r.table, found.map(r.convert));
    }
  }
  return rows;
};

/**
 * The rows of the tables in `tables` whose owner is not in `owners`, read in pages by primary key
 * (memory holds a page and what it keeps): what a walk over known users' own rows cannot see.
 */
export const rowsNotOwnedBy = async (sql: Sql, owners: ReadonlySet<string>, tables: ReadonlySet<keyof ProjectionRows>): Promise<ProjectionRows> => {
  const rows = noRows();
  for (const r of READERS) {
    if (!tables.has(r.table.rows)) continue;
    for (let after: string | null = null; ; ) {
      const page: RawRow[] = await sql.query<RawRow>(
        Prisma.sql`SELECT ${r.columns} FROM ${r.from} ${after === null ? Prisma.empty : Prisma.sql`WHERE ${r.primaryKey} > ${after}`} ORDER BY ${r.primaryKey} LIMIT ${PAGE}`,
      );
      push(rows, r.table, page.filter((row) => !owners.has(String(row[r.table.owner]))).map(r.convert));
      if (page.length < PAGE) break;
      after = String(page[page.length - 1]![r.table.primaryKey]);
    }
  }
  return rows;
};

/** How many rows each projection table holds. */
export const tableSizes = async (sql: Sql): Promise<Record<keyof ProjectionRows, number>> => {
  const sizes = Object.fromEntries(PROJECTION_TABLES.map((t) => [t.rows, 0])) as Record<keyof ProjectionRows, number>;
  for (const r of READERS) sizes[r.table.rows] = Number((await sql.query<{ n: number | bigint }>(Prisma.sql`SELECT count(*) AS n FROM ${r.from}`))[0]!.n);
  return sizes;
};
