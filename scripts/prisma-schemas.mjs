// Derives prisma/sqlite/schema.prisma from the schema of record (prisma/schema.prisma) so the
// SQLite client is generated from the same models. Run by `npm run generate`.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The SQLite schema for a schema of record's text. */
export const sqliteSchemaFrom = (record) => {
  const sqlite = record
    .replace(/generator pothos \{[\s\S]*?\n\}\n\n/, "")
    .replace('output       = "../src/store/generated/postgresql"', 'output       = "../../src/store/generated/sqlite"')
    .replace('provider = "postgresql"', 'provider = "sqlite"')
    // Native PostgreSQL types have no SQLite counterpart: SQLite keeps Prisma's defaults.
    .replace(/[ \t]+@db\.\w+(\([^)]*\))?/g, "")
    .replace(/^\/\/ Schema of record\..*\n\/\/.*\n/, "// Generated from prisma/schema.prisma by scripts/prisma-schemas.mjs. Do not edit.\n");
  if (sqlite === record) throw new Error("prisma-schemas: nothing replaced");
  return sqlite;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync("prisma/sqlite", { recursive: true });
  writeFileSync("prisma/sqlite/schema.prisma", sqliteSchemaFrom(readFileSync("prisma/schema.prisma", "utf8")));
}
