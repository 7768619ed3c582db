// A small business history for the dashboard, delivered as signed Stripe webhooks to a running
// server, and the figures it must show (worked out by hand from the history, not by the code
// under test). `now` is the server's clock, in seconds.
//   a: active Starter ($9/month) since 10 days ago, paid then         → new MRR
//   b: active Scale ($49/month) since 5 days ago, paid then           → new MRR
//   c: trialing Starter, trial ends in 7 days                          → a trial, no MRR
//   d: active Starter since 40 days ago (paid then), past due since yesterday, its renewal failed
//   e: active Starter since 60 days ago (paid then), canceled 20 days ago → churned MRR
import type { Catalog } from "../../src/domain/catalog.js";
import { customer, invoice, stripeEvent, subscription } from "../builders/stripe.js";
import { deliver } from "./stripe-delivery.js";

export const DASHBOARD_PRICES = { starter: "price_dash_starter", scale: "price_dash_scale" } as const;

export const dashboardCatalog: Catalog = {
  plans: {
    starter: {
      code: "starter",
      name: "Starter",
      prices: { stripe: [DASHBOARD_PRICES.starter] },
      features: { export: { _tag: "Flag" }, api_calls: { _tag: "Metered", limit: 1_000, per: "month", overage: "block", decimals: 0 } },
      credits: null,
      lifetime: false,
      price: { amount: 900, currency: "usd", interval: "month" },
    },
    scale: {
      code: "scale",
      name: "Scale",
      prices: { stripe: [DASHBOARD_PRICES.scale] },
      features: { export: { _tag: "Flag" }, api_calls: { _tag: "Metered", limit: 10_000, per: "month", overage: "block", decimals: 0 } },
      credits: null,
      lifetime: false,
      price: { amount: 4900, currency: "usd", interval: "month" },
    },
  },
  grace: { pastDueDays: 3 },
  userIdKeys: ["user_id"],
};

/** What the dashboard must show for the seeded history (USD). */
export const SEEDED = {
  activeCustomers: 4,
  mrr: "$67.00",
  subscriptions: 5,
  newMrr: "$58.00",
  churnedMrr: "$9.00",
  netMrr: "$49.00",
  nrr: "USD 50.0%",
  trials: 1,
  pastDue: 1,
  atRisk: "$9.00",
} as const;

const DAY = 86_400;

export const seedDashboardHistory = async (url: string, now: number): Promise<void> => {
  const send = (event: Parameters<typeof deliver>[1]) => deliver(url, event, { timestamp: now });
  const open = async (user: string, price: string, since: number, status: "active" | "trialing", paid: number | null, trialEnd: number | null = null) => {
    await send(stripeEvent({ id: `evt_cus_${user}`, type: "customer.created", created: since, object: customer({ id: `cus_${user}`, email: `${user}@example.com`, metadata: { user_id: user } }) }));
    const sub = subscription({ id: `sub_${user}`, customer: `cus_${user}`, status, priceId: price, periodStart: since, periodEnd: since + 30 * DAY, shape: "basil", trialStart: trialEnd === null ? null : since, trialEnd });
    await send(stripeEvent({ id: `evt_sub_${user}`, type: "customer.subscription.created", created: since, object: sub }));
    if (paid !== null) {
      const inv = invoice({ id: `in_${user}`, customer: `cus_${user}`, subscription: `sub_${user}`, priceId: price, amountPaid: paid, billingReason: "subscription_create", created: since, periodStart: since, periodEnd: since + 30 * DAY, shape: "basil" });
      await send(stripeEvent({ id: `evt_inv_${user}`, type: "invoice.paid", created: since, object: inv }));
    }
  };
  await open("user_a", DASHBOARD_PRICES.starter, now - 10 * DAY, "active", 900);
  await open("user_b", DASHBOARD_PRICES.scale, now - 5 * DAY, "active", 4900);
  await open("user_c", DASHBOARD_PRICES.starter, now - 2 * DAY, "trialing", null, now + 7 * DAY);
  await open("user_d", DASHBOARD_PRICES.starter, now - 40 * DAY, "active", 900);
  const renewal = now - DAY;
  await send(
    stripeEvent({
      id: "evt_sub_user_d_past_due",
      type: "customer.subscription.updated",
      created: renewal,
      object: subscription({ id: "sub_user_d", customer: "cus_user_d", status: "past_due", priceId: DASHBOARD_PRICES.starter, periodStart: renewal, periodEnd: renewal + 30 * DAY, shape: "basil" }),
    }),
  );
  const failed = invoice({
    id: "in_user_d_renewal",
    customer: "cus_user_d",
    subscription: "sub_user_d",
    priceId: DASHBOARD_PRICES.starter,
    amountPaid: 0,
    amountDue: 900,
    billingReason: "subscription_cycle",
    created: renewal,
    periodStart: renewal,
    periodEnd: renewal + 30 * DAY,
    attemptCount: 1,
    shape: "basil",
  });
  await send(stripeEvent({ id: "evt_inv_user_d_failed", type: "invoice.payment_failed", created: renewal, object: failed }));
  await open("user_e", DASHBOARD_PRICES.starter, now - 60 * DAY, "active", 900);
  const end = now - 20 * DAY;
  await send(
    stripeEvent({
      id: "evt_sub_user_e_deleted",
      type: "customer.subscription.deleted",
      created: end,
      object: subscription({ id: "sub_user_e", customer: "cus_user_e", status: "canceled", priceId: DASHBOARD_PRICES.starter, periodStart: now - 60 * DAY, periodEnd: now - 30 * DAY, shape: "basil", canceledAt: end, endedAt: end }),
    }),
  );
};
