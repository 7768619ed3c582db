// Which `verity serve` processes use this database, and with which plan catalog: each registers at
// start, says it is alive every HEARTBEAT_MS, and removes itself at stop. A row not seen for
// STALE_AFTER_MS is a process that died without stopping. Operational bookkeeping, read by
// `verity reprocess` (a server projecting with another catalog would undo what it rebuilds).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Database } from "./database.js";

export const HEARTBEAT_MS = 5_000;
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;

export type ServerRow = { readonly id: string; readonly catalog: string; readonly host: string; readonly pid: number; readonly startedAt: Date; readonly seenAt: Date };

/** The servers seen within STALE_AFTER_MS of `now` (the wall clock: several machines compare it). */
export const liveServers = async (db: Database, now: number): Promise<ServerRow[]> =>
  db.prisma.serverProcess.findMany({ where: { seenAt: { gte: new Date(now - STALE_AFTER_MS) } }, orderBy: { startedAt: "asc" } });

/** This process's row, kept fresh while it serves. */
export class ServerPresence {
  readonly id = `srv_${randomBytes(6).toString("hex")}`;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    private readonly catalog: string,
    private readonly onError: (e: Error) => void,
  ) {}

  async start(): Promise<void> {
    const now = new Date();
    await this.db.prisma.serverProcess.create({ data: { id: this.id, catalog: this.catalog, host: hostname(), pid: process.pid, startedAt: now, seenAt: now } });
    // Rows of processes that died long ago are dropped by whoever starts next.
    await this.db.prisma.serverProcess.deleteMany({ where: { seenAt: { lt: new Date(now.getTime() - 24 * 3_600_000) } } });
    this.timer = setInterval(() => {
      this.db.prisma.serverProcess.updateMany({ where: { id: this.id }, data: { seenAt: new Date() } }).catch(this.onError);
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.db.prisma.serverProcess.deleteMany({ where: { id: this.id } });
  }
}
