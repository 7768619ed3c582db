// The latency series' route label: a template per route, never what a client typed in a path.
import { describe, expect, it } from "vitest";
import { routeOf } from "../../src/server/metrics.js";

describe("routeOf", () => {
  it("names each route by its template", () => {
    expect(routeOf("/api/users/u%20x/activations")).toBe("/api/users/{id}/activations");
    expect(routeOf("/api/users/cus_1/credits")).toBe("/api/users/{id}/credits");
    expect(routeOf("/v1/activations/act_123/revoke")).toBe("/v1/activations/{id}/revoke");
    expect(routeOf("/api/checkouts/stripe/cs_test_1")).toBe("/api/checkouts/{provider}/{id}");
    expect(routeOf("/v1/leases/lse_1/release")).toBe("/v1/leases/{id}/release");
    for (const fixed of ["/v1/activate", "/v1/refresh", "/v1/activation-codes", "/v1/tokens", "/api/plans", "/.well-known/jwks.json", "/v1/usage"]) expect(routeOf(fixed)).toBe(fixed);
  });

  it("puts anything else under one label", () => {
    expect(routeOf("/v1/activate/extra")).toBe("other");
    expect(routeOf("/random/attacker-chosen-text")).toBe("other");
  });
});
