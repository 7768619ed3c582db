// Prisma CLI configuration, used only at development time (`npm run generate`, `npm run migrations`).
// The JS engine lets `prisma generate` and `prisma migrate diff` run offline with no engine binary.
// PRISMA_TARGET picks the schema: "postgresql" (the schema of record) or "sqlite" (derived from it).
// Verity applies migration SQL itself at start (src/store/migrate.ts).
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";

const target = process.env.PRISMA_TARGET === "sqlite" ? "sqlite" : "postgresql";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: target === "sqlite" ? "prisma/sqlite/schema.prisma" : "prisma/schema.prisma",
  adapter: async () =>
    target === "sqlite"
      ? new PrismaBetterSQLite3({ url: ":memory:" })
      : new PrismaPg({ connectionString: process.env.DATABASE_URL ?? "postgresql://127.0.0.1:5432/test" }),
});
