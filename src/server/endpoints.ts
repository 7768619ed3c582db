// The admin API of webhooks out (scope admin), the same as `verity endpoints`:
//   GET    /api/admin/endpoints                    the endpoints (never their secrets)
//   POST   /api/admin/endpoints                    { url, filter?, fromStart? } → 201, with the secret once
//   DELETE /api/admin/endpoints/{id}               removes it and what it was owed
//   POST   /api/admin/endpoints/{id}/roll-secret   a new secret; the old one signs beside it for 24 hours
import { Either, Schema } from "effect";
import { parseEndpointFilter } from "../domain/webhooks-out.js";
import type { Database } from "../store/database.js";
import { createEndpoint, deleteEndpoint, listEndpoints, rollEndpointSecret, type EndpointRow } from "../store/webhook-endpoints.js";
import { EndpointNotFound, InvalidParameter, MethodNotAllowed, ok, type Answer, type Refused } from "./errors.js";

export const ENDPOINTS_ROUTE = /^\/api\/admin\/endpoints(?:\/([^/]+)(\/roll-secret)?)?$/;
/** How long a rolled secret still signs beside the new one. */
export const ROLL_OVERLAP_MS = 24 * 3_600_000;

const EndpointBody = Schema.Struct({
  url: Schema.String.pipe(Schema.filter((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), { message: () => "must be an http or https URL" })),
  filter: Schema.optional(Schema.String),
  fromStart: Schema.optional(Schema.Boolean),
});
const decodeBody = Schema.decodeUnknownEither(EndpointBody, { errors: "all", onExcessProperty: "error" });

export const endpointJson = (e: EndpointRow) => ({ id: e.id, url: e.url, filter: e.filter, fedThrough: e.cursor, createdAt: e.createdAt.toISOString() });

export const serveEndpoints = async (db: Database, method: string, route: RegExpExecArray, body: () => Promise<Either.Either<unknown, Refused>>, now: Date): Promise<Either.Either<Answer, Refused>> => {
  const [, id, roll] = route;
  if (id === undefined) {
    if (method === "GET") return Either.right(ok({ endpoints: (await listEndpoints(db)).map(endpointJson) }));
    if (method !== "POST") return Either.left(new MethodNotAllowed({ message: "endpoints are listed with GET and created with POST" }));
    const parsed = await body();
    if (Either.isLeft(parsed)) return Either.left(parsed.left);
    const decoded = decodeBody(parsed.right);
    if (Either.isLeft(decoded)) return Either.left(new InvalidParameter({ message: `invalid endpoint: ${decoded.left.message.replace(/\s+/g, " ")}` }));
    const filter = parseEndpointFilter(decoded.right.filter ?? null);
    if ("error" in filter) return Either.left(new InvalidParameter({ message: `filter: ${filter.error}` }));
    const created = await createEndpoint(db, { url: decoded.right.url, filter: decoded.right.filter ?? null, fromStart: decoded.right.fromStart ?? false }, now);
    return Either.right({ status: 201, body: { endpoint: endpointJson(created), secret: created.secret } });
  }
  if (roll !== undefined) {
    if (method !== "POST") return Either.left(new MethodNotAllowed({ message: "roll a secret with POST" }));
    const rolled = await rollEndpointSecret(db, id, now, ROLL_OVERLAP_MS);
    return rolled === null ? Either.left(new EndpointNotFound({ id })) : Either.right(ok({ endpoint: endpointJson(rolled), secret: rolled.secret, previousSecretUntil: rolled.previousUntil!.toISOString() }));
  }
  if (method !== "DELETE") return Either.left(new MethodNotAllowed({ message: "an endpoint is removed with DELETE" }));
  return (await deleteEndpoint(db, id)) ? Either.right(ok({ deleted: id })) : Either.left(new EndpointNotFound({ id }));
};
