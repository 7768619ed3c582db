// Group commit: deliveries that arrive together are appended in one transaction, so they share
// one durable flush (on SQLite the write-ahead log flushed off the answering thread, wal-flush.ts;
// on PostgreSQL the commit), and each caller is answered only once that commit is on disk. While
// one transaction runs, or its commit is being flushed, the next deliveries queue up and go
// together in the following one. Durability is exactly that of a single append; the cost of the
// flush is divided by the batch. Memory: the queued deliveries.
import { setImmediate } from "node:timers/promises";
import type { Database } from "./database.js";
import { appendEvent, appendEventsCommitted, type AppendResult, type NewEvent } from "./events.js";

/** How long a commit may wait for deliveries still being read and verified (PostgreSQL's commit_delay, in spirit). */
const MAX_COMMIT_DELAY_MS = 3;

type Waiting = { readonly event: NewEvent; readonly resolve: (r: AppendResult) => void; readonly reject: (e: unknown) => void };

export class Appender {
  private queue: Waiting[] = [];
  private draining = false;
  private arriving = 0;
  /** Transactions committed and events they held (for tests and the bench). */
  commits = 0;
  appended = 0;

  constructor(
    private readonly db: Database,
    /** Told, before any caller is answered, which events a commit stored anew. */
    private readonly onStored: (seqs: readonly number[]) => void = () => undefined,
    private readonly maxBatch = 500,
    /** How long a commit may wait for deliveries being read (a test that must not depend on timing sets it long). */
    private readonly maxCommitDelayMs = MAX_COMMIT_DELAY_MS,
  ) {}

  /**
   * Notes a delivery that will probably append soon (it is being read and verified); call the
   * returned function when it has appended or was refused. A commit waits briefly for such
   * deliveries, so that concurrent ones share it.
   */
  arrival(): () => void {
    this.arriving += 1;
    let done = false;
    return () => {
      if (!done) (done = true), (this.arriving -= 1);
    };
  }

  /** Whether deliveries are being read, verified or appended: projection waits for them (see Projector). */
  get busy(): boolean {
    return this.arriving > 0 || this.draining;
  }

  /** Resolves once the event is durable: its seq, and whether it was stored before. */
  append(event: NewEvent): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // A turn of the event loop first, so deliveries read in the same turn share the commit;
      // then, while others are still being read and verified, a little longer (bounded).
      const until = performance.now() + this.maxCommitDelayMs;
      do await setImmediate();
      while (this.arriving > 0 && this.queue.length < this.maxBatch && performance.now() < until);
      const batch = this.queue.splice(0, this.maxBatch);
      let committed: { readonly result: AppendResult[]; readonly durable: Promise<void> };
      try {
        committed = await appendEventsCommitted(
          this.db,
          batch.map((w) => w.event),
        );
      } catch {
        // One event the database refuses (or a race with another process) must not fail the
        // others: each is appended on its own, and only its own failure is reported to it.
        for (const w of batch) {
          await appendEvent(this.db, w.event).then((r) => {
            if (!r.duplicate) this.onStored([r.seq]);
            w.resolve(r);
          }, w.reject);
        }
        continue;
      }
      const { result: results, durable } = committed;
      this.commits += 1;
      this.appended += batch.length;
      // The projector hears of the new events at the commit, in commit order (it projects them in
      // transactions that flush the log, and so these events, before they commit). The senders are
      // answered once the commit is on disk; meanwhile the next deliveries are appended (SQLite,
      // see wal-flush.ts).
      this.onStored(results.filter((r) => !r.duplicate).map((r) => r.seq));
      void durable.then(
        () => batch.forEach((w, i) => w.resolve(results[i]!)),
        (e: unknown) => batch.forEach((w) => w.reject(e)),
      );
    }
    this.draining = false;
  }
}
