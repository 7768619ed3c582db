// Canonical JSON, for ids derived from a body that names none: one text per JSON value, whatever
// its key order or spacing, so a redelivery (same content, maybe re-serialised) derives the same id.
// Pure.
import { record } from "./json.js";

const NOTHING_LEFT_OUT: ReadonlySet<string> = new Set();

/**
 * JSON with object keys sorted by code unit at every depth, no whitespace, numbers as
 * JSON.stringify writes them. Members whose path is in `leaveOut` are skipped: paths are dotted
 * from the top ("meta.webhook_id"), with "[]" for an array element ("items[].id").
 */
export const canonicalJson = (value: unknown, leaveOut = NOTHING_LEFT_OUT, path = ""): string => {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, leaveOut, `${path}[]`)).join(",")}]`;
  const object = record(value);
  if (object === null) return JSON.stringify(value) ?? "null";
  const members = Object.keys(object)
    .sort()
    .map((key) => [key, path === "" ? key : `${path}.${key}`] as const)
    .filter(([, full]) => !leaveOut.has(full))
    .map(([key, full]) => `${JSON.stringify(key)}:${canonicalJson(object[key], leaveOut, full)}`);
  return `{${members.join(",")}}`;
};
