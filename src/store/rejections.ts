// Refused deliveries, for the operator who asks why an endpoint does not connect: reason, provider,
// time, size and how many, never the payload. Refusals are counted in memory per provider, reason
// and minute and written in one transaction per second, so a flood of forged deliveries costs a
// map update each instead of a durable write each. Reads merge what is not written yet. A crash
// loses at most the last second of counts: this is an operational log, not the event store.
// Memory: one entry per (provider, reason) of the current and unflushed minutes, a few dozen.
import type { Instant } from "../domain/time.js";
import type { Database } from "./database.js";
import { loggableText } from "./parsed-copy.js";
import { PeriodicWrites } from "./periodic-writes.js";

export type Rejection = {
  readonly provider: string;
  readonly code: string;
  readonly message: string;
  readonly bodyBytes: number;
  readonly receivedAt: Instant;
};

/** One row of the log: refusals of one provider and reason within one minute. */
export type RejectionRow = {
  readonly provider: string;
  readonly code: string;
  /** The latest refusal's message and size. */
  readonly message: string;
  readonly bodyBytes: number;
  readonly firstReceivedAt: Date;
  readonly receivedAt: Date;
  readonly count: number;
};

/** Rows kept: enough to diagnose an endpoint, bounded so unauthenticated noise cannot fill the disk. */
export const REJECTIONS_KEPT = 10_000;

type Tally = {
  readonly provider: string;
  readonly code: string;
  readonly minute: number;
  message: string;
  bodyBytes: number;
  readonly firstAt: Instant;
  lastAt: Instant;
  count: number;
  written: number;
  rowId: number | null;
};

const MINUTE = 60_000;

const rowOf = (t: Tally): RejectionRow => ({
  provider: t.provider,
  code: t.code,
  message: t.message,
  bodyBytes: t.bodyBytes,
  firstReceivedAt: new Date(t.firstAt),
  receivedAt: new Date(t.lastAt),
  count: t.count,
});

export class RejectionLog extends PeriodicWrites {
  private readonly tallies = new Map<string, Tally>();
  private latestMinute = 0;

  constructor(private readonly db: Database) {
    super();
  }

  /** Counts a refusal; true when it is the first of its provider and reason this minute (worth a log line). */
  record(r: Rejection): boolean {
    const minute = Math.floor(r.receivedAt / MINUTE);
    this.latestMinute = Math.max(this.latestMinute, minute);
    const code = loggableText(r.code, 64);
    const key = `${r.provider}\u0000${code}\u0000${minute}`;
    const message = loggableText(r.message);
    const known = this.tallies.get(key);
    if (known) {
      known.count += 1;
      known.message = message;
      known.bodyBytes = r.bodyBytes;
      known.lastAt = Math.max(known.lastAt, r.receivedAt);
      return false;
    }
    const at = r.receivedAt;
    this.tallies.set(key, { provider: r.provider, code, minute, message, bodyBytes: r.bodyBytes, firstAt: at, lastAt: at, count: 1, written: 0, rowId: null });
    return true;
  }

  /** Writes every count not yet written, in one transaction. */
  protected async write(): Promise<void> {
    const dirty = [...this.tallies.values()].filter((t) => t.count > t.written);
    if (dirty.length > 0) {
      const snapshot = dirty.map((t) => ({ tally: t, row: rowOf(t) }));
      const ids = await this.db.prisma.$transaction(async (tx) => {
        const written: number[] = [];
        for (const { tally, row } of snapshot) {
          if (tally.rowId === null) written.push((await tx.rejectedDelivery.create({ data: row, select: { id: true } })).id);
          else {
            await tx.rejectedDelivery.update({ where: { id: tally.rowId }, data: row });
            written.push(tally.rowId);
          }
        }
        const newest = Math.max(...written);
        if (newest > REJECTIONS_KEPT) await tx.rejectedDelivery.deleteMany({ where: { id: { lte: newest - REJECTIONS_KEPT } } });
        return written;
      });
      snapshot.forEach(({ tally, row }, i) => {
        tally.rowId = ids[i]!;
        tally.written = row.count;
      });
    }
    // Minutes that are over and fully written will not change again.
    for (const [key, t] of this.tallies) if (t.count === t.written && t.minute < this.latestMinute) this.tallies.delete(key);
  }

  /** The newest `limit` rows, counting refusals not written yet. */
  async list(limit: number): Promise<RejectionRow[]> {
    const stored = await this.db.prisma.rejectedDelivery.findMany({ orderBy: [{ receivedAt: "desc" }, { id: "desc" }], take: limit });
    const live = new Map([...this.tallies.values()].filter((t) => t.rowId !== null).map((t) => [t.rowId!, t]));
    const rows: RejectionRow[] = stored.map((r) => {
      const tally = live.get(r.id);
      if (tally) return rowOf(tally);
      return { ...r, firstReceivedAt: r.firstReceivedAt ?? r.receivedAt };
    });
    for (const t of this.tallies.values()) if (t.rowId === null) rows.push(rowOf(t));
    return rows.sort((a, b) => b.receivedAt.getTime() - a.receivedAt.getTime()).slice(0, limit);
  }
}
