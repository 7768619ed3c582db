// How long quota decisions (POST /v1/check and POST /v1/usage) took in this process, for the
// dashboard's p95: the last SIZE durations in a ring, summarized on demand. Per process (several
// processes each report their own); nothing is stored.
// Memory: SIZE pairs of numbers. A summary sorts the window: SIZE log SIZE, asked by a dashboard.

const SIZE = 10_000;

export type LatencySummary = { readonly count: number; readonly p50: number | null; readonly p95: number | null; readonly p99: number | null };

export class LatencyWindow {
  private readonly ms = new Float64Array(SIZE);
  private readonly at = new Float64Array(SIZE);
  private next = 0;
  private filled = 0;

  record(durationMs: number, at: number): void {
    this.ms[this.next] = durationMs;
    this.at[this.next] = at;
    this.next = (this.next + 1) % SIZE;
    this.filled = Math.min(SIZE, this.filled + 1);
  }

  /** Percentiles (nearest rank) of the durations recorded at or after `since`. */
  summary(since: number): LatencySummary {
    const kept: number[] = [];
    for (let i = 0; i < this.filled; i++) if (this.at[i]! >= since) kept.push(this.ms[i]!);
    kept.sort((a, b) => a - b);
    const rank = (p: number) => (kept.length === 0 ? null : kept[Math.min(kept.length - 1, Math.ceil(p * kept.length) - 1)]!);
    return { count: kept.length, p50: rank(0.5), p95: rank(0.95), p99: rank(0.99) };
  }
}
