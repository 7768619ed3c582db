// Structured logs: one JSON object per line on stderr, through pino. Every line carries the time,
// the level and the message; a request's lines also carry its request id (a child logger bound to
// it), so one grep finds everything a delivery caused, its projection included.
import pino from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

type Write = (msg: string, fields?: Record<string, unknown>) => void;

export type Logger = {
  readonly debug: Write;
  readonly info: Write;
  readonly warn: Write;
  readonly error: Write;
  /** The same logger with these fields on every line (a request id, say). */
  readonly child: (bindings: Record<string, unknown>) => Logger;
  /** Whether a level is written: lines that cost work to build are skipped when not. */
  readonly enabled: (level: Exclude<LogLevel, "silent">) => boolean;
};

const wrap = (p: pino.Logger): Logger => ({
  debug: (msg, fields) => (fields === undefined ? p.debug(msg) : p.debug(fields, msg)),
  info: (msg, fields) => (fields === undefined ? p.info(msg) : p.info(fields, msg)),
  warn: (msg, fields) => (fields === undefined ? p.warn(msg) : p.warn(fields, msg)),
  error: (msg, fields) => (fields === undefined ? p.error(msg) : p.error(fields, msg)),
  child: (bindings) => wrap(p.child(bindings)),
  enabled: (level) => p.isLevelEnabled(level),
});

/** Logs at `level` and above to stderr (written synchronously: nothing is lost when the process exits). */
export const stderrLogger = (level: LogLevel = "info"): Logger =>
  wrap(
    pino(
      {
        level,
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      pino.destination({ dest: 2, sync: true }),
    ),
  );

const nothing: Write = () => undefined;
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing, child: () => silentLogger, enabled: () => false };
