// Lemon Squeezy payloads for tests: the builder `verity simulate` uses too (src/simulate/payloads).
export * from "../../src/simulate/payloads/lemonsqueezy.js";
