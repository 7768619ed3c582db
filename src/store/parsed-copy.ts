// The parsed copy an event is stored with, beside its raw bytes, and the storable form of the text
// columns an event is found by. Both databases must hold the same thing for the same delivery:
// PostgreSQL refuses NUL in text and JSON, and Prisma refuses JSON nested deeper than it can
// serialize, while a signed body may hold either. Everything here is iterative (an explicit stack),
// so no input depth overflows the call stack; each function costs time linear in its input.
import { createHash } from "node:crypto";

const NUL = String.fromCharCode(0);
const REPLACEMENT = "\uFFFD";

/** Deepest nesting a parsed copy keeps; Prisma's JSON serialization refuses deeper values. */
export const MAX_PARSED_COPY_DEPTH = 64;

const cleanText = (s: string): string => (s.includes(NUL) ? s.split(NUL).join(REPLACEMENT) : s);

type Container = Record<string, unknown> | unknown[];

const put = (parent: Container, key: string | number, value: unknown): void => {
  // defineProperty, not assignment: a "__proto__" member of the JSON must stay a plain member.
  if (Array.isArray(parent)) parent[key as number] = value;
  else Object.defineProperty(parent, key, { value, writable: true, enumerable: true, configurable: true });
};

/** Whether a parsed JSON value holds a NUL character in any string or key. */
export const holdsNul = (value: unknown): boolean => {
  const work: unknown[] = [value];
  while (work.length > 0) {
    const current = work.pop();
    if (typeof current === "string") {
      if (current.includes(NUL)) return true;
    } else if (current !== null && typeof current === "object") {
      for (const [k, v] of Object.entries(current)) {
        if (k.includes(NUL)) return true;
        work.push(v);
      }
    }
  }
  return false;
};

/** A deep copy of a parsed JSON value with every NUL character (in strings and keys) replaced by U+FFFD. */
export const withoutNul = (value: unknown): unknown => {
  const root: Record<string, unknown> = {};
  const work: [unknown, Container, string | number][] = [[value, root, "value"]];
  while (work.length > 0) {
    const [current, parent, key] = work.pop()!;
    if (typeof current === "string") put(parent, key, cleanText(current));
    else if (Array.isArray(current)) {
      const copy: unknown[] = new Array(current.length);
      put(parent, key, copy);
      for (let i = 0; i < current.length; i++) work.push([current[i], copy, i]);
    } else if (current !== null && typeof current === "object") {
      const copy: Record<string, unknown> = {};
      put(parent, key, copy);
      // Members are created in order first, so the copy keeps the body's key order.
      const entries = Object.entries(current).map(([k, v]) => [cleanText(k), v] as const);
      for (const [k] of entries) put(copy, k, null);
      for (const [k, v] of entries) work.push([v, copy, k]);
    } else put(parent, key, current);
  }
  return root.value;
};

/** How deep a parsed JSON value nests (a scalar is 0), counting no further than `stopAfter`. */
export const nestingDepth = (value: unknown, stopAfter = Number.POSITIVE_INFINITY): number => {
  let deepest = 0;
  const work: [unknown, number][] = [[value, 0]];
  while (work.length > 0) {
    const [current, depth] = work.pop()!;
    if (current === null || typeof current !== "object") continue;
    const inner = depth + 1;
    if (inner > deepest) deepest = inner;
    if (deepest > stopAfter) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) work.push([child, inner]);
  }
  return deepest;
};

export type ParsedCopy = { readonly _tag: "Copy"; readonly copy: unknown } | { readonly _tag: "RawOnly"; readonly reason: string };

/** The copy kept for queries, or why the event is kept raw only. */
export const parsedCopy = (payload: unknown): ParsedCopy =>
  nestingDepth(payload, MAX_PARSED_COPY_DEPTH) > MAX_PARSED_COPY_DEPTH
    ? { _tag: "RawOnly", reason: `the body nests deeper than ${MAX_PARSED_COPY_DEPTH} levels: kept as raw bytes only, with no parsed copy` }
    : { _tag: "Copy", copy: holdsNul(payload) ? withoutNul(payload) : payload };

/** Longest event id stored as it is; PostgreSQL indexes a few kilobytes at most. */
export const MAX_STORED_ID_LENGTH = 255;

/**
 * An event id as stored and looked up: the provider's id itself when both databases can hold and
 * index it (no NUL, well-formed UTF-16, at most 255 characters), else "sha256_" + the SHA-256 of its
 * JSON text, which keeps distinct ids distinct. The raw body still holds the provider's own id.
 */
export const storedEventId = (id: string): string =>
  !id.includes(NUL) && id.isWellFormed() && id.length <= MAX_STORED_ID_LENGTH
    ? id
    : `sha256_${createHash("sha256").update(JSON.stringify(id), "utf8").digest("hex")}`;

/** An event type as stored: NUL and lone surrogates replaced, at most 255 characters. */
export const storedEventType = (type: string): string => cleanText(type).slice(0, MAX_STORED_ID_LENGTH).toWellFormed();

/** Text for an operator's log (a rejection's message): no control characters, bounded length. */
export const loggableText = (text: string, max = 500): string =>
  text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, REPLACEMENT).slice(0, max).toWellFormed();
