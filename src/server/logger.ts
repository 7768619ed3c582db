// A small structured logger: one JSON line per message on stderr; silent when asked.
export type Logger = {
  readonly info: (msg: string, fields?: Record<string, unknown>) => void;
  readonly warn: (msg: string, fields?: Record<string, unknown>) => void;
  readonly error: (msg: string, fields?: Record<string, unknown>) => void;
};

const line = (level: string) => (msg: string, fields: Record<string, unknown> = {}) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);

export const stderrLogger: Logger = { info: line("info"), warn: line("warn"), error: line("error") };

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
