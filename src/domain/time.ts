// Instants are epoch milliseconds: plain numbers, totally ordered, free of any clock.
export type Instant = number;

/** The range a JavaScript Date (and so every database column) can hold: ±100,000,000 days. */
const MAX_INSTANT = 8.64e15;

/** `t` when it is an instant a Date can hold, else null: providers' numbers are untrusted. */
export const representable = (t: number | null): Instant | null => (t !== null && Number.isInteger(t) && Math.abs(t) <= MAX_INSTANT ? t : null);

export const fromUnixSeconds = (seconds: number): Instant => seconds * 1000;

const DAY_MS = 86_400_000;
export const addDays = (t: Instant, days: number): Instant => t + days * DAY_MS;

/** First instant of the calendar month after `t`, in UTC. */
export const startOfNextMonthUtc = (t: Instant): Instant => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/** First instant of the calendar year after `t`, in UTC. */
export const startOfNextYearUtc = (t: Instant): Instant => Date.UTC(new Date(t).getUTCFullYear() + 1, 0, 1);

// ── reading instants from text: one definition per policy ────────────────────────────────────
// Providers' timestamps are read strictly as RFC 3339 (a date, "T", a time, a zone; any number of
// fractional digits, read as a decimal fraction of a second): Paddle writes 3, 6 or 9 digits for
// the same field, Lemon Squeezy 6. What an operator types (CLI flags, export lines written by hand,
// the API's `since`) may be a date alone or a date-time without a zone, read as UTC, so an answer
// never depends on the machine's time zone. Neither uses Date.parse, whose looser forms vary.

/** An instant to the nanosecond: epoch milliseconds (Verity's Instant) and what lies below them. */
export type PreciseInstant = { readonly epochMs: Instant; readonly subMillisecondNanos: number };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

// 400 Gregorian years are exactly 146097 days: shifting by them keeps Date.UTC away from its
// two-digit-year rule (years 0–99 would be read as 1900–1999).
const FOUR_CENTURIES_MS = 146_097 * DAY_MS;

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** The instant a timestamp names, or null when it is not RFC 3339 (or names no real date). */
export const parseRfc3339 = (value: string): PreciseInstant | null => {
  const match = RFC3339.exec(value);
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetSign = match[8] === "-" ? -1 : 1;
  const offsetHours = Number(match[9] ?? 0);
  const offsetMinutes = Number(match[10] ?? 0);
  // Leap seconds (:60) are not accepted: no provider sends them and Date cannot hold them.
  const valid =
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
  if (!valid) return null;
  const fraction = (match[7] ?? "").slice(0, 9).padEnd(9, "0");
  const millis = Number(fraction.slice(0, 3));
  const utc = Date.UTC(year + 400, month - 1, day, hour, minute, second, millis) - FOUR_CENTURIES_MS;
  return { epochMs: utc - offsetSign * (offsetHours * 60 + offsetMinutes) * 60_000, subMillisecondNanos: Number(fraction.slice(3)) };
};

/** Epoch milliseconds of an RFC 3339 timestamp (sub-millisecond digits dropped), or null. */
export const parseRfc3339Millis = (value: string): Instant | null => parseRfc3339(value)?.epochMs ?? null;

const OPERATOR_INPUT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An instant an operator typed: `2026-01-31` (midnight UTC), `2026-01-31T12:00`, `2026-01-31 12:00:00.5`
 * or any of these with `Z` or an offset (`+02:00`, `+0200`); without one, UTC. Null for anything else,
 * and for dates that do not exist.
 */
export const parseOperatorInstant = (text: string): Instant | null => {
  const m = OPERATOR_INPUT.exec(text.trim());
  if (m === null) return null;
  const [, y, mo, d, h = "00", mi = "00", sec = "00", fraction = "", zone = "Z"] = m;
  const offset = zone.toUpperCase() === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  return representable(parseRfc3339Millis(`${y}-${mo}-${d}T${h}:${mi}:${sec}${fraction === "" ? "" : `.${fraction}`}${offset}`));
};
