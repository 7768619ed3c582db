// What every provider's envelope decoder shares: the operator-readable account of why a body is
// not an envelope. Each message names the path of what was wrong, so a refused delivery can be
// traced to its source (the provider's settings, a proxy) without reading the body.
import { ParseResult } from "effect";
import { record } from "./json.js";

type Issue = readonly [at: string, message: string];

const describeValue = (payload: unknown): string => (payload === null ? "null" : Array.isArray(payload) ? "an array" : typeof payload);

/** Why the body is no envelope at all ("… must be a JSON object, got an array"), or null when it is an object. */
export const notAnObject = (payload: unknown, what: string): string | null =>
  record(payload) === null ? `${what} must be a JSON object, got ${describeValue(payload)}` : null;

/** Each issue with its dotted path; `root` names the body itself. */
const issuesOf = (error: ParseResult.ParseError, root: string): Issue[] =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => [issue.path.length === 0 ? root : issue.path.map(String).join("."), issue.message]);

const joinIssues = (issues: Iterable<Issue>): string => [...issues].map(([at, message]) => `${at}: ${message}`).join("; ");

/** Every issue, as "path: message; …". */
export const describeIssues = (error: ParseResult.ParseError, root: string): string => joinIssues(issuesOf(error, root));

/** The first issue per path only: an optional member's union would otherwise report each of its alternatives. */
export const describeFirstIssuePerPath = (error: ParseResult.ParseError, root: string): string => {
  const byPath = new Map<string, string>();
  for (const [at, message] of issuesOf(error, root)) if (!byPath.has(at)) byPath.set(at, message);
  return joinIssues(byPath);
};
