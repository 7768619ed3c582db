// Reads and validates the plan catalog (verity.config.json). Every mistake is reported with the
// JSON path where it was found, before Verity serves anything.
import { readFileSync } from "node:fs";
import { Data, Either, ParseResult, Schema } from "effect";
import type { Catalog, FeatureSpec, Plan } from "../domain/catalog.js";
import { PROVIDERS } from "../domain/provider.js";

/** A plan catalog that cannot be used: every problem, each with its JSON path. */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly file: string; readonly problems: readonly string[] }> {
  override get message(): string {
    return `invalid plan catalog ${this.file}:\n${this.problems.map((p) => `  - ${p}`).join("\n")}`;
  }
}

const PositiveInt = Schema.Int.pipe(Schema.positive());
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative());
const PriceIds = Schema.Array(Schema.NonEmptyTrimmedString);

/** Digits after the point a metered feature's units may carry (CPU seconds to the millisecond: 3). */
const MAX_DECIMALS = 6;

const Metered = Schema.Struct({
  limit: PositiveInt,
  per: Schema.Literal("month", "year", "period"),
  overage: Schema.optionalWith(Schema.Literal("block", "allow"), { default: () => "block" as const }),
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
const Feature = Schema.Union(Schema.Boolean, Metered, CreditsFeature, ConcurrentFeature, ValueFeature);

const PlanSchema = Schema.Struct({
  name: Schema.optional(Schema.String),
  prices: Schema.optionalWith(Schema.partial(Schema.Struct(Object.fromEntries(PROVIDERS.map((p) => [p, PriceIds])) as Record<(typeof PROVIDERS)[number], typeof PriceIds>)), { default: () => ({}) }),
  features: Schema.optionalWith(Schema.Record({ key: Schema.NonEmptyTrimmedString, value: Feature }), { default: () => ({}) }),
  credits: Schema.optional(
    Schema.Struct({
      amount: PositiveInt,
      per: Schema.Literal("once", "period"),
      rollover: Schema.optionalWith(Schema.Boolean, { default: () => false }),
      expiresAfterDays: Schema.optional(PositiveInt),
    }),
  ),
  lifetime: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  price: Schema.optional(
    Schema.Struct({ amount: NonNegativeInt, currency: Schema.NonEmptyTrimmedString, interval: Schema.Literal("month", "year", "once") }),
  ),
});

export const CatalogFile = Schema.Struct({
  $schema: Schema.optional(Schema.String),
  plans: Schema.Record({ key: Schema.NonEmptyTrimmedString, value: PlanSchema }),
  grace: Schema.optionalWith(Schema.Struct({ pastDueDays: NonNegativeInt }), { default: () => ({ pastDueDays: 0 }) }),
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
    if (plan.credits?.per === "once" && plan.credits.rollover) problems.push(`plans.${code}.credits.rollover: credits granted once have no next period to roll over into; remove it or grant them per period`);
    for (const [provider, ids] of Object.entries(plan.prices)) {
      (ids ?? []).forEach((id, i) => {
        const where = `plans.${code}.prices.${provider}[${i}]`;
        const first = seen.get(`${provider}:${id}`);
        if (first) problems.push(`${where}: price "${id}" is already mapped at ${first}; a price belongs to one plan`);
        else seen.set(`${provider}:${id}`, where);
      });
    }
  }
  return problems;
};

export const toCatalog = (file: CatalogFile): Catalog => ({
  plans: Object.fromEntries(
    Object.entries(file.plans).map(([code, p]): [string, Plan] => [
      code,
      {
        code,
        name: p.name ?? code,
        prices: p.prices,
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
  userIdKeys: file.userIdKeys,
});

const decodeCatalogFile = Schema.decodeUnknownEither(CatalogFile, { onExcessProperty: "error", errors: "all" });

/** Every schema issue, one line each with its JSON path. */
const schemaProblems = (error: ParseResult.ParseError): string[] => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error);
  // "Expected undefined" lines only restate that an optional member failed; the real issue is listed too.
  return [...new Set(issues.filter((i) => !i.message.startsWith("Expected undefined")).map((i) => `${formatPath(i.path)}: ${i.message}`))];
};

/** Decodes catalog JSON text; `file` names the source in errors. */
export const parseCatalog = (text: string, file: string): Either.Either<Catalog, ConfigError> =>
  Either.gen(function* () {
    const json = yield* Either.try({ try: () => JSON.parse(text) as unknown, catch: (e) => [`not valid JSON: ${(e as Error).message}`] });
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
