// A stored event as the resolver sees it: its raw bytes parsed and normalized by its provider.
// The projector and the offline commands both use it; it needs no database, so `verity/replay`
// stays free of Prisma and pg.
import type { Catalog } from "../domain/catalog.js";
import type { NormalizedEvent } from "../domain/event.js";
import { normalize } from "../providers/registry.js";
import { queryablePayload, type StoredEvent } from "./events.js";

export const normalizeStored = (event: StoredEvent, catalog: Catalog): NormalizedEvent =>
  normalize(
    event.provider,
    {
      providerEventId: event.providerEventId,
      type: event.type,
      occurredAt: event.occurredAt,
      // The raw bytes are the record; parsing them here is what offline replay does too. NUL
      // characters cannot be stored in PostgreSQL text, so derived values never carry them.
      payload: queryablePayload(JSON.parse(Buffer.from(event.rawBody).toString("utf8"))),
    },
    { userIdKeys: catalog.userIdKeys },
  );
