// Writes the SQL that turns the schema at a git revision (default HEAD) into the working tree's
// prisma/schema.prisma, per database, as the next migration: `npm run migrations:diff -- 0004_name
// [rev]`. It diffs two datamodels, so it needs no shadow database (Prisma's wasm engine cannot
// replay migration history here); PostgreSQL must answer at DATABASE_URL (default
// 127.0.0.1:5432/test). Read the result before committing: SQLite diffs may rebuild a table where
// an ALTER TABLE would do.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteSchemaFrom } from "./prisma-schemas.mjs";

const [name, rev = "HEAD"] = process.argv.slice(2);
if (!name) throw new Error("usage: npm run migrations:diff -- <0004_name> [git revision to diff from]");
execFileSync("node", ["scripts/prisma-schemas.mjs"], { stdio: "inherit" });
const before = execFileSync("git", ["show", `${rev}:prisma/schema.prisma`], { encoding: "utf8" });
const dir = mkdtempSync(join(tmpdir(), "verity-diff-"));
writeFileSync(join(dir, "postgresql.prisma"), before);
writeFileSync(join(dir, "sqlite.prisma"), sqliteSchemaFrom(before));
const targets = [
  ["sqlite", "prisma/sqlite/schema.prisma", "file:./unused.db"],
  ["postgresql", "prisma/schema.prisma", process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test"],
];
for (const [target, schema, url] of targets) {
  const sql = execFileSync(
    "npx",
    ["prisma", "migrate", "diff", "--from-schema-datamodel", join(dir, `${target}.prisma`), "--to-schema-datamodel", schema, "--script"],
    { env: { ...process.env, PRISMA_TARGET: target, DATABASE_URL: url }, encoding: "utf8" },
  );
  mkdirSync(`prisma/migrations/${target}/${name}`, { recursive: true });
  writeFileSync(`prisma/migrations/${target}/${name}/migration.sql`, sql);
  console.log(`${target}: prisma/migrations/${target}/${name}/migration.sql`);
}
