// The offline commands: export, replay, verify, reprocess. The clock is read here, at the edge:
// `replay` evaluates entitlements at --at, or now.
import { once } from "node:events";
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { finished } from "node:stream/promises";
import { isSource, SOURCES, type Source } from "../domain/source.js";
import { formatDifference } from "../offline/diff.js";
import { exportEvents } from "../offline/export.js";
import { encodeLine, ExportFormatError } from "../offline/ndjson.js";
import { replay, type ReplayResult } from "../offline/replay.js";
import { reprocess as rebuild } from "../offline/reprocess.js";
import { PROJECTION_TABLES } from "../store/projection-rows.js";
import { countEvents } from "../store/events.js";
import { liveServers } from "../store/servers.js";
import { catalogFingerprint } from "../projection/projector.js";
import { verify as compare } from "../offline/verify.js";
import { catalogAt, InputError, openExisting, settingsFor, parse, parseInstant, UsageError, type Io } from "./args.js";
import { progress } from "./progress.js";
import { table } from "./table.js";

export const EXPORT_HELP = `Usage: verity export [--since T] [--provider P] [--out FILE]

Writes the event log as NDJSON, one stored event per line, in canonical order (occurred-at, then
the data-derived order among events of the same instant). Each line carries the raw body exactly as
received ("body"; plus "bodyBase64" with the exact bytes when they are not valid UTF-8) and
provider, providerEventId, type, occurredAt, receivedAt, origin, seq.
  --since T       only events that occurred at or after T (ISO 8601: 2026-01-31 or 2026-01-31T12:00:00Z)
  --provider P    only one provider's events (${SOURCES.join(", ")})
  --out FILE      write to FILE (via FILE.partial, renamed when complete) instead of stdout
Reads DATABASE_URL in pages of 1000 events: memory stays flat however long the log. The export holds
the events stored when it began. A filtered export replays to the state of those events only.`;

export const REPLAY_HELP = `Usage: verity replay FILE [--config FILE] [--at T] [--format json|table]

Folds an exported event log (FILE, or - for stdin) with the same normalizers and resolver as the
server, without a database, and prints the state it gives: users, subscriptions, orders,
entitlements at T, and the transition log. Lines may come in any order; duplicates are ignored.
  --config FILE   plan catalog (env VERITY_CONFIG, default verity.config.json)
  --at T          evaluate entitlements at T (ISO 8601; default: now)
  --format F      table (default) or json`;

export const VERIFY_HELP = `Usage: verity verify [--config FILE]

Replays the event log offline and compares the result with the live projections in DATABASE_URL,
field by field: users, identities, subscriptions, orders, entitlement grants and the transition log.
Prints every difference (entity, id, field, both values). It walks the store one group of connected
users at a time, so memory stays flat however long the log (when the projector's bookkeeping of
those groups fails a check, it compares the whole log at once and says why).
  --config FILE   plan catalog the projections were derived with (env VERITY_CONFIG, default verity.config.json)
Exit status: 0 no differences, 1 differences found, 2 usage or input error, 3 could not verify.`;

export const REPROCESS_HELP = `Usage: verity reprocess [--config FILE] [--verbose] [--force]

Rebuilds every projection from the event store (after an upgrade taught a normalizer new event
types, or after a plan catalog change) in one transaction: readers see the old state or the new,
never a half-built one. Prints what changed: users, identities, subscriptions, orders, grants and
transitions added, removed or changed.
  --config FILE   plan catalog (env VERITY_CONFIG, default verity.config.json)
  --verbose       also print every changed field, before and after
  --force         rebuild even while a server runs with another plan catalog (see below)
A server running with another catalog would undo the rebuild: its next webhook re-derives users with
its own catalog, and its live stream never hears of what the rebuild changed. So reprocess refuses
then; restart that server with the new catalog instead (it rebuilds at start), or stop it first.`;

/** Writes to a stream, waiting when it asks to (a slow pipe or disk), failing when it fails. */
const writer = (stream: NodeJS.WritableStream) => {
  let failure: Error | null = null;
  const onError = (e: Error) => void (failure = e);
  stream.on("error", onError);
  return {
    write: async (chunk: string) => {
      if (failure) throw failure;
      // once() also rejects when the stream emits "error" meanwhile.
      if (!stream.write(chunk)) await once(stream, "drain");
      if (failure) throw failure;
    },
    release: () => stream.off("error", onError),
  };
};

export const exportCommand = async (args: string[], io: Io): Promise<number> => {
  const { values } = parse(args, { since: { type: "string" }, provider: { type: "string" }, out: { type: "string" } });
  if (values.help) return io.out(EXPORT_HELP), 0;
  const since = values.since === undefined ? null : parseInstant(values.since as string, "--since");
  const provider = values.provider as string | undefined;
  if (provider !== undefined && !isSource(provider)) throw new UsageError({ message: `unknown provider "${provider}"; providers are ${SOURCES.join(", ")} (app: the app's usage records)` });
  const file = values.out as string | undefined;
  const db = await openExisting(settingsFor().databaseUrl);
  const partial = file === undefined ? null : `${file}.partial`;
  let target: NodeJS.WritableStream;
  if (partial === null) target = io.stdout ?? process.stdout;
  else {
    const stream = createWriteStream(partial);
    try {
      await once(stream, "open");
    } catch (e) {
      await db.close();
      throw new InputError({ message: `cannot write ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as Error).message}` });
    }
    target = stream;
  }
  const out = writer(target);
  // No counter over NDJSON printed on the same terminal.
  const shown = progress((target as { isTTY?: boolean }).isTTY === true ? undefined : (io.stderr ?? process.stderr), "exported events");
  let count = 0;
  try {
    let chunk = "";
    for await (const event of exportEvents(db, { since, provider: (provider as Source | undefined) ?? null })) {
      chunk += encodeLine(event);
      count += 1;
      if (chunk.length >= 1 << 16) {
        await out.write(chunk);
        chunk = "";
        shown.update(count);
      }
    }
    if (chunk !== "") await out.write(chunk);
    shown.done();
    if (partial !== null) {
      target.end();
      await finished(target);
      renameSync(partial, file!);
      io.err(`exported ${count} events to ${file}`);
    }
    return 0;
  } catch (e) {
    shown.done();
    if (partial !== null) {
      (target as NodeJS.WritableStream & { destroy: () => void }).destroy();
      rmSync(partial, { force: true });
    }
    // A reader that went away (`verity export | head`) is not an error of the export.
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return 0;
    throw e;
  } finally {
    out.release();
    await db.close();
  }
};

/** The lines of FILE (or stdin for "-"), read as a stream. */
const linesOf = (file: string, io: Io): AsyncIterable<string> => {
  if (file !== "-") {
    let stat;
    try {
      stat = statSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError({ message: code === "ENOENT" ? `cannot read ${file}: no such file` : `cannot read ${file}: ${(e as Error).message}` });
    }
    if (!stat.isFile()) throw new InputError({ message: `cannot read ${file}: not a file` });
  }
  const input = file === "-" ? (io.stdin ?? process.stdin) : createReadStream(file);
  return createInterface({ input, crlfDelay: Infinity });
};

const printTable = (r: ReplayResult, io: Io): void => {
  const appIdOf = new Map(r.users.map((u) => [u.id, u.appUserId]));
  const who = (userId: string) => appIdOf.get(userId) ?? userId;
  io.out(
    `Replayed ${r.events} events: ${r.users.length} users, ${r.subscriptions.length} subscriptions, ${r.orders.length} orders, ${r.transitions.length} transitions. Entitlements at ${r.at}.`,
  );
  io.out(`\nUSERS\n${table(["id", "app user id", "email", "status", "keys"], r.users.map((u) => [u.id, u.appUserId, u.email, u.status, u.keys.join(" ")]))}`);
  io.out(
    `\nSUBSCRIPTIONS\n${table(
      ["id", "user", "plan", "status", "provider status", "current period end", "cancel at period end"],
      r.subscriptions.map((s) => [s.id, who(s.userId), s.plan, s.status, s.providerStatus, s.currentPeriodEnd, s.cancelAtPeriodEnd]),
    )}`,
  );
  io.out(
    `\nORDERS\n${table(
      ["id", "user", "kind", "plan", "status", "amount", "refunded", "currency", "paid at"],
      r.orders.map((o) => [o.id, who(o.userId), o.kind, o.plan, o.status, o.amount, o.amountRefunded, o.currency, o.paidAt]),
    )}`,
  );
  const enabled = r.entitlements.flatMap((u) => u.entitlements.filter((e) => e.enabled).map((e) => [who(u.userId), e.feature, e.source, e.limit, e.remaining, e.resetsAt]));
  io.out(`\nENTITLEMENTS AT ${r.at} (enabled only)\n${table(["user", "feature", "source", "limit", "remaining", "resets at"], enabled)}`);
  io.out(
    `\nTRANSITIONS\n${table(
      ["user", "#", "at", "entity", "id", "field", "from", "to", "cause"],
      r.transitions.map((t) => [who(t.userId), t.ordinal, t.at, t.entity, t.entityId, t.field, t.from, t.to, t.cause]),
    )}`,
  );
};

export const replayCommand = async (args: string[], io: Io): Promise<number> => {
  const { values, positionals } = parse(args, { config: { type: "string" }, at: { type: "string" }, format: { type: "string" } }, true);
  if (values.help) return io.out(REPLAY_HELP), 0;
  if (positionals.length === 0) throw new UsageError({ message: "FILE is required (an export from `verity export`, or - for stdin)" });
  if (positionals.length > 1) throw new UsageError({ message: `unexpected argument "${positionals[1]}"` });
  const format = (values.format as string | undefined) ?? "table";
  if (format !== "json" && format !== "table") throw new UsageError({ message: `--format must be json or table, got "${format}"` });
  const at = values.at === undefined ? Date.now() : parseInstant(values.at as string, "--at");
  const catalog = catalogAt(settingsFor(values.config as string | undefined).configPath);
  const file = positionals[0]!;
  const shown = progress(io.stderr ?? process.stderr, "events read");
  let result: ReplayResult;
  try {
    result = await replay(linesOf(file, io), catalog, { at, onProgress: (n) => n % 1000 === 0 && shown.update(n) });
  } catch (e) {
    if (e instanceof ExportFormatError) throw new InputError({ message: `${file === "-" ? "stdin" : file}:${e.line ?? "?"}: ${e.reason}` });
    throw e;
  } finally {
    shown.done();
  }
  if (format === "json") {
    const { state: _state, foldTransitions: _fold, ...printable } = result;
    await writeJson(printable, io.stdout ?? process.stdout);
  } else printTable(result, io);
  return 0;
};

/**
 * Writes an object as JSON, one member per line and one array element per line, in chunks: the
 * state of a long log is far larger than one string should be, and a slow reader is waited for.
 */
const writeJson = async (value: Readonly<Record<string, unknown>>, stream: NodeJS.WritableStream): Promise<void> => {
  const out = writer(stream);
  let chunk = "";
  // Written whenever the chunk is large, so only those steps wait for the stream.
  const flushIfLarge = async () => {
    if (chunk.length < 1 << 16) return;
    await out.write(chunk);
    chunk = "";
  };
  try {
    const members = Object.entries(value);
    chunk += "{\n";
    for (const [i, [key, member]] of members.entries()) {
      chunk += `  ${JSON.stringify(key)}: `;
      if (Array.isArray(member) && member.length > 0) {
        chunk += "[\n";
        for (let j = 0; j < member.length; j++) {
          chunk += `    ${JSON.stringify(member[j])}${j < member.length - 1 ? "," : ""}\n`;
          if (chunk.length >= 1 << 16) await flushIfLarge();
        }
        chunk += "  ]";
      } else chunk += JSON.stringify(member);
      chunk += i < members.length - 1 ? ",\n" : "\n";
      await flushIfLarge();
    }
    await out.write(`${chunk}}\n`);
  } finally {
    out.release();
  }
};

export const verifyCommand = async (args: string[], io: Io): Promise<number> => {
  const { values } = parse(args, { config: { type: "string" } });
  if (values.help) return io.out(VERIFY_HELP), 0;
  const settings = settingsFor(values.config as string | undefined);
  const catalog = catalogAt(settings.configPath);
  const db = await openExisting(settings.databaseUrl);
  const shown = progress(io.stderr ?? process.stderr, "events replayed");
  try {
    const r = await compare(db, catalog, { at: Date.now(), onProgress: (n) => n % 1000 === 0 && shown.update(n) });
    shown.done();
    for (const d of r.differences) io.out(formatDifference(d, "projections", "replay"));
    const counts = [...PROJECTION_TABLES.map((t) => `${r.counts[t.rows]} ${t.rows}`), `${r.usage.counters} usage counters (${r.usage.records} usage records)`].join(", ");
    if (r.wholeLog !== null) io.err(`note: compared the whole log at once (${r.wholeLog}); "verity reprocess" rebuilds the projections and their bookkeeping.`);
    if (r.pending > 0) io.err(`note: ${r.pending} stored events are not projected yet (a running server catches up on them).`);
    if (r.unsettled) io.err("note: the database kept changing while verifying (a server is ingesting): differences may be passing.");
    if (r.differences.length === 0) {
      io.out(`no differences: ${r.events} events replayed; ${counts} match the projections`);
      return 0;
    }
    io.out(`${r.differences.length} difference${r.differences.length === 1 ? "" : "s"} between the projections (${counts}) and a replay of ${r.events} events`);
    if (!r.sameCatalog) {
      io.err(`hint: the projections were derived with another plan catalog or Verity version than ${settings.configPath}; "verity reprocess" rebuilds them.`);
    }
    return 1;
  } catch (e) {
    shown.done();
    io.err(`verity verify: could not verify: ${(e as Error).message}`);
    return 3;
  } finally {
    await db.close();
  }
};

export const reprocessCommand = async (args: string[], io: Io): Promise<number> => {
  const { values } = parse(args, { config: { type: "string" }, verbose: { type: "boolean" }, force: { type: "boolean" } });
  if (values.help) return io.out(REPROCESS_HELP), 0;
  const settings = settingsFor(values.config as string | undefined);
  const catalog = catalogAt(settings.configPath);
  const db = await openExisting(settings.databaseUrl);
  const stderr = io.stderr ?? process.stderr;
  try {
    const now = Date.now();
    const others = (await liveServers(db, now)).filter((s) => s.catalog !== catalogFingerprint(catalog));
    if (others.length > 0 && values.force !== true) {
      const listed = others.map((s) => `pid ${s.pid} on ${s.host}, seen ${Math.round((now - s.seenAt.getTime()) / 1000)} s ago`).join("; ");
      throw new InputError({
        message:
          `${others.length === 1 ? "a server runs" : `${others.length} servers run`} on this database with another plan catalog than ${settings.configPath} (${listed}). ` +
          "Its next webhook would re-derive users with its own catalog and undo this rebuild, and its live stream would not hear of it. " +
          "Restart it with the new catalog instead (it rebuilds at start), or stop it and run this again; --force rebuilds anyway.",
      });
    }
    const started = Date.now();
    if (stderr.isTTY === true) stderr.write(`reprocessing ${await countEvents(db)} events in one transaction…`);
    const r = await rebuild(db, catalog).finally(() => stderr.isTTY === true && stderr.write("\r\x1b[K"));
    io.out(`reprocessed ${r.events} events in one transaction (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const changed = r.differences.length > 0;
    for (const t of PROJECTION_TABLES) {
      const c = r.changes[t.entity];
      io.out(`${t.rows}: ${c.added} added, ${c.removed} removed, ${c.changed} changed`);
    }
    if (!changed) io.out("no changes: the projections were already what the event store gives");
    if (values.verbose) for (const d of r.differences) io.out(formatDifference(d, "before", "after"));
    return 0;
  } finally {
    await db.close();
  }
};
