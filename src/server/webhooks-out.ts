// Sends webhooks out: turns the transition feed into each endpoint's deliveries, then POSTs the ones
// due, signed per the Standard Webhooks specification (through the `standardwebhooks` package):
// `webhook-id` (the same on every attempt), `webhook-timestamp`, `webhook-signature`. A 2xx answer
// delivers; anything else (or no answer within the timeout) is tried again on the schedule of
// domain/webhooks-out.ts, for more than three days. A user's messages to an endpoint go out one at a
// time, in feed order. Nothing is sent that the transition log does not hold.
import { Webhook } from "standardwebhooks";
import { nextAttemptAt } from "../domain/webhooks-out.js";
import type { Database } from "../store/database.js";
import { claimDelivery, CursorMoved, dueDeliveries, enqueueDeliveries, listEndpoints, recordAttempt, type DeliveryRow, type EndpointRow } from "../store/webhook-endpoints.js";
import type { Logger } from "./logger.js";

export type SenderOptions = {
  /** How often it looks for new transitions and due deliveries. */
  readonly intervalMs?: number;
  /** How long an endpoint has to answer. */
  readonly timeoutMs?: number;
};

/** The `webhook-signature` header: a signature with the secret, and with the previous one while it is being rolled. */
export const signatureHeader = (endpoint: Pick<EndpointRow, "secret" | "previousSecret" | "previousUntil">, id: string, at: Date, body: string, now: number): string =>
  [endpoint.secret, ...(endpoint.previousSecret !== null && endpoint.previousUntil !== null && endpoint.previousUntil.getTime() > now ? [endpoint.previousSecret] : [])]
    .map((secret) => new Webhook(secret).sign(id, at, body))
    .join(" ");

export class WebhookSender {
  private timer: NodeJS.Timeout | null = null;
  /** The round being run: it resolves, with the sends it started, once they are started. */
  private round: Promise<Promise<void>[]> | null = null;
  /** Sends still waiting for an answer. A round does not wait for them: a slow endpoint holds up no one else. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted at stop: a request still waiting is dropped, not counted as an attempt (its claim lapses and it is sent again). */
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly options: SenderOptions = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.startRound(), this.options.intervalMs ?? 500);
    this.timer.unref();
  }

  /** Runs a round now (one already running is not doubled) and resolves once its sends are answered or given up. */
  async wake(): Promise<void> {
    await Promise.all(await this.startRound());
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort();
    await this.round;
    await Promise.all([...this.inFlight]);
  }

  private startRound(): Promise<Promise<void>[]> {
    this.round ??= this.tick()
      .catch((e: Error): Promise<void>[] => (this.log.error("webhooks out: a round failed", { error: e.message }), []))
      .finally(() => (this.round = null));
    return this.round;
  }

  /**
   * One round: new transitions become deliveries, then the due ones are sent. It resolves once the
   * sends are started (each claimed first, so a later round does not send it again), with them.
   */
  private async tick(): Promise<Promise<void>[]> {
    const now = new Date(this.now());
    const endpoints = await listEndpoints(this.db);
    for (const endpoint of endpoints) {
      try {
        let cursor = endpoint.cursor;
        for (;;) {
          const next = await enqueueDeliveries(this.db, { ...endpoint, cursor }, 500, now);
          if (next === cursor) break;
          cursor = next;
        }
      } catch (err) {
        if (!(err instanceof CursorMoved)) throw err;
      }
    }
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    const due = await dueDeliveries(this.db, now, 50);
    return due.flatMap((d) => {
      const endpoint = byId.get(d.endpointId);
      if (endpoint === undefined) return [];
      const sent = this.send(endpoint, d).catch((e: Error) => this.log.error("webhooks out: a send failed", { delivery: d.id, error: e.message }));
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
      return [sent];
    });
  }

  private async send(endpoint: EndpointRow, d: DeliveryRow): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    if (!(await claimDelivery(this.db, d, new Date(this.now()), timeoutMs + 60_000))) return;
    // The signature's time is the wall clock's: receivers compare it with theirs.
    const sentAt = new Date();
    const started = performance.now();
    let status = 0;
    let error: string | null = null;
    try {
      const res = await fetch(endpoint.url, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.stopping.signal]),
        headers: {
          "content-type": "application/json",
          "user-agent": "Verity-Webhooks/1",
          "webhook-id": d.id,
          "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
          "webhook-signature": signatureHeader(endpoint, d.id, sentAt, d.payload, this.now()),
        },
        body: d.payload,
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (status < 200 || status >= 300) error = `answered ${status}`;
    } catch (e) {
      if (this.stopping.signal.aborted) return;
      error = (e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    }
    const at = new Date(this.now());
    const delivered = error === null;
    const retry = delivered ? null : nextAttemptAt(d.attempts + 1, at.getTime());
    await recordAttempt(this.db, d, { at, status, error, durationMs: Math.round(performance.now() - started), delivered, retryAt: retry === null ? null : new Date(retry) });
    if (!delivered) this.log[retry === null ? "error" : "warn"](retry === null ? "webhook delivery given up" : "webhook delivery failed; will retry", { delivery: d.id, endpoint: endpoint.id, error, attempts: d.attempts + 1 });
  }
}
