import type { Category, Detector, Match } from './types.js';

export type Emit = (start: number, end: number, confidence: number) => void;

/**
 * Builds a detector whose id is its match type (`pii.email`), from a scanner that emits spans and confidences, and
 * optionally a member scanner (see `Detector.scanMember`) that gets the text scanner to call as it sees fit.
 */
export function defineDetector(
  type: string,
  category: Category,
  scan: (text: string, emit: Emit) => void,
  member?: (name: string, value: string, emit: Emit, scan: (text: string, emit: Emit) => void) => void,
): Detector {
  const collect = (run: (emit: Emit) => void): Match[] => {
    const matches: Match[] = [];
    run((start, end, confidence) => {
      matches.push({ type, start, end, confidence });
    });
    return matches;
  };
  const detector: Detector = { id: type, category, scan: (text) => collect((emit) => scan(text, emit)) };
  if (member) return { ...detector, scanMember: (name, value) => collect((emit) => member(name, value, emit, scan)) };
  return detector;
}
