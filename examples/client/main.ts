// Example client: what one user may use, asked of a running Verity through typed GraphQL documents.
//
//   VERITY_URL=http://localhost:4000 VERITY_API_KEY=<key> npx tsx examples/client/main.ts <userId> [feature]
//
// <userId> is your app's user id or a provider customer id (e.g. cus_…). The key needs the `read`
// scope; with the `events` scope it also lists the latest stored events. It prints the user's
// subscription and entitlements, one entitlement (the named feature, else the first), the user's
// transition log and a page of events.
//
// The queries live in examples/client/*.graphql; `npm run codegen` turns them and schema.graphql into
// examples/client/generated/graphql.ts, so a field renamed in the schema breaks `npx tsc --noEmit` here
// instead of at run time. To add a query: write a .graphql file beside these, run `npm run codegen`,
// and pass the new `…Document` to client.request().
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createVerityClient, VerityRequestError, type VerityClient } from "./client.js";
import { EntitlementDocument, EventsDocument, TransitionsDocument, UserDocument } from "./generated/graphql.js";

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
  for (const t of transitions) lines.push(`  ${t.at} ${t.entity}:${t.entityId} ${t.field} ${t.from ?? "∅"} → ${t.to ?? "∅"} (${t.cause})`);

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

const main = async (): Promise<void> => {
  const [userId, feature] = process.argv.slice(2);
  const apiKey = process.env.VERITY_API_KEY;
  if (userId === undefined || apiKey === undefined) {
    console.error("usage: VERITY_URL=http://localhost:4000 VERITY_API_KEY=<key> npx tsx examples/client/main.ts <userId> [feature]");
    process.exitCode = 2;
    return;
  }
  const client = createVerityClient({ url: process.env.VERITY_URL ?? "http://localhost:4000", apiKey });
  try {
    console.log((await report(client, userId, feature)).join("\n"));
  } catch (e) {
    console.error(e instanceof VerityRequestError ? `verity: ${e.message}` : e);
    process.exitCode = 1;
  }
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
