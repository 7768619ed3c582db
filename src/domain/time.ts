// Instants are epoch milliseconds: plain numbers, totally ordered, free of any clock.
export type Instant = number;

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
