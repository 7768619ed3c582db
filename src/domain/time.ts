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
