// Checkpoints of SQLite's write-ahead log on a thread of their own. SQLite copies the log back into
// the database file (a checkpoint) inside the COMMIT that makes the log pass 1,000 pages: about a
// thousand page writes and two flushes, 5–15 ms during which the thread that answers every request
// stands still (profiled under usage load: the p99 of commits). Here a worker with its own
// connection copies what the log holds every CHECKPOINT_EVERY_MS without waiting for anyone
// (PASSIVE: readers and the writer go on), so the server's connection only checkpoints, past
// FALLBACK_PAGES, what the worker has not copied yet: a few pages, so that SQLite can start the log
// over.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the worker copies the log into the database. */
export const CHECKPOINT_EVERY_MS = 100;
/** The server's connection checkpoints past this many log pages (SQLite's default is 1,000). */
export const FALLBACK_PAGES = 10_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Sqlite = require(workerData.driver);
const db = new Sqlite(workerData.file, { fileMustExist: true });
// A checkpoint flushes the log before it copies it and the database after: said, not left to the build's default.
db.pragma("synchronous = FULL");
let checkpoints = 0;
let reported = null;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    checkpoints += 1;
    reported = null;
  } catch (e) {
    // Reported when it starts failing (not every 100 ms), and again when the reason changes.
    const message = String((e && e.message) || e);
    if (message !== reported) parentPort.postMessage({ error: message });
    reported = message;
  }
}, workerData.everyMs);
parentPort.on("message", (m) => {
  if (m === "count") parentPort.postMessage({ checkpoints });
  if (m === "stop") {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ stopped: true });
    parentPort.close();
  }
});
`;

export type Checkpointer = {
  /** Checkpoints the worker has made so far. */
  readonly count: () => Promise<number>;
  readonly stop: () => Promise<void>;
};

/** Starts checkpointing `file` (a SQLite database in WAL mode) on a worker thread. */
export const startCheckpointer = (
  file: string,
  onError: (message: string) => void,
  everyMs = CHECKPOINT_EVERY_MS,
  /** Told if the worker ends without being stopped. */
  onLost: () => void = () => undefined,
): Checkpointer => {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, everyMs } });
  // It must not keep the process alive; a failure is reported, and the server's connection's own
  // checkpoints (past FALLBACK_PAGES) keep the log bounded without it.
  worker.unref();
  let stopped = false;
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      if (!stopped) onLost();
      resolve();
    }),
  );
  worker.on("error", (e) => onError(e.message));
  const replies: ((m: { checkpoints?: number; stopped?: boolean }) => void)[] = [];
  worker.on("message", (m: { error?: string; checkpoints?: number; stopped?: boolean }) => {
    if (m.error !== undefined) onError(m.error);
    else replies.shift()?.(m);
  });
  const ask = (m: string) => new Promise<{ checkpoints?: number; stopped?: boolean }>((resolve) => {
    replies.push(resolve);
    worker.postMessage(m);
  });
  return {
    count: async () => (await Promise.race([ask("count"), exited.then(() => ({ checkpoints: 0 }))])).checkpoints ?? 0,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // A worker that failed has exited already and answers nothing.
      await Promise.race([ask("stop").then(() => exited), exited]);
    },
  };
};
