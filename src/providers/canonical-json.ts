// Canonical JSON, for ids derived from a body that names none: one text per JSON value, whatever
// its key order or spacing, so a redelivery (same content, maybe re-serialised) derives the same id.
// Pure. Iterative, with an explicit stack: a signed body may nest as deep as its size allows, and
// a derived id must never overflow the call stack. Cost: linear in the size of the value.
import { record } from "./json.js";

const NOTHING_LEFT_OUT: ReadonlySet<string> = new Set();

/** A value still to be written, with its path (null once the path is longer than any left out). */
type Pending = readonly [value: unknown, path: string | null];

/**
 * JSON with object keys sorted by code unit at every depth, no whitespace, numbers as
 * JSON.stringify writes them. Members whose path is in `leaveOut` are skipped: paths are dotted
 * from the top ("meta.webhook_id"), with "[]" for an array element ("items[].id").
 */
export const canonicalJson = (value: unknown, leaveOut = NOTHING_LEFT_OUT): string => {
  // A path only grows with depth, so once it is longer than every path left out it can match none:
  // it is dropped, which keeps deep values linear instead of building ever longer path strings.
  const longest = Math.max(0, ...[...leaveOut].map((p) => p.length));
  const bounded = (next: string): string | null => (next.length > longest ? null : next);
  const elementOf = (path: string | null): string | null => (path === null ? null : bounded(`${path}[]`));
  const memberOf = (path: string | null, key: string): string | null => (path === null ? null : bounded(path === "" ? key : `${path}.${key}`));
  const out: string[] = [];
  // Literal text to write, or a value to serialize; popped from the end.
  const work: (string | Pending)[] = [[value, ""]];
  while (work.length > 0) {
    const item = work.pop()!;
    if (typeof item === "string") {
      out.push(item);
      continue;
    }
    const [current, path] = item;
    if (Array.isArray(current)) {
      out.push("[");
      work.push("]");
      const elementPath = elementOf(path);
      for (let i = current.length - 1; i >= 0; i--) {
        work.push([current[i], elementPath]);
        if (i > 0) work.push(",");
      }
      continue;
    }
    const object = record(current);
    if (object === null) {
      out.push(JSON.stringify(current) ?? "null");
      continue;
    }
    const members = Object.keys(object)
      .sort()
      .map((key) => [key, memberOf(path, key)] as const)
      .filter(([, full]) => full === null || !leaveOut.has(full));
    out.push("{");
    work.push("}");
    for (let i = members.length - 1; i >= 0; i--) {
      const [key, full] = members[i]!;
      work.push([object[key], full]);
      work.push(`${JSON.stringify(key)}:`);
      if (i > 0) work.push(",");
    }
  }
  return out.join("");
};
