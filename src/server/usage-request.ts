// The bodies of the app's /v1 calls (`POST /v1/usage`, `/v1/check`, `/v1/leases`, `/v1/tokens`,
// `/v1/activation-codes`, `/v1/activate`, `/v1/refresh`;
// DESIGN.md, usage contract), decoded at the edge: a record is `{ userId, feature, units, idempotencyKey, at? }`, a batch `{ records: [...] }`
// answered record by record. Whether the units fit the feature's precision is decided against the
// catalog (domain/usage.ts scaleUnits), once the feature is known; here only their type.
import { Either, ParseResult, Schema } from "effect";
import { parseRfc3339Millis, type Instant } from "../domain/time.js";
import { DEFAULT_CODE_SECONDS, MAX_CODE_SECONDS, normalizeDomain } from "../domain/activations.js";
import { DEFAULT_TOKEN_SECONDS, MAX_TOKEN_SECONDS } from "../domain/tokens.js";
import { InvalidParameter } from "./errors.js";

/** Records one batch may carry: the body limit allows more, an answer per record should stay small. */
export const MAX_BATCH = 1_000;

/** Ids and keys the app sends: not blank, at most 255 characters, no control characters. */
const Text = Schema.NonEmptyTrimmedString.pipe(
  Schema.maxLength(255),
  Schema.filter((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: () => "must not contain control characters" }),
);

const RfcInstant = Schema.String.pipe(
  Schema.transformOrFail(Schema.Number, {
    strict: true,
    decode: (s, _, ast) => {
      const t = parseRfc3339Millis(s);
      return t === null ? ParseResult.fail(new ParseResult.Type(ast, s, "expected an RFC 3339 time with a zone, e.g. 2026-12-01T10:00:00Z")) : ParseResult.succeed(t);
    },
    encode: (t) => ParseResult.succeed(new Date(t).toISOString()),
  }),
);

const UsageRecord = Schema.Struct({
  userId: Text,
  feature: Text,
  units: Schema.Number,
  idempotencyKey: Text,
  at: Schema.optional(RfcInstant),
});

const UsageBatch = Schema.Struct({ records: Schema.Array(UsageRecord).pipe(Schema.minItems(1), Schema.maxItems(MAX_BATCH)) });

const CheckRecord = Schema.Struct({ userId: Text, feature: Text, units: Schema.optional(Schema.Number) });

export type UsageRecord = { readonly userId: string; readonly feature: string; readonly units: number; readonly idempotencyKey: string; readonly at: Instant | null };

/** One record, or a batch of them: a batch is answered record by record. */
export type UsageRequest = { readonly _tag: "One"; readonly record: UsageRecord } | { readonly _tag: "Batch"; readonly records: readonly UsageRecord[] };

export type CheckRequest = { readonly userId: string; readonly feature: string; readonly units: number };

const options = { onExcessProperty: "error", errors: "all" } as const;

/** An issue's message with the value it quotes cut short: a refusal need not send a huge value back. */
const clip = (message: string): string => (message.length > 300 ? `${message.slice(0, 300)}… (${message.length} characters)` : message);

/** Every issue, each with the JSON path where it was found (a body that is no object at all says what one holds). */
const refusal =
  (expected: string) =>
  (error: ParseResult.ParseError): InvalidParameter => {
    let formatted: readonly ParseResult.ArrayFormatterIssue[];
    try {
      formatted = ParseResult.ArrayFormatter.formatErrorSync(error);
    } catch {
      // Formatting shows the value found, and a hostile one may be nested too deep to show.
      return new InvalidParameter({ message: `(body): expected a JSON object ${expected}; a value in it is nested too deeply to report` });
    }
    const issues = formatted
      // "Expected undefined" only restates that an optional member failed; the real issue is listed too.
      .filter((i) => !i.message.startsWith("Expected undefined"))
      .map((i) => (i.path.length === 0 ? `(body): expected a JSON object ${expected}` : `${i.path.map(String).join(".")}: ${clip(i.message)}`));
    return new InvalidParameter({ message: [...new Set(issues)].join("; ") });
  };

const USAGE_FIELDS = "with userId, feature, units and idempotencyKey (and optionally at), or { records: [...] }";
const CHECK_FIELDS = "with userId, feature and optionally units";

const record = (r: typeof UsageRecord.Type): UsageRecord => ({ userId: r.userId, feature: r.feature, units: r.units, idempotencyKey: r.idempotencyKey, at: r.at ?? null });

const decodeBatch = Schema.decodeUnknownEither(UsageBatch, options);
const decodeOne = Schema.decodeUnknownEither(UsageRecord, options);
const decodeCheck = Schema.decodeUnknownEither(CheckRecord, options);

const isObject = (body: unknown): body is object => typeof body === "object" && body !== null && !Array.isArray(body);

const notAnObject = (expected: string) => new InvalidParameter({ message: `(body): expected a JSON object ${expected}` });

/** A parsed `POST /v1/usage` body as a record or a batch, or why it is refused (400, paths named). */
export const decodeUsageRequest = (body: unknown): Either.Either<UsageRequest, InvalidParameter> =>
  !isObject(body)
    ? Either.left(notAnObject(USAGE_FIELDS))
    : "records" in body
    ? Either.map(Either.mapLeft(decodeBatch(body), refusal(USAGE_FIELDS)), (b): UsageRequest => ({ _tag: "Batch", records: b.records.map(record) }))
    : Either.map(Either.mapLeft(decodeOne(body), refusal(USAGE_FIELDS)), (r): UsageRequest => ({ _tag: "One", record: record(r) }));

/** A parsed `POST /v1/check` body (units default to 1), or why it is refused. */
export const decodeCheckRequest = (body: unknown): Either.Either<CheckRequest, InvalidParameter> =>
  !isObject(body) ? Either.left(notAnObject(CHECK_FIELDS)) : Either.map(Either.mapLeft(decodeCheck(body), refusal(CHECK_FIELDS)), (c) => ({ userId: c.userId, feature: c.feature, units: c.units ?? 1 }));

const LeaseRecord = Schema.Struct({
  userId: Text,
  feature: Text,
  idempotencyKey: Text,
  ttlSeconds: Schema.optional(Schema.Int.pipe(Schema.positive())),
});

const ReleaseRecord = Schema.Struct({ usage: Schema.optional(Schema.Struct({ feature: Text, units: Schema.Number })) });

export type LeaseRequest = { readonly userId: string; readonly feature: string; readonly idempotencyKey: string; readonly ttlSeconds: number | null };
export type ReleaseRequest = { readonly usage: { readonly feature: string; readonly units: number } | null };

const decodeLease = Schema.decodeUnknownEither(LeaseRecord, options);
const decodeRelease = Schema.decodeUnknownEither(ReleaseRecord, options);

/** A parsed `POST /v1/leases` body, or why it is refused. */
export const decodeLeaseRequest = (body: unknown): Either.Either<LeaseRequest, InvalidParameter> =>
  !isObject(body) ? Either.left(notAnObject("with userId, feature, idempotencyKey and optionally ttlSeconds")) : Either.map(Either.mapLeft(decodeLease(body), refusal("with userId, feature, idempotencyKey and optionally ttlSeconds")), (l) => ({ ...l, ttlSeconds: l.ttlSeconds ?? null }));

/** A parsed `POST /v1/leases/{id}/release` body (an empty body releases without usage), or why it is refused. */
export const decodeReleaseRequest = (body: unknown): Either.Either<ReleaseRequest, InvalidParameter> =>
  !isObject(body) ? Either.left(notAnObject("optionally with usage: { feature, units }")) : Either.map(Either.mapLeft(decodeRelease(body), refusal("optionally with usage: { feature, units }")), (r) => ({ usage: r.usage ?? null }));

const TokenRecord = Schema.Struct({
  userId: Text,
  audience: Text,
  ttlSeconds: Schema.optional(Schema.Int.pipe(Schema.positive(), Schema.lessThanOrEqualTo(MAX_TOKEN_SECONDS))),
});

export type TokenRequest = { readonly userId: string; readonly audience: string; readonly ttlSeconds: number };

const decodeToken = Schema.decodeUnknownEither(TokenRecord, options);
const TOKEN_FIELDS = `with userId, audience and optionally ttlSeconds (1 to ${MAX_TOKEN_SECONDS})`;

/** A parsed `POST /v1/tokens` body (the lifetime defaults to DEFAULT_TOKEN_SECONDS), or why it is refused. */
export const decodeTokenRequest = (body: unknown): Either.Either<TokenRequest, InvalidParameter> =>
  !isObject(body) ? Either.left(notAnObject(TOKEN_FIELDS)) : Either.map(Either.mapLeft(decodeToken(body), refusal(TOKEN_FIELDS)), (t) => ({ userId: t.userId, audience: t.audience, ttlSeconds: t.ttlSeconds ?? DEFAULT_TOKEN_SECONDS }));

const ActivationCodeRecord = Schema.Struct({
  userId: Text,
  ttlSeconds: Schema.optional(Schema.Int.pipe(Schema.positive(), Schema.lessThanOrEqualTo(MAX_CODE_SECONDS))),
  tokenTtlSeconds: Schema.optional(Schema.Int.pipe(Schema.positive(), Schema.lessThanOrEqualTo(MAX_TOKEN_SECONDS))),
});

export type ActivationCodeRequest = { readonly userId: string; readonly ttlSeconds: number; readonly tokenTtlSeconds: number };
const CODE_FIELDS = `with userId, optionally ttlSeconds (the code's life, 1 to ${MAX_CODE_SECONDS}) and tokenTtlSeconds (1 to ${MAX_TOKEN_SECONDS})`;
const decodeCode = Schema.decodeUnknownEither(ActivationCodeRecord, options);

/** A parsed `POST /v1/activation-codes` body, or why it is refused. */
export const decodeActivationCodeRequest = (body: unknown): Either.Either<ActivationCodeRequest, InvalidParameter> =>
  !isObject(body)
    ? Either.left(notAnObject(CODE_FIELDS))
    : Either.map(Either.mapLeft(decodeCode(body), refusal(CODE_FIELDS)), (c) => ({ userId: c.userId, ttlSeconds: c.ttlSeconds ?? DEFAULT_CODE_SECONDS, tokenTtlSeconds: c.tokenTtlSeconds ?? DEFAULT_TOKEN_SECONDS }));

/** A domain as an activation binds it (see normalizeDomain). */
const Domain = Schema.String.pipe(
  Schema.maxLength(259),
  Schema.transformOrFail(Schema.String, {
    strict: true,
    decode: (s, _, ast) => {
      const d = normalizeDomain(s);
      return d === null ? ParseResult.fail(new ParseResult.Type(ast, s, "expected a host name with an optional port, e.g. shop.example.com (an international name in its xn-- form)")) : ParseResult.succeed(d);
    },
    encode: (d) => ParseResult.succeed(d),
  }),
);

const ActivateRecord = Schema.Struct({ code: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)), domain: Domain });
const RefreshRecord = Schema.Struct({ refreshToken: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)), domain: Domain });

export type ActivateRequest = { readonly code: string; readonly domain: string };
export type RefreshRequest = { readonly refreshToken: string; readonly domain: string };

const decodeActivate = Schema.decodeUnknownEither(ActivateRecord, options);
const decodeRefresh = Schema.decodeUnknownEither(RefreshRecord, options);

/** A parsed `POST /v1/activate` body, or why it is refused. */
export const decodeActivateRequest = (body: unknown): Either.Either<ActivateRequest, InvalidParameter> =>
  !isObject(body) ? Either.left(notAnObject("with code and domain")) : Either.mapLeft(decodeActivate(body), refusal("with code and domain"));

/** A parsed `POST /v1/refresh` body, or why it is refused. */
export const decodeRefreshRequest = (body: unknown): Either.Either<RefreshRequest, InvalidParameter> =>
  !isObject(body) ? Either.left(notAnObject("with refreshToken and domain")) : Either.mapLeft(decodeRefresh(body), refusal("with refreshToken and domain"));
