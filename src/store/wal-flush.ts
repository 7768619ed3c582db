// Durable SQLite commits that do not hold up the thread that answers. With `synchronous = FULL`,
// SQLite flushes its write-ahead log inside COMMIT: on this kind of machine 2–4 ms during which the
// one JavaScript thread can neither read requests nor answer them. The store's own transactions
// (sql.ts `transaction`) instead commit with `synchronous = NORMAL` (the log is written to the
// operating system but not flushed) and then flush the log file here, with fdatasync on libuv's
// thread pool; their callers are answered only after that flush, so an answer still means "on
// disk" exactly as with FULL. Meanwhile the thread reads, decides and commits the next requests.
//
// What NORMAL leaves out at commit is only this flush: SQLite still flushes the log before every
// checkpoint and when it starts the log over. A power loss (a crash of the process loses nothing:
// the operating system holds the pages) can take back only commits not yet flushed. Their writers
// have not been answered; a reader may have read them in those few milliseconds, so whatever hands
// out what it read by position (events and feed rows by seq: a lost seq would be handed out again)
// first waits for `barrier()`. Other reads may show a counter or a lease a flush later than with
// FULL; what the app is answered about its own writes is on disk.
import { closeSync, fdatasync, openSync } from "node:fs";

/** Flushes at most this many at once, on libuv's thread pool (four threads, shared with other file I/O). */
const MAX_FLUSHING = 3;

type Waiter = { readonly commit: number; readonly resolve: () => void; readonly reject: (e: unknown) => void };

export class WalFlusher {
  private fd: number | null = null;
  /** Commits asked to be made durable so far (each call of `flush` is one), and flushes running. */
  private asked = 0;
  private startedThrough = 0;
  private flushing = 0;
  private failed: Error | null = null;
  private closed = false;
  private idle: (() => void) | null = null;
  /** Callers not yet told, in the order of their commits. */
  private waiting: Waiter[] = [];
  /** Flushes done (for tests and the bench). */
  flushes = 0;

  constructor(
    /**
     * The write-ahead log SQLite writes: `<file>-wal` beside the file SQLite opened (symbolic
     * links resolved, as SQLite resolves them; see database.ts).
     */
    private readonly walPath: string,
    /** What flushes it (tests hold a flush back with their own). */
    private readonly sync: () => Promise<void> = () => this.flushLog(),
    /** Told once, when a flush fails (the server logs it). */
    private readonly onBroken: (e: Error) => void = () => undefined,
  ) {}

  /** Why the log can no longer be flushed, once a flush has failed: nothing more may be committed. */
  get broken(): Error | null {
    return this.failed;
  }

  /**
   * Resolves once everything committed before the call is on disk. A flush already running may
   * have started before that commit wrote its pages, so a new one starts (several may run at
   * once: on this kind of disk a flush takes milliseconds, and one started later does not wait for
   * one started earlier). A flush covers every commit made before it started, so callers are told
   * in the order of their commits, as soon as any flush covering them ends.
   */
  flush(): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error("the database is closed"));
    const commit = ++this.asked;
    const told = new Promise<void>((resolve, reject) => this.waiting.push({ commit, resolve, reject }));
    if (this.flushing < MAX_FLUSHING) this.start();
    return told;
  }

  /**
   * Resolves once every commit made so far is on disk, at no cost when they all are: a reader
   * that read the database calls it before telling anyone what it read (a power loss would
   * otherwise take back what it told, and SQLite would hand out the same seqs again).
   */
  barrier(): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.waiting.length === 0) return Promise.resolve();
    const commit = this.asked;
    return new Promise<void>((resolve, reject) => this.waiting.push({ commit, resolve, reject }));
  }

  private start(): void {
    const through = this.asked;
    this.startedThrough = through;
    this.flushing += 1;
    this.sync()
      .then(
        () => {
          this.flushes += 1;
          this.tell(through);
        },
        (e: unknown) => this.fail(e),
      )
      .finally(() => {
        this.flushing -= 1;
        if (this.failed === null && this.asked > this.startedThrough && this.flushing < MAX_FLUSHING) this.start();
        else if (this.flushing === 0) this.idle?.();
      });
  }

  private tell(through: number): void {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.commit <= through) n += 1;
    for (const w of this.waiting.splice(0, n)) w.resolve();
  }

  /**
   * A failed flush may have dropped the pages it was to write (Linux marks them clean and reports
   * the error once), and the log's frames are checksummed in a chain, so no later commit can be
   * vouched for either: every commit not yet told fails, and so does every later transaction on
   * the connection (the store's and Prisma's, see database.ts), until the server is restarted (as
   * PostgreSQL stops on a failed fsync). SQLite's recovery at the next start keeps what is whole.
   */
  fail(e: unknown): void {
    if (this.failed === null) {
      this.failed = new Error(`the database's write-ahead log could not be flushed to disk (${e instanceof Error ? e.message : String(e)}); restart Verity`);
      this.onBroken(this.failed);
    }
    for (const w of this.waiting.splice(0)) w.reject(this.failed);
  }

  /** Opened once: SQLite keeps its log file while any connection (this server's) has the database open. */
  private async flushLog(): Promise<void> {
    this.fd ??= openSync(this.walPath, "r");
    const fd = this.fd;
    await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits for the flushes running, refuses new ones, and lets go of the log file (the database is closing). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.flushing > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
