// Durable SQLite commits that do not hold up the thread that answers. With `synchronous = FULL`,
// SQLite flushes its write-ahead log inside COMMIT: on this kind of machine 2–4 ms during which the
// one JavaScript thread can neither read requests nor answer them. The store's own transactions
// (sql.ts `transaction`) instead commit with `synchronous = NORMAL` (the log is written to the
// operating system but not flushed) and then flush the log file here, with fdatasync on libuv's
// thread pool; their callers are answered only after that flush, so an answer still means "on
// disk" exactly as with FULL. Meanwhile the thread reads, decides and commits the next requests.
//
// What NORMAL leaves out at commit is only this flush: SQLite still flushes the log before every
// checkpoint and when it starts the log over. So a power loss (a crash of the process loses
// nothing: the operating system holds the pages) can lose only commits whose callers were not yet
// answered; a read in the few milliseconds between a commit and its flush can see such a commit.
import { closeSync, fdatasync, openSync, statSync } from "node:fs";

/** Flushes at most this many at once, on libuv's thread pool (four threads, shared with other file I/O). */
const MAX_FLUSHING = 3;

type Waiter = { readonly commit: number; readonly resolve: () => void; readonly reject: (e: unknown) => void };

export class WalFlusher {
  private log: { readonly fd: number; readonly ino: number } | null = null;
  /** Commits asked to be made durable so far (each call of `flush` is one), and flushes running. */
  private asked = 0;
  private startedThrough = 0;
  private flushing = 0;
  private failed: Error | null = null;
  /** Callers not yet told, in the order of their commits. */
  private waiting: Waiter[] = [];
  /** Flushes done (for tests and the bench). */
  flushes = 0;

  constructor(
    /** The database file's write-ahead log (`<file>-wal`). */
    private readonly walPath: string,
    /** What flushes it (tests hold a flush back with their own). */
    private readonly sync: () => Promise<void> = () => this.flushLog(),
  ) {}

  /**
   * Resolves once everything committed before the call is on disk. A flush already running may
   * have started before that commit wrote its pages, so a new one starts (several may run at
   * once: on this kind of disk a flush takes milliseconds, and one started later does not wait for
   * one started earlier). A flush covers every commit made before it started, so callers are told
   * in the order of their commits, as soon as any flush covering them ends.
   */
  /** Why the log can no longer be flushed, once a flush has failed: nothing more may be committed. */
  get broken(): Error | null {
    return this.failed;
  }

  flush(): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    const commit = ++this.asked;
    const told = new Promise<void>((resolve, reject) => this.waiting.push({ commit, resolve, reject }));
    if (this.flushing < MAX_FLUSHING) this.start();
    return told;
  }

  private start(): void {
    const through = this.asked;
    this.startedThrough = through;
    this.flushing += 1;
    this.sync().then(
      () => {
        this.flushes += 1;
        this.tell(through);
      },
      (e: unknown) => this.fail(e),
    ).finally(() => {
      this.flushing -= 1;
      if (this.failed === null && this.asked > this.startedThrough && this.flushing < MAX_FLUSHING) this.start();
    });
  }

  private tell(through: number): void {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.commit <= through) n += 1;
    for (const w of this.waiting.splice(0, n)) w.resolve();
  }

  /**
   * A failed flush may have dropped the pages it was to write (Linux marks them clean), and the
   * log's frames are checksummed in a chain, so no later commit can be vouched for either: every
   * commit not yet told fails, and so does every later one, until the server is restarted (as
   * PostgreSQL stops on a failed fsync). SQLite's recovery at the next start keeps what is whole.
   */
  private fail(e: unknown): void {
    this.failed ??= new Error(`the database's write-ahead log could not be flushed to disk (${e instanceof Error ? e.message : String(e)}); restart Verity`);
    for (const w of this.waiting.splice(0)) w.reject(this.failed);
  }

  /**
   * The log a commit wrote is the file under that name now, unless a checkpoint has since copied
   * it into the database (flushed) and SQLite removed it: the file is looked up by name (a stat of
   * a cached entry, microseconds) and reopened when SQLite has made a new one.
   */
  private async flushLog(): Promise<void> {
    let ino: number;
    try {
      ino = statSync(this.walPath).ino;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    if (this.log === null || this.log.ino !== ino) {
      this.close();
      this.log = { fd: openSync(this.walPath, "r"), ino };
    }
    const { fd } = this.log;
    await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  /** Lets go of the log file (the database is closing). */
  close(): void {
    if (this.log !== null) closeSync(this.log.fd);
    this.log = null;
  }
}
