// The identity view in canonical facts: who a fact belongs to, when users join, and when they must not.
import { describe, expect, it } from "vitest";
import { appUserKey, customerKey, objectKey, userIdFor } from "../../../src/domain/identity.js";
import { Table } from "../../../src/domain/table.js";
import { checkoutCompleted, customerSeen, subscriptionObserved, T0 } from "../../builders/facts.js";
import { given } from "../../support/spec.js";

const cus = (id: string) => customerKey("stripe", id);
const sub = (id: string) => objectKey("subscription", "stripe", id);

describe("identity: claiming keys", () => {
  it("a first fact makes a user named by its first key, holding every key it names", () => {
    const user = userIdFor(cus("cus_1"));
    given()
      .when(customerSeen({ customer: "cus_1", appUserId: "u_1", email: "a@example.com" }))
      .then([
        ["user", user, "created", null, cus("cus_1")],
        ["user", user, "identity", null, cus("cus_1")],
        ["user", user, "identity", null, appUserKey("u_1")],
        ["user", user, "appUserId", null, "u_1"],
        ["user", user, "email", null, "a@example.com"],
        ["user", user, "status", null, "inactive"],
      ]);
  });

  it("a fact naming known keys only writes nothing about identity", () => {
    const seen = customerSeen({ customer: "cus_1", appUserId: "u_1" });
    const out = given(seen).when(customerSeen({ customer: "cus_1", appUserId: "u_1", at: T0 + 1 })).then([]);
    expect(Table.changes(out.before.users, out.state.users)).toStrictEqual([]);
    expect(Table.changes(out.before.owners, out.state.owners)).toStrictEqual([]);
  });

  it("the email is the latest revealed; the app user id, once known, stays", () => {
    const out = given(customerSeen({ customer: "cus_1", appUserId: "u_1", email: "old@example.com" })).when(
      customerSeen({ customer: "cus_1", email: "new@example.com", at: T0 + 1 }),
    );
    const user = out.user("u_1");
    out.then([["user", user, "email", "old@example.com", "new@example.com"]]);
    expect(out.state.users.get(user)).toMatchObject({ appUserId: "u_1", email: "new@example.com" });
  });

  it("a fact that links two users' keys merges the younger into the older, which takes its keys and records and reports what they grant", () => {
    const older = customerSeen({ customer: "cus_1", appUserId: "u_1" });
    const younger = subscriptionObserved({ subscription: "sub_1", customer: "cus_2", at: T0 + 1 });
    const out = given(older, younger).when(checkoutCompleted({ checkout: "cs_1", mode: "subscription", customer: "cus_2", appUserId: "u_1", subscription: "sub_1", at: T0 + 2 }));
    const survivor = userIdFor(cus("cus_1"));
    const absorbed = userIdFor(sub("sub_1"));
    expect(out.user("u_1")).toBe(survivor);
    expect(out.user("cus_2", "stripe")).toBe(survivor);
    expect(out.state.users.get(absorbed)).toBeUndefined();
    expect(out.state.subscriptions.get("stripe:sub_1")?.userId).toBe(survivor);
    out.then([
      ["user", survivor, "merged", absorbed, survivor],
      ["user", survivor, "status", "inactive", "active"],
      ["entitlement", `${survivor}:api_calls`, "source", null, "pro"],
      ["entitlement", `${survivor}:export`, "source", null, "pro"],
    ]);
  });
});

describe("identity: two app users on one customer (a team's card)", () => {
  const shared = "cus_team";
  const alice = customerSeen({ customer: shared, appUserId: "alice" });

  it("a second app user on the shared customer is a user of its own; the customer stays with its first owner", () => {
    const out = given(alice).when(subscriptionObserved({ subscription: "sub_bob", customer: shared, appUserId: "bob", at: T0 + 1 }));
    const aliceId = out.user("alice");
    const bobId = out.user("bob");
    expect(bobId).not.toBe(aliceId);
    expect(out.state.owners.get(cus(shared))).toBe(aliceId);
    expect(out.state.subscriptions.get("stripe:sub_bob")?.userId).toBe(bobId);
    expect(out.transitions.filter((t) => t.field === "conflict").map((t) => [t.userId, t.from, t.to])).toStrictEqual([[bobId, aliceId, cus(shared)]]);
  });

  it("without an app key, a fact goes to the owner of its most specific object key", () => {
    const bob = subscriptionObserved({ subscription: "sub_bob", customer: shared, appUserId: "bob", at: T0 + 1 });
    const out = given(alice, bob).when(subscriptionObserved({ subscription: "sub_bob", customer: shared, at: T0 + 2, snapshot: { status: "past_due" } }));
    expect(out.state.subscriptions.get("stripe:sub_bob")).toMatchObject({ userId: out.user("bob"), status: "past_due" });
  });

  it("a subscription whose later fact names another app user stays with the owner of its key", () => {
    const bob = subscriptionObserved({ subscription: "sub_bob", customer: shared, appUserId: "bob", at: T0 + 1 });
    const out = given(alice, bob).when(subscriptionObserved({ subscription: "sub_bob", customer: shared, appUserId: "alice", at: T0 + 2 }));
    expect(out.state.subscriptions.get("stripe:sub_bob")?.userId).toBe(out.user("bob"));
  });
});
