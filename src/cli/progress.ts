// Progress on long runs: a counter on stderr, redrawn at most ten times a second, and only when
// stderr is a terminal (never in pipes, logs or tests' captured output).
export type Progress = { readonly update: (count: number) => void; readonly done: () => void };

export const progress = (stream: (NodeJS.WritableStream & { readonly isTTY?: boolean }) | undefined, label: string, now: () => number = Date.now): Progress => {
  if (stream === undefined || stream.isTTY !== true) return { update: () => undefined, done: () => undefined };
  let shown = false;
  let last = -Infinity;
  let count = 0;
  const draw = () => {
    stream.write(`\r\x1b[K${label}: ${count.toLocaleString("en-US")}`);
    shown = true;
  };
  return {
    update: (n) => {
      count = n;
      const t = now();
      if (t - last < 100) return;
      last = t;
      draw();
    },
    done: () => {
      if (shown) stream.write("\r\x1b[K");
    },
  };
};
