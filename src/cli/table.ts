// Plain-text tables for terminal output: left-aligned columns, "-" for empty values.
export type Cell = string | number | boolean | null | undefined;

const text = (c: Cell): string => (c === null || c === undefined || c === "" ? "-" : String(c));

export const table = (headers: readonly string[], rows: readonly (readonly Cell[])[]): string => {
  const cells = [headers.map((h) => h), ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
};
