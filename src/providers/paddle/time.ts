// RFC 3339 timestamps as Paddle writes them. The number of fractional digits varies (Paddle emits
// "…48.831Z", "…38.334150Z" and "…27.584874645Z" for the same kind of field), so the fraction is
// read as a decimal fraction of a second, never as a fixed unit. Pure: no Date.parse, no clock.
import type { Instant } from "../../domain/time.js";

/** An instant to the nanosecond: epoch milliseconds (Verity's Instant) and what lies below them. */
export type PreciseInstant = { readonly epochMs: Instant; readonly subMillisecondNanos: number };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const DAY_MS = 86_400_000;
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
