// The export format: one stored event per line of NDJSON, its raw body exactly as received.
//
//   {"provider":"stripe","providerEventId":"evt_…","type":"customer.created",
//    "occurredAt":"2026-01-01T00:00:00.000Z","receivedAt":"…","origin":"webhook","seq":17,
//    "body":"{\"id\":\"evt_…\",…}"}
//
// `body` is the raw request body decoded as UTF-8. When those bytes are not valid UTF-8, `body` is
// only a readable approximation and `bodyBase64` carries the exact bytes; a reader takes
// `bodyBase64` whenever it is present. A byte order mark is kept in `body`, so valid UTF-8 always
// round-trips byte for byte.
import { Data } from "effect";
import { isSource, SOURCES } from "../domain/source.js";
import { parseOperatorInstant } from "../domain/time.js";
import type { StoredEvent } from "../store/events.js";

export type ExportedEvent = {
  readonly provider: string;
  readonly providerEventId: string;
  readonly type: string;
  /** ISO 8601 (or epoch milliseconds, for hand-written lines). */
  readonly occurredAt: string | number;
  readonly receivedAt?: string | number;
  readonly origin?: string;
  readonly seq?: number;
  readonly body?: string;
  readonly bodyBase64?: string;
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** A stored event as an export record. */
export const toExported = (event: StoredEvent): ExportedEvent => {
  const bytes = event.rawBody;
  let body: string;
  let bodyBase64: string | undefined;
  try {
    body = strictUtf8.decode(bytes);
  } catch {
    body = lenientUtf8.decode(bytes);
    bodyBase64 = Buffer.from(bytes).toString("base64");
  }
  return {
    provider: event.provider,
    providerEventId: event.providerEventId,
    type: event.type,
    occurredAt: new Date(event.occurredAt).toISOString(),
    receivedAt: new Date(event.receivedAt).toISOString(),
    origin: event.origin,
    seq: event.seq,
    body,
    ...(bodyBase64 === undefined ? {} : { bodyBase64 }),
  };
};

/** One line of the export, newline included. */
export const encodeLine = (event: StoredEvent): string => `${JSON.stringify(toExported(event))}\n`;

/** A line or record that is not a valid export record; `line` is 1-based when known. */
export class ExportFormatError extends Data.TaggedError("ExportFormatError")<{ readonly reason: string; readonly line: number | null }> {
  override get message(): string {
    return this.line === null ? this.reason : `line ${this.line}: ${this.reason}`;
  }
}

const instant = (value: unknown, field: string): number | string => {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const t = parseOperatorInstant(value);
    if (t !== null) return t;
    return `"${field}" is not a date: ${JSON.stringify(value)}`;
  }
  return `"${field}" must be an ISO 8601 date string, got ${value === undefined ? "nothing" : JSON.stringify(value)}`;
};

const text = (record: Record<string, unknown>, field: string, problems: string[]): string => {
  const value = record[field];
  if (typeof value === "string" && value !== "") return value;
  problems.push(`"${field}" must be a non-empty string, got ${value === undefined ? "nothing" : JSON.stringify(value)}`);
  return "";
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * An export record back to the stored event it came from (payload left null: the raw body is the
 * record, and normalizing parses it). `seq`, `receivedAt` and `origin` are optional, so lines can
 * be written by hand to try a plan catalog.
 */
export const fromExported = (value: unknown, line: number | null = null): StoredEvent => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ExportFormatError({ reason: "expected a JSON object", line });
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  const provider = text(record, "provider", problems);
  if (provider !== "" && !isSource(provider)) problems.push(`unknown provider "${provider}"; known: ${SOURCES.join(", ")}`);
  const providerEventId = text(record, "providerEventId", problems);
  const type = text(record, "type", problems);
  const occurredAt = instant(record["occurredAt"], "occurredAt");
  if (typeof occurredAt === "string") problems.push(occurredAt);
  const receivedAt = record["receivedAt"] === undefined ? occurredAt : instant(record["receivedAt"], "receivedAt");
  if (typeof receivedAt === "string" && typeof occurredAt === "number") problems.push(receivedAt);
  const seq = record["seq"];
  if (seq !== undefined && !(typeof seq === "number" && Number.isInteger(seq))) problems.push(`"seq" must be an integer, got ${JSON.stringify(seq)}`);
  const origin = record["origin"] ?? "webhook";
  if (typeof origin !== "string") problems.push(`"origin" must be a string, got ${JSON.stringify(origin)}`);
  const body = record["body"];
  const base64 = record["bodyBase64"];
  let rawBody: Uint8Array = new Uint8Array();
  let bodyText: string | undefined;
  if (base64 !== undefined) {
    if (typeof base64 !== "string" || !BASE64.test(base64)) problems.push(`"bodyBase64" must be a base64 string`);
    else rawBody = new Uint8Array(Buffer.from(base64, "base64"));
  } else if (typeof body === "string") {
    rawBody = new TextEncoder().encode(body);
    // Text with a lone surrogate is not what its UTF-8 bytes decode to: those are read from the bytes.
    if (body.isWellFormed()) bodyText = body;
  }
  else problems.push(`"body" must be a string (the raw body as received), got ${body === undefined ? "nothing" : JSON.stringify(body)}`);
  if (problems.length > 0) throw new ExportFormatError({ reason: problems.join("; "), line });
  return {
    seq: typeof seq === "number" ? seq : 0,
    provider: provider as StoredEvent["provider"],
    providerEventId,
    type,
    occurredAt: occurredAt as number,
    receivedAt: receivedAt as number,
    origin: origin as string,
    rawBody,
    payload: null,
    ...(bodyText === undefined ? {} : { bodyText }),
  };
};

/** Parses one NDJSON line (1-based `line` for errors). Blank lines give null. */
export const decodeLine = (text: string, line: number | null = null): StoredEvent | null => {
  if (text.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ExportFormatError({ reason: `not valid JSON (${(e as Error).message})`, line });
  }
  return fromExported(value, line);
};
