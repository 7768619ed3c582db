// A stored event as the resolver sees it: its raw bytes parsed and normalized by its provider.
// The projector and the offline commands both use it; it needs no database, so `verity/replay`
// stays free of Prisma and pg.
import type { Catalog } from "../domain/catalog.js";
import { noHint, type NormalizedEvent } from "../domain/event.js";
import { APP_SOURCE } from "../domain/source.js";
import { normalize } from "../providers/registry.js";
import type { StoredEvent } from "./events.js";
import { withoutNul } from "./parsed-copy.js";

/** The body parsed, NUL characters replaced; a copy only when the text can hold NUL at all. */
const parseBody = (event: StoredEvent): unknown => {
  const text = event.bodyText ?? Buffer.from(event.rawBody).toString("utf8");
  const parsed = JSON.parse(text) as unknown;
  // JSON can carry NUL only as the escape \u0000: without one, nothing needs replacing.
  return text.includes("\\u0000") ? withoutNul(parsed) : parsed;
};

/**
 * The app's own records (usage) mean no fact for the resolver: they are summed into counters as
 * they are stored (see store/usage.ts), so they belong to no component and cost the fold nothing.
 */
const appEvent = (event: StoredEvent): NormalizedEvent => ({
  provider: APP_SOURCE,
  eventId: event.providerEventId,
  type: event.type,
  occurredAt: event.occurredAt,
  hint: noHint,
  facts: [],
});

export const normalizeStored = (event: StoredEvent, catalog: Catalog): NormalizedEvent =>
  event.provider === APP_SOURCE ? appEvent(event) : normalize(
    event.provider,
    {
      providerEventId: event.providerEventId,
      type: event.type,
      occurredAt: event.occurredAt,
      // The raw bytes are the record; parsing them here is what offline replay does too (also for
      // an event kept raw only). NUL characters cannot be stored in PostgreSQL text, so derived
      // values never carry them.
      payload: parseBody(event),
    },
    { userIdKeys: catalog.userIdKeys },
  );
