// Progress goes to stderr only when it is a terminal, redrawn at most ten times a second.
import { describe, expect, it } from "vitest";
import { progress } from "../../src/cli/progress.js";

const sink = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, stream: Object.assign(Object.create(null), { isTTY, write: (s: string) => (written.push(s), true) }) as NodeJS.WritableStream & { isTTY: boolean } };
};

describe("progress", () => {
  it("writes nothing when stderr is not a terminal", () => {
    const { written, stream } = sink(false);
    const p = progress(stream, "events");
    p.update(1000);
    p.done();
    expect(written).toEqual([]);
  });

  it("redraws a counter on a terminal, throttled, and clears it when done", () => {
    const { written, stream } = sink(true);
    let now = 0;
    const p = progress(stream, "events read", () => now);
    p.update(1000);
    now = 50;
    p.update(2000);
    now = 150;
    p.update(3000);
    p.done();
    expect(written).toEqual(["\r\x1b[Kevents read: 1,000", "\r\x1b[Kevents read: 3,000", "\r\x1b[K"]);
  });
});
