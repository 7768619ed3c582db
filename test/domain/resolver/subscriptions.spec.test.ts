// The subscriptions view and what a subscription grants over time, in canonical facts.
import { describe, expect, it } from "vitest";
import { addDays } from "../../../src/domain/time.js";
import { customerSeen, DAY, subscriptionEnded, subscriptionObserved, T0 } from "../../builders/facts.js";
import { testCatalog } from "../../builders/histories.js";
import { enabled, given } from "../../support/spec.js";

const known = customerSeen({ customer: "cus_1", appUserId: "u_1" });
const observed = (at: number, snapshot: Parameters<typeof subscriptionObserved>[0]["snapshot"] = {}) =>
  subscriptionObserved({ subscription: "sub_1", customer: "cus_1", at, snapshot });
const END = T0 + 30 * DAY;

describe("subscriptions: the latest snapshot, and what Verity derives beside it", () => {
  it("a new subscription reports its status, plan and period end, and what it grants", () => {
    const out = given(known).when(observed(T0));
    const user = out.user("u_1");
    out.then([
      ["subscription", "stripe:sub_1", "status", null, "active"],
      ["subscription", "stripe:sub_1", "plan", null, "pro"],
      ["subscription", "stripe:sub_1", "cancelAtPeriodEnd", null, "false"],
      ["subscription", "stripe:sub_1", "currentPeriodEnd", null, new Date(END).toISOString()],
      ["user", user, "status", "inactive", "active"],
      ["entitlement", `${user}:api_calls`, "source", null, "pro"],
      ["entitlement", `${user}:export`, "source", null, "pro"],
    ]);
  });

  it("a plan switch reports the plan and the features whose source changed", () => {
    const out = given(known, observed(T0)).when(observed(T0 + DAY, { priceIds: ["price_team_monthly"] }));
    const user = out.user("u_1");
    out.then([
      ["subscription", "stripe:sub_1", "plan", "pro", "team"],
      ["entitlement", `${user}:api_calls`, "source", "pro", "team"],
      ["entitlement", `${user}:export`, "source", "pro", "team"],
    ]);
  });

  it("a price the catalog does not map grants nothing", () => {
    const out = given(known).when(observed(T0, { priceIds: ["price_legacy_unmapped"] }));
    expect(out.state.subscriptions.get("stripe:sub_1")?.plan).toBeNull();
    expect(enabled(out.entitlements("u_1", T0 + DAY))).toStrictEqual([]);
  });

  it("past due: the first instant is kept while it stays past due, and access holds for the grace days", () => {
    const failed = T0 + 31 * DAY;
    const out = given(known, observed(T0), observed(failed, { status: "past_due" })).when(observed(failed + DAY, { status: "past_due" }));
    expect(out.state.subscriptions.get("stripe:sub_1")).toMatchObject({ status: "past_due", pastDueSince: failed });
    const graceEnds = addDays(failed, testCatalog.grace.pastDueDays);
    expect(enabled(out.entitlements("u_1", graceEnds - 1))).toStrictEqual(["api_calls", "export"]);
    expect(enabled(out.entitlements("u_1", graceEnds))).toStrictEqual([]);
  });

  it("cancel at period end grants until the period ends, and not after", () => {
    const out = given(known, observed(T0)).when(observed(T0 + 5 * DAY, { cancelAtPeriodEnd: true, canceledAt: T0 + 5 * DAY }));
    out.then([["subscription", "stripe:sub_1", "cancelAtPeriodEnd", "false", "true"]]);
    expect(enabled(out.entitlements("u_1", END - 1))).toStrictEqual(["api_calls", "export"]);
    expect(enabled(out.entitlements("u_1", END))).toStrictEqual([]);
  });

  it("a scheduled cancel_at before the period end is the instant access ends", () => {
    const at = T0 + 10 * DAY;
    const out = given(known).when(observed(T0, { cancelAtPeriodEnd: true, cancelAt: at }));
    expect(enabled(out.entitlements("u_1", at - 1))).toStrictEqual(["api_calls", "export"]);
    expect(enabled(out.entitlements("u_1", at))).toStrictEqual([]);
  });

  it("an end is terminal: a later snapshot changes nothing and is reported as an anomaly", () => {
    const ended = subscriptionEnded({ subscription: "sub_1", customer: "cus_1", at: T0 + 2 * DAY });
    const out = given(known, observed(T0), ended).when(observed(T0 + 3 * DAY));
    out.then([["subscription", "stripe:sub_1", "anomaly", null, "update_after_end"]]);
    expect(out.state.subscriptions.get("stripe:sub_1")).toMatchObject({ status: "canceled", ended: true, endedAt: T0 + 2 * DAY, canceledAt: T0 + 2 * DAY });
    expect(enabled(out.entitlements("u_1", T0 + 3 * DAY))).toStrictEqual([]);
  });

  it("an end takes the user's access and status", () => {
    const out = given(known, observed(T0)).when(subscriptionEnded({ subscription: "sub_1", customer: "cus_1", at: T0 + 2 * DAY }));
    const user = out.user("u_1");
    out.then([
      ["subscription", "stripe:sub_1", "status", "active", "canceled"],
      ["user", user, "status", "active", "inactive"],
      ["entitlement", `${user}:api_calls`, "source", "pro", null],
      ["entitlement", `${user}:export`, "source", "pro", null],
    ]);
  });
});
