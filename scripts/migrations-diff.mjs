// Prints the SQL that turns the current migrations into the current schema, per database, so a new
// migration can be written: `npm run migrations:diff -- 0003_name` writes it into both folders.
// Needs PostgreSQL at DATABASE_URL (default 127.0.0.1:5432/test) for the PostgreSQL diff.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";

const name = process.argv[2];
if (!name) throw new Error("usage: npm run migrations:diff -- <0003_name>");
execFileSync("node", ["scripts/prisma-schemas.mjs"], { stdio: "inherit" });
const targets = [
  ["sqlite", "prisma/sqlite/schema.prisma", "file:./unused.db"],
  ["postgresql", "prisma/schema.prisma", process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test"],
];
for (const [target, schema, url] of targets) {
  const sql = execFileSync(
    "npx",
    ["prisma", "migrate", "diff", "--from-migrations", `prisma/migrations/${target}`, "--to-schema-datamodel", schema, "--script"],
    { env: { ...process.env, PRISMA_TARGET: target, DATABASE_URL: url }, encoding: "utf8" },
  );
  mkdirSync(`prisma/migrations/${target}/${name}`, { recursive: true });
  writeFileSync(`prisma/migrations/${target}/${name}/migration.sql`, sql);
  console.log(`${target}: prisma/migrations/${target}/${name}/migration.sql`);
}
