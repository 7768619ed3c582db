// The one read Verity makes of Stripe's API: a checkout session's line items, when a one-time
// purchase's event does not say what was bought. The answer is stored as an event of its own
// (LINE_ITEMS_EVENT_TYPE), so replay never calls Stripe. Declared here, performed by the edge.
import type { ApiNeeds } from "../types.js";
import { checkoutNeedingLineItems, LINE_ITEMS_EVENT_TYPE, lineItemsEventId } from "./checkout.js";

export const stripeApiNeeds: ApiNeeds = {
  eventTypes: ["checkout.session.completed"],
  needs: (payload) => {
    const sessionId = checkoutNeedingLineItems(payload);
    return sessionId === null
      ? null
      : { eventId: lineItemsEventId(sessionId), type: LINE_ITEMS_EVENT_TYPE, subject: sessionId, path: `/v1/checkout/sessions/${encodeURIComponent(sessionId)}/line_items?limit=100` };
  },
  authorization: (secretKey) => ({ authorization: `Bearer ${secretKey}` }),
  unavailable: "checkout without price metadata and no STRIPE_SECRET_KEY: its plan stays unknown",
};
