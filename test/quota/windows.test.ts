import { expect, test } from 'vitest';
import { calendarWindow } from '../../src/quota/windows.js';

const at = (iso: string) => Date.parse(iso);
const span = (window: { start: number; end: number }) => [new Date(window.start).toISOString(), new Date(window.end).toISOString()];

test.each([
  ['minute', '2026-11-28T18:36:59.999Z', ['2026-11-28T18:36:00.000Z', '2026-11-28T18:37:00.000Z']],
  ['hour', '2026-11-28T23:59:59.000Z', ['2026-11-28T23:00:00.000Z', '2026-11-29T00:00:00.000Z']],
  ['day', '2026-12-31T23:59:59.999Z', ['2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z']],
  ['month', '2026-01-31T12:00:00.000Z', ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']],
  ['month', '2026-02-28T23:59:59.999Z', ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']],
  ['month', '2028-02-29T08:00:00.000Z', ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z']],
  ['month', '2026-12-15T00:00:00.000Z', ['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']],
] as const)('a %s window at %s is UTC-calendar aligned', (unit, now, expected) => {
  expect(span(calendarWindow(unit, at(now)))).toEqual(expected);
});

test('the next instant after a window starts the next one, across a month end', () => {
  const january = calendarWindow('month', at('2026-01-31T23:59:59.999Z'));
  const february = calendarWindow('month', january.end);
  expect(february.start).toBe(january.end);
  expect(span(february)).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
});
