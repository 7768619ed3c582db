// The shape the operational logs share (refused deliveries, quota blocks): counted in memory as
// requests arrive, written every `everyMs` and once more when stopped, one write at a time.

export abstract class PeriodicWrites {
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  /** Writes what is not written yet. */
  protected abstract write(): Promise<void>;

  /** Writes every `everyMs` until stopped. */
  start(everyMs = 1000): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  /** Stops the timer, then writes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Writes what is not written yet; calls are serialized. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.write());
    this.flushing = run.catch(() => undefined);
    return run;
  }
}
