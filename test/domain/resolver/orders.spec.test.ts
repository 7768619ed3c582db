// The orders view in canonical facts: one-time purchases, invoices, and what refunds do to them.
import { describe, expect, it } from "vitest";
import { checkoutCompleted, checkoutItemsFetched, customerSeen, DAY, paymentFailed, paymentLinked, paymentSucceeded, refundIssued, T0 } from "../../builders/facts.js";
import { enabled, given } from "../../support/spec.js";

const AMOUNT = 19_900;
const known = customerSeen({ customer: "cus_1", appUserId: "u_1" });
const purchase = checkoutCompleted({ checkout: "cs_1", customer: "cus_1", appUserId: "u_1", amount: AMOUNT, paymentRefs: ["pi_1"] });
const LATER = T0 + 10 * 365 * DAY;
// A charge's refund names the charge and its payment intent; the checkout named the intent.
const charge = (at: number, c: Omit<Parameters<typeof refundIssued>[0], "paymentRefs">) => refundIssued({ paymentRefs: ["ch_1", "pi_1"], at, ...c });

describe("orders: one-time purchases", () => {
  it("a paid one-time checkout is an order of its plan, granted without end", () => {
    const out = given(known).when(purchase);
    const user = out.user("u_1");
    out.then([
      ["order", "stripe:cs_1", "status", null, "paid"],
      ["order", "stripe:cs_1", "plan", null, "lifetime"],
      ["user", user, "status", "inactive", "active"],
      ["entitlement", `${user}:api_calls`, "source", null, "lifetime"],
      ["entitlement", `${user}:export`, "source", null, "lifetime"],
    ]);
    expect(enabled(out.entitlements("u_1", LATER))).toStrictEqual(["api_calls", "export"]);
  });

  it("a checkout whose event did not say what was bought takes the line items fetched for it, in either order", () => {
    const blind = checkoutCompleted({ checkout: "cs_1", customer: "cus_1", appUserId: "u_1", priceIds: null });
    const items = checkoutItemsFetched({ checkout: "cs_1", priceIds: ["price_lifetime"] });
    for (const facts of [[blind, items], [items, blind]]) {
      const out = given(known).when(...facts);
      expect(out.state.orders.get("stripe:cs_1")).toMatchObject({ plan: "lifetime", priceIds: ["price_lifetime"] });
    }
  });

  it("an unpaid checkout is pending and grants nothing until paid", () => {
    const out = given(known).when(checkoutCompleted({ checkout: "cs_1", customer: "cus_1", paid: false }));
    expect(out.state.orders.get("stripe:cs_1")?.status).toBe("pending");
    expect(enabled(out.entitlements("u_1", T0 + DAY))).toStrictEqual([]);
  });
});

describe("orders: refunds", () => {
  it("a partial refund keeps the purchase; the rest ends it", () => {
    const partly = given(known, purchase).when(charge(T0 + DAY, { refunds: { re_1: 5_000 }, totalRefunded: 5_000 }));
    expect(partly.state.orders.get("stripe:cs_1")).toMatchObject({ status: "partially_refunded", amountRefunded: 5_000 });
    expect(enabled(partly.entitlements("u_1", LATER))).toStrictEqual(["api_calls", "export"]);
    const full = given(known, purchase, charge(T0 + DAY, { refunds: { re_1: 5_000 }, totalRefunded: 5_000 })).when(
      charge(T0 + 2 * DAY, { refunds: { re_2: AMOUNT - 5_000 }, totalRefunded: AMOUNT }),
    );
    const user = full.user("u_1");
    full.then([
      ["order", "stripe:cs_1", "status", "partially_refunded", "refunded"],
      ["user", user, "status", "active", "inactive"],
      ["entitlement", `${user}:api_calls`, "source", "lifetime", null],
      ["entitlement", `${user}:export`, "source", "lifetime", null],
    ]);
  });

  it("a refund seen before its payment is kept in the ledger and counted when the order arrives", () => {
    const out = given(known, charge(T0, { refunds: { re_1: AMOUNT }, totalRefunded: AMOUNT })).when(purchase);
    expect(out.state.orders.get("stripe:cs_1")).toMatchObject({ status: "refunded", amountRefunded: AMOUNT });
  });

  it("a refund that fails gives the amount back: a pending full refund that then fails leaves it paid", () => {
    const pending = charge(T0 + DAY, { refunds: { re_1: AMOUNT }, totalRefunded: AMOUNT });
    const out = given(known, purchase, pending).when(charge(T0 + 2 * DAY, { refunds: { re_1: 0 }, totalRefunded: 0 }));
    expect(out.state.orders.get("stripe:cs_1")).toMatchObject({ status: "paid", amountRefunded: 0 });
    expect(enabled(out.entitlements("u_1", LATER))).toStrictEqual(["api_calls", "export"]);
  });

  it("a stated total counted a refund that later failed: the failure comes out of it", () => {
    const stated = charge(T0 + DAY, { refunds: { re_1: AMOUNT }, totalRefunded: AMOUNT });
    const out = given(known, purchase, stated).when(charge(T0 + 2 * DAY, { refunds: { re_1: 0 } }));
    expect(out.state.orders.get("stripe:cs_1")).toMatchObject({ status: "paid", amountRefunded: 0 });
  });

  it("an invoice linked to its payment later is found by a refund of that payment, in any order", () => {
    const paid = paymentSucceeded({ payment: "in_1", customer: "cus_1", subscription: "sub_1", amount: 1_900 });
    const link = paymentLinked({ payment: "in_1", paymentRefs: ["pi_9"] });
    const refund = refundIssued({ paymentRefs: ["pi_9"], refunds: { re_9: 1_900 }, at: T0 + DAY });
    for (const facts of [[paid, link, refund], [refund, link, paid], [link, refund, paid]]) {
      const out = given(known).when(...facts);
      expect(out.state.orders.get("stripe:in_1")).toMatchObject({ kind: "subscription", subscriptionId: "stripe:sub_1", status: "refunded", amountRefunded: 1_900 });
    }
  });

  it("a failed payment changes no order and is reported on the user", () => {
    const out = given(known).when(paymentFailed({ payment: "in_2", customer: "cus_1" }));
    expect(out.state.orders.get("stripe:in_2")).toBeUndefined();
    expect(out.transitions.filter((t) => t.entity === "payment").map((t) => [t.entityId, t.to])).toStrictEqual([["stripe:in_2", "failed"]]);
  });
});
