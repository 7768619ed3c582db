// Test setup: tables compare by their entries (their levels may differ in how they were written,
// e.g. which edit created them).
import { expect } from "vitest";
import { Table } from "../../src/domain/table.js";

expect.addEqualityTesters([
  function tablesByEntries(a: unknown, b: unknown, testers) {
    if (!(a instanceof Table) && !(b instanceof Table)) return undefined;
    if (!(a instanceof Table) || !(b instanceof Table)) return false;
    return this.equals(a.toRecord(), b.toRecord(), testers);
  },
]);
