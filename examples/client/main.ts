// Example client: what one user may use, asked of a running Verity through typed GraphQL documents.
//
//   VERITY_URL=http://localhost:4000 VERITY_API_KEY=<key> npx tsx examples/client/main.ts <userId> [feature]
//     [--follow [--after <cursor>]]
//
// <userId> is your app's user id or a provider customer id (e.g. cus_…). The key needs the `read`
// scope; with the `events` scope it also lists the latest stored events. It prints the user's
// subscription and entitlements, one entitlement (the named feature, else the first), the user's
// transition log and a page of events. With --follow it then prints the user's transitions as they
// happen (live.ts: the LiveTransitions subscription over graphql-sse), each with its cursor; pass
// the last one as --after to resume where an earlier run stopped.
//
// The queries live in examples/client/*.graphql; `npm run codegen` turns them and schema.graphql into
// examples/client/generated/graphql.ts, so a field renamed in the schema breaks `npx tsc --noEmit` here
// instead of at run time. To add a query: write a .graphql file beside these, run `npm run codegen`,
// and pass the new `…Document` to client.request().
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createVerityClient, VerityRequestError, type VerityClient } from "./client.js";
import { EntitlementDocument, EventsDocument, TransitionsDocument, UserDocument, type TransitionsQuery } from "./generated/graphql.js";
import { liveTransitions } from "./live.js";

/** One transition as a line; the query's log and the live stream share these fields. */
export const transitionLine = (t: TransitionsQuery["transitions"][number]): string =>
  `${t.at} ${t.entity}:${t.entityId} ${t.field} ${t.from ?? "∅"} → ${t.to ?? "∅"} (${t.cause})`;

/** Queries Verity about one user and returns the report as lines of text. */
export const report = async (client: VerityClient, userId: string, feature?: string): Promise<string[]> => {
  const { user } = await client.request(UserDocument, { id: userId });
  if (user === null) return [`no user ${userId}`];
  const lines = [`user ${user.id} (${user.verityId}) ${user.status}${user.email === null ? "" : ` <${user.email}>`}`];
  const sub = user.subscription;
  lines.push(
    sub === null
      ? "  no live subscription"
      : `  subscription ${sub.provider}:${sub.id} plan=${sub.plan ?? "-"} status=${sub.status} until=${sub.currentPeriodEnd ?? "-"}${sub.cancelAtPeriodEnd ? " (cancels at period end)" : ""}`,
  );
  for (const e of user.entitlements) {
    const quota = e.limit === null ? "" : ` ${e.used ?? 0}/${e.limit} used, resets ${e.resetsAt ?? "-"}`;
    lines.push(`  ${e.enabled ? "✓" : "✗"} ${e.feature}${e.source === null ? "" : ` via ${e.source}`}${quota}`);
  }

  const asked = feature ?? user.entitlements[0]?.feature;
  if (asked !== undefined) {
    const { entitlement } = await client.request(EntitlementDocument, { userId, feature: asked });
    lines.push(`entitlement ${asked}: ${entitlement === null ? "unknown user" : entitlement.enabled ? `enabled, remaining ${entitlement.remaining ?? "unlimited"}` : "disabled"}`);
  }

  const { transitions } = await client.request(TransitionsDocument, { userId, first: 20 });
  lines.push(`transitions (${transitions.length}):`);
  for (const t of transitions) lines.push(`  ${transitionLine(t)}`);

  try {
    const { events } = await client.request(EventsDocument, { limit: 5 });
    lines.push(`events (first ${events.events.length}${events.next === null ? "" : `, more after ${events.next}`}):`);
    for (const e of events.events) lines.push(`  ${e.receivedAt} ${e.provider}:${e.id} ${e.type}`);
  } catch (e) {
    if (!(e instanceof VerityRequestError && e.code === "forbidden")) throw e;
    lines.push("events: this key lacks the events scope");
  }
  return lines;
};

const USAGE = "usage: VERITY_URL=http://localhost:4000 VERITY_API_KEY=<key> npx tsx examples/client/main.ts <userId> [feature] [--follow [--after <cursor>]]";

const main = async (): Promise<void> => {
  let args;
  try {
    args = parseArgs({ allowPositionals: true, options: { follow: { type: "boolean" }, after: { type: "string" } } });
  } catch {
    args = undefined;
  }
  const [userId, feature] = args?.positionals ?? [];
  const apiKey = process.env.VERITY_API_KEY;
  if (args === undefined || userId === undefined || apiKey === undefined) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const options = { url: process.env.VERITY_URL ?? "http://localhost:4000", apiKey };
  try {
    console.log((await report(createVerityClient(options), userId, feature)).join("\n"));
    if (args.values.follow !== true) return;
    // Runs until Ctrl-C; reconnects by itself, resuming after the last cursor printed.
    console.log(`following ${userId}'s transitions${args.values.after === undefined ? "" : ` after ${args.values.after}`}…`);
    for await (const t of liveTransitions(options, { userId, after: args.values.after })) console.log(`  ${transitionLine(t)} cursor=${t.cursor}`);
  } catch (e) {
    console.error(e instanceof VerityRequestError ? `verity: ${e.message}` : e);
    process.exitCode = 1;
  }
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
