// `verity endpoints`: where webhooks out go. create prints the endpoint's signing secret as its last
// line (the app verifies deliveries with it); list, delete and roll-secret manage them.
import { parseEndpointFilter } from "../domain/webhooks-out.js";
import { createEndpoint, deleteEndpoint, listEndpoints, rollEndpointSecret } from "../store/webhook-endpoints.js";
import { openExisting, parse, settingsFor, UsageError, type Io } from "./args.js";

/** How long a rolled secret still signs beside the new one. */
const ROLL_OVERLAP_MS = 24 * 3_600_000;

export const ENDPOINTS_HELP = `Usage: verity endpoints create --url URL [--filter entity=subscription] [--from-start]
       verity endpoints list
       verity endpoints delete ENDPOINT_ID
       verity endpoints roll-secret ENDPOINT_ID

  create       registers an endpoint for webhooks out: every transition from now on (matching
               --filter) is POSTed to URL, signed per Standard Webhooks; the signing secret whsec_…
               is printed as the last line
  --filter     entity=E and/or field=F, comma-separated (entity=subscription,field=status)
  --from-start also deliver every transition already in the log
  list         lists endpoints with their URL, filter and how far they have been fed
  delete       removes an endpoint and what it was still owed
  roll-secret  prints a new secret as the last line; the old one keeps signing beside it for 24 hours`;

export const endpointsCommand = async (args: string[], io: Io): Promise<number> => {
  const { values, positionals } = parse(args, { url: { type: "string" }, filter: { type: "string" }, "from-start": { type: "boolean" } }, true);
  if (values.help || positionals.length === 0) return io.out(ENDPOINTS_HELP), values.help ? 0 : 2;
  const [sub, ...rest] = positionals;
  const expected = sub === "delete" || sub === "roll-secret" ? 1 : 0;
  if (rest.length > expected) throw new UsageError({ message: `unexpected argument "${rest[expected]}"` });
  if (sub !== "create" && sub !== "list" && sub !== "delete" && sub !== "roll-secret") throw new UsageError({ message: `unknown endpoints command "${sub}"; use create, list, delete or roll-secret` });
  const id = rest[0];
  if (expected === 1 && id === undefined) throw new UsageError({ message: `${sub} needs the endpoint's id, e.g. verity endpoints ${sub} we_0123456789abcdef` });
  let url: string | null = null;
  if (sub === "create") {
    const text = typeof values.url === "string" ? values.url : "";
    if (text === "") throw new UsageError({ message: "--url is required, e.g. --url https://app.example.com/webhooks/verity" });
    if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) throw new UsageError({ message: `--url must be an http or https URL, got "${text}"` });
    url = text;
    const filter = parseEndpointFilter(typeof values.filter === "string" ? values.filter : null);
    if ("error" in filter) throw new UsageError({ message: `--filter: ${filter.error}` });
  }
  const db = await openExisting(settingsFor().databaseUrl);
  try {
    switch (sub) {
      case "create": {
        const endpoint = await createEndpoint(db, { url: url!, filter: typeof values.filter === "string" ? values.filter : null, fromStart: values["from-start"] === true }, new Date());
        io.out(`created endpoint ${endpoint.id} → ${endpoint.url}${endpoint.filter === null ? "" : ` (${endpoint.filter})`}; verify deliveries with this secret, shown only once:`);
        io.out(endpoint.secret);
        return 0;
      }
      case "list":
        for (const e of await listEndpoints(db)) io.out(`${e.id}\t${e.url}\t${e.filter ?? "*"}\tfed through transition ${e.cursor}\t${e.createdAt.toISOString()}`);
        return 0;
      case "delete":
        if (!(await deleteEndpoint(db, id!))) return io.err(`verity endpoints: no endpoint has the id "${id}" (see verity endpoints list)`), 2;
        io.out(`deleted ${id}`);
        return 0;
      case "roll-secret": {
        const endpoint = await rollEndpointSecret(db, id!, new Date(), ROLL_OVERLAP_MS);
        if (endpoint === null) return io.err(`verity endpoints: no endpoint has the id "${id}" (see verity endpoints list)`), 2;
        io.out(`new secret for ${id}; the old one keeps signing beside it until ${endpoint.previousUntil!.toISOString()}:`);
        io.out(endpoint.secret);
        return 0;
      }
    }
  } finally {
    await db.close();
  }
};
