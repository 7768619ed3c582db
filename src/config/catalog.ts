// Reads and validates the plan catalog (verity.config.json). Every mistake is reported with the
// JSON path where it was found, before Verity serves anything.
import { readFileSync } from "node:fs";
import { Data, Either, ParseResult, Schema } from "effect";
import { DEFAULT_USAGE_THRESHOLDS, type Catalog, type FeatureSpec, type Plan, type PriceDetail } from "../domain/catalog.js";

const sameNumbers = (a: readonly number[], b: readonly number[]): boolean => {
  const [x, y] = [[...new Set(a)].sort((m, n) => m - n), [...new Set(b)].sort((m, n) => m - n)];
  return x.length === y.length && x.every((v, i) => v === y[i]);
};
import { isLanguageTag } from "../domain/pricing.js";
import { PROVIDERS } from "../domain/provider.js";

/** A plan catalog that cannot be used: every problem, each with its JSON path. */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly file: string; readonly problems: readonly string[] }> {
  override get message(): string {
    return `invalid plan catalog ${this.file}:\n${this.problems.map((p) => `  - ${p}`).join("\n")}`;
  }
}

/** One of these strings; a wrong one is one message naming them all, not one per choice. */
const oneOf = <const L extends readonly [string, ...string[]]>(...choices: L) => {
  const listed = choices.map((c) => JSON.stringify(c));
  const expected = listed.length === 1 ? listed[0]! : `${listed.slice(0, -1).join(", ")} or ${listed.at(-1)!}`;
  return Schema.transformOrFail(Schema.Unknown, Schema.Literal(...choices), {
    strict: true,
    decode: (value, _, ast) =>
      (choices as readonly unknown[]).includes(value)
        ? ParseResult.succeed(value as L[number])
        : ParseResult.fail(new ParseResult.Type(ast, value, `expected ${expected}, got ${JSON.stringify(value) ?? "nothing"}`)),
    encode: ParseResult.succeed,
  });
};

const PositiveInt = Schema.Int.pipe(Schema.positive());
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative());
const Interval = oneOf("month", "year", "once");
const PricedEntry = Schema.Struct({ id: Schema.NonEmptyTrimmedString, amount: NonNegativeInt, currency: Schema.NonEmptyTrimmedString, interval: Interval });

/**
 * A provider price: its id, or the id with what it costs (`{ "id", "amount", "currency",
 * "interval" }`) for the pricing page. A wrong object is reported against the object form alone.
 */
const PriceEntry = Schema.transformOrFail(Schema.Unknown, Schema.Union(Schema.String, Schema.typeSchema(PricedEntry)), {
  strict: true,
  decode: (value, options, ast) =>
    typeof value === "string"
      ? ParseResult.decodeUnknown(Schema.NonEmptyTrimmedString)(value, options)
      : typeof value === "object" && value !== null && !Array.isArray(value)
        ? ParseResult.decodeUnknown(PricedEntry)(value, options)
        : ParseResult.fail(new ParseResult.Type(ast, value, `expected a price id or { "id", "amount", "currency", "interval" }, got ${JSON.stringify(value) ?? "nothing"}`)),
  encode: ParseResult.succeed,
});
const PriceIds = Schema.Array(PriceEntry);
type PriceEntry = typeof PriceEntry.Type;
const entryId = (entry: PriceEntry): string => (typeof entry === "string" ? entry : entry.id);


/** Digits after the point a metered feature's units may carry (CPU seconds to the millisecond: 3). */
const MAX_DECIMALS = 6;

const Metered = Schema.Struct({
  limit: PositiveInt,
  per: oneOf("month", "year", "period"),
  overage: Schema.optionalWith(oneOf("block", "allow"), { default: () => "block" as const }),
  decimals: Schema.optionalWith(NonNegativeInt.pipe(Schema.lessThanOrEqualTo(MAX_DECIMALS)), { default: () => 0 }),
});
const CreditsFeature = Schema.Struct({ credits: PositiveInt });
/** How long a lease holds its slot unless released, when the plan does not say. */
const DEFAULT_LEASE_SECONDS = 300;
const ConcurrentFeature = Schema.Struct({
  concurrent: PositiveInt,
  leaseSeconds: Schema.optionalWith(PositiveInt, { default: () => DEFAULT_LEASE_SECONDS }),
});
const ValueFeature = Schema.Struct({ value: Schema.Finite });
const FeatureKinds = Schema.Union(Schema.Boolean, Metered, CreditsFeature, ConcurrentFeature, ValueFeature);

/**
 * The kind of feature a value means, from its shape: a mistake in a metered feature is then
 * reported against the metered schema alone, not once per kind it is not.
 */
const featureKind = (value: unknown) => {
  if (typeof value === "boolean") return Schema.Boolean;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const has = (key: string) => Object.hasOwn(value, key);
  if (has("credits")) return CreditsFeature;
  if (has("concurrent") || has("leaseSeconds")) return ConcurrentFeature;
  if (has("value")) return ValueFeature;
  if (has("limit") || has("per") || has("overage") || has("decimals")) return Metered;
  return null;
};

const Feature = Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(FeatureKinds), {
  strict: true,
  decode: (value, options, ast) => {
    const kind = featureKind(value);
    if (kind === null) {
      const message = 'expected true or false, or an object: { "limit", "per" } (metered), { "credits" }, { "concurrent" } or { "value" }';
      return ParseResult.fail(new ParseResult.Type(ast, value, `${message}, got ${JSON.stringify(value) ?? "nothing"}`));
    }
    return ParseResult.decodeUnknown(kind as Schema.Schema<typeof FeatureKinds.Type, unknown>)(value, options);
  },
  encode: ParseResult.succeed,
});

const PlanSchema = Schema.Struct({
  name: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  order: Schema.optional(Schema.Int),
  highlighted: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  // Keys are language tags ("de", "pt-BR"), checked in crossCheck to say so in one line.
  locales: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Struct({ name: Schema.optional(Schema.String), description: Schema.optional(Schema.String) }) }), { default: () => ({}) }),
  prices: Schema.optionalWith(Schema.partial(Schema.Struct(Object.fromEntries(PROVIDERS.map((p) => [p, PriceIds])) as Record<(typeof PROVIDERS)[number], typeof PriceIds>)), { default: () => ({}) }),
  features: Schema.optionalWith(Schema.Record({ key: Schema.NonEmptyTrimmedString, value: Feature }), { default: () => ({}) }),
  credits: Schema.optional(
    Schema.Struct({
      amount: PositiveInt,
      per: oneOf("once", "period"),
      rollover: Schema.optionalWith(Schema.Boolean, { default: () => false }),
      expiresAfterDays: Schema.optional(PositiveInt),
    }),
  ),
  lifetime: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  price: Schema.optional(
    Schema.Struct({ amount: NonNegativeInt, currency: Schema.NonEmptyTrimmedString, interval: Interval }),
  ),
});

export const CatalogFile = Schema.Struct({
  $schema: Schema.optional(Schema.String),
  plans: Schema.Record({ key: Schema.NonEmptyTrimmedString, value: PlanSchema }),
  grace: Schema.optionalWith(Schema.Struct({ pastDueDays: NonNegativeInt }), { default: () => ({ pastDueDays: 0 }) }),
  usageThresholds: Schema.optionalWith(Schema.Array(Schema.Int.pipe(Schema.between(1, 1000))), { default: () => [...DEFAULT_USAGE_THRESHOLDS] }),
  userIdKeys: Schema.optionalWith(Schema.NonEmptyArray(Schema.NonEmptyTrimmedString), {
    default: () => ["user_id", "userId"] as [string, ...string[]],
  }),
});
export type CatalogFile = typeof CatalogFile.Type;

const formatPath = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? "(root)" : path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");

const toSpec = (value: typeof Feature.Type): FeatureSpec | null => {
  if (typeof value === "boolean") return value ? { _tag: "Flag" } : null;
  if ("credits" in value) return { _tag: "Credits", credits: value.credits };
  if ("concurrent" in value) return { _tag: "Concurrent", concurrent: value.concurrent, leaseSeconds: value.leaseSeconds };
  if ("value" in value) return { _tag: "Value", value: value.value };
  return { _tag: "Metered", limit: value.limit, per: value.per, overage: value.overage, decimals: value.decimals };
};

/** Problems a schema cannot see: one provider price mapped to two plans, a rollover of credits granted once. */
const crossCheck = (file: CatalogFile): string[] => {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const [code, plan] of Object.entries(file.plans)) {
    for (const tag of Object.keys(plan.locales)) if (!isLanguageTag(tag)) problems.push(`plans.${code}.locales.${tag}: expected a language tag such as "de" or "pt-BR" as the key`);
    if (plan.credits?.per === "once" && plan.credits.rollover) problems.push(`plans.${code}.credits.rollover: credits granted once have no next period to roll over into; remove it or grant them per period`);
    for (const [provider, ids] of Object.entries(plan.prices)) {
      (ids ?? []).map(entryId).forEach((id, i) => {
        const where = `plans.${code}.prices.${provider}[${i}]`;
        const first = seen.get(`${provider}:${id}`);
        if (first) problems.push(`${where}: price "${id}" is already mapped at ${first}; a price belongs to one plan`);
        else seen.set(`${provider}:${id}`, where);
      });
    }
  }
  return problems;
};

/** What the priced entries say each price costs, by provider and id; nothing when no entry says. */
const priceDetailsOf = (prices: CatalogFile["plans"][string]["prices"]): Pick<Plan, "priceDetails"> => {
  const details = Object.entries(prices).flatMap(([provider, entries]) =>
    (entries ?? []).flatMap((e) => (typeof e === "string" ? [] : [[provider, e.id, { amount: e.amount, currency: e.currency.toLowerCase(), interval: e.interval }] as const])),
  );
  if (details.length === 0) return {};
  const byProvider: Record<string, Record<string, PriceDetail>> = {};
  for (const [provider, id, detail] of details) (byProvider[provider] ??= {})[id] = detail;
  return { priceDetails: byProvider };
};

export const toCatalog = (file: CatalogFile): Catalog => ({
  plans: Object.fromEntries(
    Object.entries(file.plans).map(([code, p]): [string, Plan] => [
      code,
      {
        code,
        name: p.name ?? code,
        // The pricing page's fields are set only where the file says something (absent: the default).
        ...(p.description === undefined ? {} : { description: p.description }),
        ...(p.order === undefined ? {} : { order: p.order }),
        ...(p.highlighted ? { highlighted: true } : {}),
        ...(Object.keys(p.locales).length === 0 ? {} : { locales: p.locales }),
        prices: Object.fromEntries(Object.entries(p.prices).map(([provider, entries]) => [provider, (entries ?? []).map(entryId)])),
        ...priceDetailsOf(p.prices),
        features: Object.fromEntries(
          Object.entries(p.features).flatMap(([k, v]) => {
            const spec = toSpec(v);
            return spec === null ? [] : [[k, spec]];
          }),
        ),
        credits: p.credits === undefined ? null : { amount: p.credits.amount, per: p.credits.per, rollover: p.credits.rollover, expiresAfterDays: p.credits.expiresAfterDays ?? null },
        lifetime: p.lifetime,
        price: p.price ?? null,
      },
    ]),
  ),
  grace: file.grace,
  ...(sameNumbers(file.usageThresholds, DEFAULT_USAGE_THRESHOLDS) ? {} : { usageThresholds: [...new Set(file.usageThresholds)].sort((a, b) => a - b) }),
  userIdKeys: file.userIdKeys,
});

const decodeCatalogFile = Schema.decodeUnknownEither(CatalogFile, { onExcessProperty: "error", errors: "all" });

/** Every schema issue, one line each with its JSON path. */
const schemaProblems = (error: ParseResult.ParseError): string[] => {
  // "Expected undefined" lines only restate that an optional member failed; the real issue is listed too.
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error).filter((i) => !i.message.startsWith("Expected undefined"));
  const parentOf = (path: readonly PropertyKey[]) => formatPath(path.slice(0, -1));
  const missing = issues.filter((i) => i.message === "is missing");
  const merged = new Set<(typeof issues)[number]>();
  const lines: string[] = [];
  for (const issue of issues) {
    if (merged.has(issue)) continue;
    // A misspelt key is one mistake, not "plan: is unexpected" and "plans: is missing".
    if (issue.message.startsWith("is unexpected")) {
      const key = String(issue.path.at(-1));
      const meant = missing.find((m) => !merged.has(m) && parentOf(m.path) === parentOf(issue.path) && looksLike(key, String(m.path.at(-1))));
      if (meant !== undefined) {
        merged.add(meant);
        lines.push(`${formatPath(issue.path)}: unknown key; did you mean "${String(meant.path.at(-1))}"?`);
        continue;
      }
    }
    lines.push(`${formatPath(issue.path)}: ${issue.message}`);
  }
  return [...new Set(lines)];
};

/** Whether two keys differ by a slip: case, or at most two letters added, dropped or changed. */
const looksLike = (a: string, b: string): boolean => {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.abs(a.length - b.length) > 2) return false;
  // Edit distance, row by row.
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]! <= 2;
};

/** Where JSON.parse gave up, as a line and column (it reports a position in the text). */
export const jsonProblem = (text: string, error: Error): string => {
  const at = /at position (\d+)/.exec(error.message);
  const position = at !== null ? Number(at[1]) : /end of JSON input/.test(error.message) ? text.length : null;
  const reason = error.message.replace(/ at position \d+.*$/, "").replace(/ in JSON$/, "");
  if (position === null) return `not valid JSON: ${reason}`;
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - (before.lastIndexOf("\n") + 1) + 1;
  return `line ${line}, column ${column}: not valid JSON (${reason})`;
};

/** Decodes catalog JSON text; `file` names the source in errors. */
export const parseCatalog = (text: string, file: string): Either.Either<Catalog, ConfigError> =>
  Either.gen(function* () {
    // A byte order mark (some editors write one) is not a mistake in the catalog.
    const json = yield* Either.try({ try: () => JSON.parse(text.replace(/^\uFEFF/, "")) as unknown, catch: (e) => [jsonProblem(text.replace(/^\uFEFF/, ""), e as Error)] });
    const decoded = yield* Either.mapLeft(decodeCatalogFile(json), schemaProblems);
    const problems = crossCheck(decoded);
    return problems.length > 0 ? yield* Either.left(problems) : toCatalog(decoded);
  }).pipe(Either.mapLeft((problems) => new ConfigError({ file, problems })));

export const loadCatalog = (file: string): Either.Either<Catalog, ConfigError> => {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return Either.left(new ConfigError({ file, problems: [`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`] }));
  }
  return parseCatalog(text, file);
};
