import type { Detector } from '../../guardrails/index.js';

/** The substrings a detector reports in `text`, in order of start. */
export function found(detector: Detector, text: string): string[] {
  return detector
    .scan(text)
    .sort((a, b) => a.start - b.start)
    .map((m) => text.slice(m.start, m.end));
}

/** The `[start, end)` spans a detector reports, in order of start. */
export function spans(detector: Detector, text: string): [number, number][] {
  return detector
    .scan(text)
    .sort((a, b) => a.start - b.start)
    .map((m) => [m.start, m.end]);
}

/** Asserts `needle` occurs once in `text` and returns its span. */
export function spanOf(text: string, needle: string): [number, number] {
  const i = text.indexOf(needle);
  if (i === -1 || text.indexOf(needle, i + 1) !== -1) throw new Error(`${needle} must occur once in ${text}`);
  return [i, i + needle.length];
}
