// Settings from the environment: defaults, and a clear error naming each variable that is wrong.
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/env.js";

describe("settings", () => {
  it("bounds the in-memory state cache by VERITY_STATE_CACHE, 10,000 components unless told", () => {
    expect(Either.getOrThrow(readSettings({})).stateCache).toBe(10_000);
    expect(Either.getOrThrow(readSettings({ VERITY_STATE_CACHE: "500" })).stateCache).toBe(500);
  });

  it.each(["lots", "0", "-3", "1.5", ""])("refuses VERITY_STATE_CACHE=%j and names it, with every other mistake", (value) => {
    const settings = readSettings({ VERITY_STATE_CACHE: value, VERITY_GRAPHIQL: "maybe" });
    expect(Either.isLeft(settings)).toBe(true);
    const message = Either.isLeft(settings) ? settings.left.message : "";
    expect(message).toContain(`VERITY_STATE_CACHE must be an integer from 1 to 10000000, got "${value}"`);
    expect(message).toContain("VERITY_GRAPHIQL must be one of on, off");
  });
});
