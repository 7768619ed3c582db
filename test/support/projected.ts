// A webhook is answered once its event is durable; projection runs right behind. Tests that read
// what an event changed wait for it the way a client would: until the projectedThrough that
// /healthz reports reaches the seq the delivery was answered with.
import { setTimeout as delay } from "node:timers/promises";

/** Resolves once every event up to `seq` is projected (throws after `timeoutMs`). */
export const untilProjected = async (baseUrl: string, seq: number, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${baseUrl}/healthz`)).json()) as { projectedThrough: number };
    if (health.projectedThrough >= seq) return;
    if (Date.now() > deadline) throw new Error(`projections reached seq ${health.projectedThrough}, not ${seq}, within ${timeoutMs} ms`);
    await delay(5);
  }
};

/** Waits for the event a 200 answer names (the response stays readable); other answers pass through. */
export const projectedAfter = async (baseUrl: string, res: Response): Promise<Response> => {
  if (res.status !== 200) return res;
  const answer = (await res.clone().json()) as { seq?: number };
  if (typeof answer.seq === "number") await untilProjected(baseUrl, answer.seq);
  return res;
};
