// Turns at SQLite's one connection. Prisma's interactive transactions and the store's own direct
// ones (sql.ts `transaction`) both open a transaction on that connection and await between its
// statements; whoever holds this lock is the only one with a transaction open.

export class WriteLock {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves, in order of asking, with the function that hands the lock on. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const turn = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return turn;
  }
}
