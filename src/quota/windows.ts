/** A calendar window in UTC: its start (part of the counter's key) and its end (when the counter resets). */
export interface Window {
  start: number;
  end: number;
}

/**
 * The UTC calendar window containing `now` (docs/quotas.md): minutes and hours on the clock, days from midnight UTC,
 * months from the first of the month, so a month's length follows the calendar.
 */
export function calendarWindow(unit: 'minute' | 'hour' | 'day' | 'month', now: number): Window {
  const date = new Date(now);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  const h = date.getUTCHours();
  switch (unit) {
    case 'minute': {
      const start = Date.UTC(y, m, d, h, date.getUTCMinutes());
      return { start, end: start + 60_000 };
    }
    case 'hour': {
      const start = Date.UTC(y, m, d, h);
      return { start, end: start + 3_600_000 };
    }
    case 'day':
      return { start: Date.UTC(y, m, d), end: Date.UTC(y, m, d + 1) };
    case 'month':
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  }
}
