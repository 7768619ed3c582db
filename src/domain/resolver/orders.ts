// Orders view: one-time checkouts and paid invoices, the refund ledgers of their payments, payment
// references learned apart from their order, and line items fetched for a checkout.
import { planForPrices } from "../catalog.js";
import type { CheckoutCompleted, CheckoutItemsFetched, PaymentFailed, PaymentLinked, PaymentSucceeded, RefundIssued } from "../facts.js";
import type { Provider } from "../provider.js";
import { ordersOf, type Order, type OrderStatus, type RefundLedger, type State } from "../state.js";
import { adopted, change, unchanged, type Claim, type Ctx, type Evolve, type Step } from "./view.js";

const emptyLedger: RefundLedger = { byId: {}, statedTotal: null, counted: {} };

/**
 * One refund fact folded into a payment reference's ledger. Amounts per refund id are replaced by
 * the latest (the normalizer gives a failed or canceled refund 0). A stated total replaces the
 * previous one, and records which refunds counted when it was stated: those known by id with an
 * amount above 0 after this fact (an event that lists its refunds states both at once).
 */
const foldLedger = (ledger: RefundLedger, fact: RefundIssued): RefundLedger => {
  const byId = { ...ledger.byId, ...fact.refunds };
  if (fact.totalRefunded === null) return { ...ledger, byId };
  const counted = Object.fromEntries(Object.entries(byId).filter(([, amount]) => amount > 0));
  return { byId, statedTotal: fact.totalRefunded, counted };
};

/**
 * Ledgers are kept per provider and payment reference: two providers' ids may coincide, and a
 * reference is provider data.
 */
const ledgerKey = (provider: Provider, ref: string): string => `${provider}:${ref}`;

/**
 * The stated total less what refunds it counted have since given back: a refund counted at 500
 * that later failed (now 0) takes 500 out of it.
 * Limitation: a total stated before a refund was known by id cannot tell whether it included that
 * refund, so that refund's later failure does not lower it; only a newer stated total (or the
 * per-id sum, when it is larger) corrects it. In canonical order Stripe's refund.created comes
 * before the charge.refunded of the same second, so the usual case is covered.
 */
const adjustedStatedTotal = (ledger: RefundLedger): number | null => {
  if (ledger.statedTotal === null) return null;
  let total = ledger.statedTotal;
  for (const [id, amount] of Object.entries(ledger.counted)) total -= Math.max(amount - (ledger.byId[id] ?? amount), 0);
  return Math.max(total, 0);
};

/**
 * How much of a payment went back: the larger of the sum of the refunds known by id (over all
 * the order's payment references) and the adjusted stated total of any of them (the charge and its
 * payment intent carry the same totals; the larger covers a fact that named only one of them).
 * The caller caps it at the order amount.
 */
const refundedAmount = (state: State, provider: Provider, refs: readonly string[]): number => {
  const ledgers = refs.map((r) => state.refunds.get(ledgerKey(provider, r))).filter((l) => l !== undefined);
  const byId: Record<string, number> = {};
  for (const l of ledgers) for (const [id, amount] of Object.entries(l.byId)) byId[`#${id}`] = amount;
  const summed = Object.values(byId).reduce((a, b) => a + b, 0);
  const stated = ledgers.map(adjustedStatedTotal).filter((t): t is number => t !== null);
  return Math.max(summed, ...stated, 0);
};

const orderStatus = (amount: number, refunded: number, paid: boolean): OrderStatus =>
  !paid ? "pending" : refunded <= 0 ? "paid" : refunded >= amount ? "refunded" : "partially_refunded";

/** The order with its refunds recomputed, and its status change against `before` (read before any write). */
const settle = (state: State, order: Order, before: Order | undefined, ctx: Ctx): Step => {
  const amountRefunded = Math.min(refundedAmount(state, order.provider, order.paymentRefs), order.amount);
  const status = orderStatus(order.amount, amountRefunded, order.status !== "pending");
  const after = { ...order, amountRefunded, status };
  return {
    state: { ...state, orders: state.orders.set(order.id, after) },
    transitions: [
      ...change(ctx, order.userId, "order", order.id, "status", before?.status ?? null, after.status),
      ...change(ctx, order.userId, "order", order.id, "plan", before?.plan ?? null, after.plan),
    ],
  };
};

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];

/** A placed order merged with what is known of it already (payment references, a paid status). */
const record = (state: State, placed: Order, ctx: Ctx): Step => {
  const before = state.orders.get(placed.id);
  const order = { ...placed, paymentRefs: union(placed.paymentRefs, state.paymentLinks.get(placed.id) ?? []) };
  const merged: Order = before ? { ...order, paymentRefs: union(before.paymentRefs, order.paymentRefs), status: before.status === "pending" ? order.status : before.status } : order;
  return settle(state, merged, before, ctx);
};

/** A one-time checkout is an order of the owner of its key (a subscription checkout only reveals the user). */
const checkout = (state: State, fact: CheckoutCompleted, claim: Claim): Step => {
  if (fact.mode === "subscription") return unchanged(state);
  const id = `${fact.provider}:${fact.checkoutId}`;
  const priceIds = fact.priceIds ?? state.checkoutItems.get(id) ?? [];
  return record(
    state,
    {
      id,
      provider: fact.provider,
      providerId: fact.checkoutId,
      userId: claim.subject,
      kind: "one_time",
      plan: planForPrices(claim.catalog, fact.provider, priceIds),
      priceIds,
      subscriptionId: null,
      amount: fact.amount,
      amountRefunded: 0,
      currency: fact.currency,
      status: fact.paid ? "paid" : "pending",
      paidAt: fact.at,
      paymentRefs: fact.paymentRefs,
    },
    claim,
  );
};

/** Line items fetched after the checkout: kept, and given to its order when that had none. */
const checkoutItems = (state: State, fact: CheckoutItemsFetched, ctx: Ctx): Step => {
  const id = `${fact.provider}:${fact.checkoutId}`;
  const kept = { ...state, checkoutItems: state.checkoutItems.set(id, fact.priceIds) };
  const order = kept.orders.get(id);
  if (!order || order.priceIds.length > 0) return unchanged(kept);
  return settle(kept, { ...order, priceIds: fact.priceIds, plan: planForPrices(ctx.catalog, fact.provider, fact.priceIds) }, order, ctx);
};

const payment = (state: State, fact: PaymentSucceeded, claim: Claim): Step =>
  record(
    state,
    {
      id: `${fact.provider}:${fact.paymentId}`,
      provider: fact.provider,
      providerId: fact.paymentId,
      userId: claim.subject,
      kind: fact.subscriptionId === null ? "one_time" : "subscription",
      plan: planForPrices(claim.catalog, fact.provider, fact.priceIds),
      priceIds: fact.priceIds,
      subscriptionId: fact.subscriptionId === null ? null : `${fact.provider}:${fact.subscriptionId}`,
      amount: fact.amount,
      amountRefunded: 0,
      currency: fact.currency,
      status: "paid",
      paidAt: fact.at,
      paymentRefs: fact.paymentRefs,
    },
    claim,
  );

/** A failed payment changes no order: it is reported on the claimed user. */
const paymentFailed = (state: State, fact: PaymentFailed, claim: Claim): Step => ({
  state,
  transitions: change(claim, claim.userId, "payment", `${fact.provider}:${fact.paymentId}`, "status", null, "failed"),
});

const paymentLinked = (state: State, fact: PaymentLinked, ctx: Ctx): Step => {
  const id = `${fact.provider}:${fact.paymentId}`;
  const linked = { ...state, paymentLinks: state.paymentLinks.set(id, union(state.paymentLinks.get(id) ?? [], fact.paymentRefs)) };
  const order = linked.orders.get(id);
  if (!order) return unchanged(linked);
  return settle(linked, { ...order, paymentRefs: union(order.paymentRefs, fact.paymentRefs) }, order, ctx);
};

const refund = (state: State, fact: RefundIssued, claim: Claim): Step => {
  // The refund names payment keys, so the orders it can touch belong to the user it was claimed by.
  const touched = ordersOf(state, claim.userId).filter((o) => o.paymentRefs.some((r) => fact.paymentRefs.includes(r)));
  let refunds = state.refunds;
  for (const key of fact.paymentRefs.map((ref) => ledgerKey(fact.provider, ref))) refunds = refunds.set(key, foldLedger(refunds.get(key) ?? emptyLedger, fact));
  let next: State = { ...state, refunds };
  const transitions = [];
  for (const order of touched) {
    const settled = settle(next, next.orders.get(order.id)!, order, claim);
    next = settled.state;
    transitions.push(...settled.transitions);
  }
  return { state: next, transitions };
};

export const evolve: Evolve = (state, fact, claim) => {
  const own = claim.absorbed.length === 0 ? state : { ...state, orders: adopted(state.orders, claim, ["invoice", "checkout"]) };
  switch (fact._tag) {
    case "CheckoutCompleted":
      return checkout(own, fact, claim);
    case "CheckoutItemsFetched":
      return checkoutItems(own, fact, claim);
    case "PaymentSucceeded":
      return payment(own, fact, claim);
    case "PaymentFailed":
      return paymentFailed(own, fact, claim);
    case "PaymentLinked":
      return paymentLinked(own, fact, claim);
    case "RefundIssued":
      return refund(own, fact, claim);
    default:
      return unchanged(own);
  }
};
