// The domain an activation binds: one spelling per host and port, and nothing that only looks like ASCII.
import { describe, expect, it } from "vitest";
import { normalizeDomain } from "../../src/domain/activations.js";

describe("normalizeDomain", () => {
  it("gives one spelling per host and port", () => {
    expect(normalizeDomain(" Shop.Example.COM. ")).toBe("shop.example.com");
    expect(normalizeDomain("example.com:0443")).toBe("example.com:443");
    expect(normalizeDomain("localhost:8080")).toBe("localhost:8080");
    expect(normalizeDomain("xn--bcher-kva.example")).toBe("xn--bcher-kva.example");
  });

  it("refuses what is no host name", () => {
    for (const bad of ["", "shop example.com", "bücher.example", "\u212Aexample.com", "-a.example", "a..b", "example.com:0", "example.com:65536", "https://example.com", `${"a".repeat(64)}.com`, `${"a.".repeat(127)}aa`]) expect(normalizeDomain(bad)).toBeNull();
  });
});
