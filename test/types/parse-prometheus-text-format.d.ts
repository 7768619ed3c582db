// parse-prometheus-text-format ships no types: the shape of what it returns, as its README gives it.
declare module "parse-prometheus-text-format" {
  export type Sample = { readonly labels?: Readonly<Record<string, string>>; readonly value?: string; readonly buckets?: Readonly<Record<string, string>>; readonly count?: string; readonly sum?: string };
  export type MetricFamily = { readonly name: string; readonly help: string; readonly type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED"; readonly metrics: readonly Sample[] };
  const parse: (text: string) => MetricFamily[];
  export default parse;
}
