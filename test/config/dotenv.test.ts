// .env: the common format read exactly, a line it cannot read named (never skipped), and the
// shell's variables kept over the file's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { loadDotEnv, parseDotEnv } from "../../src/config/dotenv.js";
import { webhookSchemes } from "../../src/providers/registry.js";

const parsed = (text: string) => Object.fromEntries(Either.getOrThrow(parseDotEnv(text)));
const refusal = (text: string) => Either.getOrThrow(Either.flip(parseDotEnv(text, ".env"))).message;

describe(".env", () => {
  it("reads names, values, quotes, escapes, export and comments", () => {
    const text = [
      "\uFEFF# Verity",
      "",
      "DATABASE_URL=postgresql://verity@db:5432/verity",
      "export STRIPE_WEBHOOK_SECRET = whsec_abc   # the CLI's secret",
      'PADDLE_WEBHOOK_SECRET="pdl_ntfset_01 # not a comment"',
      "LEMONSQUEEZY_WEBHOOK_SECRET='single \\n kept'",
      'MULTI="a\\nb\\"c" # comment',
      "EMPTY=",
      "URL_WITH_HASH=https://example.com/#frag",
    ].join("\r\n");
    expect(parsed(text)).toEqual({
      DATABASE_URL: "postgresql://verity@db:5432/verity",
      STRIPE_WEBHOOK_SECRET: "whsec_abc",
      PADDLE_WEBHOOK_SECRET: "pdl_ntfset_01 # not a comment",
      LEMONSQUEEZY_WEBHOOK_SECRET: "single \\n kept",
      MULTI: 'a\nb"c',
      EMPTY: "",
      URL_WITH_HASH: "https://example.com/#frag",
    });
  });

  it("names the line it cannot read", () => {
    expect(refusal("A=1\nSTRIPE_WEBHOOK_SECRET whsec_abc\n")).toBe('.env line 2: expected NAME=value, got "STRIPE_WEBHOOK_SECRET whsec_abc"');
    expect(refusal('A=1\n\nB="open\n')).toBe(".env line 3: the double quote is not closed on this line");
    expect(refusal("A='x' y")).toBe('.env line 1: unexpected text after the closing quote: "y"');
    expect(refusal("1A=x")).toMatch(/^\.env line 1: expected NAME=value/);
  });

  it(".env.example parses and names every setting Verity reads", () => {
    const example = Either.getOrThrow(parseDotEnv(readFileSync(new URL("../../.env.example", import.meta.url), "utf8")));
    const commented = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    const source = readFileSync(new URL("../../src/config/env.ts", import.meta.url), "utf8");
    const read = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
    for (const scheme of Object.values(webhookSchemes)) read.add(scheme.secretVariable);
    expect(read.size).toBeGreaterThan(10);
    for (const name of read) expect(example.has(name) || commented.includes(`# ${name}=`), name).toBe(true);
  });

  it("sets only what the environment does not already set, and nothing when the file is broken", () => {
    const dir = mkdtempSync(join(tmpdir(), "verity-dotenv-"));
    try {
      const env: NodeJS.ProcessEnv = { PORT: "5000" };
      expect(Either.getOrThrow(loadDotEnv(dir, env))).toEqual([]);
      writeFileSync(join(dir, ".env"), "PORT=4000\nSTRIPE_WEBHOOK_SECRET=whsec_file\n");
      expect(Either.getOrThrow(loadDotEnv(dir, env))).toEqual(["STRIPE_WEBHOOK_SECRET"]);
      expect(env).toEqual({ PORT: "5000", STRIPE_WEBHOOK_SECRET: "whsec_file" });
      writeFileSync(join(dir, ".env"), "DATABASE_URL=file:x.db\noops\n");
      const untouched: NodeJS.ProcessEnv = {};
      expect(Either.isLeft(loadDotEnv(dir, untouched))).toBe(true);
      expect(untouched).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
