// Work that runs after a request is answered (projection and enrichment behind a webhook's
// durable append): tracked, so that stopping the server can wait for it, and never allowed to
// fail silently. Memory: one entry per task still running.
import type { Logger } from "./logger.js";

export class Background {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  /** Starts `task` now; its failure is logged with `what`. */
  run(what: string, task: () => Promise<unknown>): void {
    const done: Promise<void> = task()
      .then(() => undefined)
      .catch((e: Error) => this.log.error(`${what} failed`, { error: e.message }))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Resolves once every task started so far (and any they start meanwhile) has ended. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
