/**
 * A tiny phrase matcher over folded words (see `normalize.ts`), used instead of RegExps so matching is linear.
 *
 * A phrase is written as space-separated slots:
 *   `a|b|c`    one word from the set (required); a trailing `:` (`instructions:`) also requires a colon after it
 *   `[a|b]?`   optionally one word from the set
 *   `[a|b]*3`  zero to three words from the set
 *   `*2`       zero to two words of any kind
 * The first slot must be a required word set; phrases are indexed by it. Matching from one start position tries
 * every way the optional slots and gaps can be taken, which is bounded by the phrase itself (`branching`, checked
 * ≤ MAX_BRANCHING at construction), so a scan is O(words × phrases starting with that word × MAX_BRANCHING).
 */
import type { Token } from './normalize.js';

export const MAX_BRANCHING = 256;

interface Slot {
  words: ReadonlySet<string> | null;
  min: number;
  max: number;
  colon: boolean;
}

export interface Phrase {
  readonly source: string;
  readonly slots: readonly Slot[];
  readonly confidence: number;
  /** Upper bound on the match attempts from one start position. */
  readonly branching: number;
}

export interface PhraseHit {
  /** Token indexes of the first and last word of the match. */
  first: number;
  last: number;
  confidence: number;
  phrase: Phrase;
}

function parseSet(s: string): ReadonlySet<string> {
  return new Set(s.split('|').filter((w) => w.length > 0));
}

export function phrase(source: string, confidence: number): Phrase {
  const slots: Slot[] = [];
  for (const part of source.split(' ')) {
    if (part.length === 0) continue;
    if (part.startsWith('*')) {
      slots.push({ words: null, min: 0, max: Number(part.slice(1)), colon: false });
    } else if (part.startsWith('[')) {
      const close = part.indexOf(']');
      const set = parseSet(part.slice(1, close));
      const q = part.slice(close + 1);
      slots.push({ words: set, min: 0, max: q === '?' ? 1 : Number(q.slice(1)), colon: false });
    } else {
      const colon = part.endsWith(':');
      slots.push({ words: parseSet(colon ? part.slice(0, -1) : part), min: 1, max: 1, colon });
    }
  }
  const first = slots[0];
  if (first === undefined || first.min !== 1 || first.words === null) throw new Error(`phrase must start with a word: ${source}`);
  for (const s of slots) if (!Number.isInteger(s.max) || s.max < s.min) throw new Error(`bad slot in phrase: ${source}`);
  let branching = 1;
  for (const s of slots) branching *= s.max - s.min + 1;
  if (branching > MAX_BRANCHING) throw new Error(`phrase branches too much (${branching}): ${source}`);
  return { source, slots, confidence, branching };
}

function has(words: ReadonlySet<string>, t: Token): boolean {
  return words.has(t.w) || (t.alt !== undefined && words.has(t.alt));
}

/** Tries to match `slots[k..]` at token `i`; returns the index one past the last word matched, or -1. */
function matchAt(tokens: readonly Token[], i: number, slots: readonly Slot[], k: number): number {
  const slot = slots[k];
  if (slot === undefined) return i;
  if (slot.min === 1) {
    const t = tokens[i];
    if (t === undefined || slot.words === null || !has(slot.words, t) || (slot.colon && !t.colon)) return -1;
    return matchAt(tokens, i + 1, slots, k + 1);
  }
  // Optional slot or gap: take as few words as possible first, so the shortest match is found.
  for (let n = 0; n <= slot.max; n++) {
    if (n > 0) {
      const t = tokens[i + n - 1];
      if (t === undefined) return -1;
      if (slot.words !== null && !has(slot.words, t)) return -1;
    }
    const end = matchAt(tokens, i + n, slots, k + 1);
    if (end >= 0) return end;
  }
  return -1;
}

/** A set of phrases indexed by their first word. */
export class PhraseSet {
  readonly phrases: readonly Phrase[];
  private readonly byFirst = new Map<string, Phrase[]>();

  constructor(phrases: readonly Phrase[]) {
    this.phrases = phrases;
    for (const p of phrases) {
      for (const w of p.slots[0]?.words ?? []) {
        const list = this.byFirst.get(w);
        if (list === undefined) this.byFirst.set(w, [p]);
        else list.push(p);
      }
    }
  }

  /** Non-overlapping hits, left to right; at one start the most confident (then longest) phrase wins. */
  find(tokens: readonly Token[]): PhraseHit[] {
    const hits: PhraseHit[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t === undefined) continue;
      const candidates = this.byFirst.get(t.w) ?? (t.alt === undefined ? undefined : this.byFirst.get(t.alt));
      if (candidates === undefined) continue;
      let best: PhraseHit | undefined;
      for (const p of candidates) {
        const end = matchAt(tokens, i, p.slots, 0);
        if (end < 0) continue;
        if (best === undefined || p.confidence > best.confidence || (p.confidence === best.confidence && end - 1 > best.last)) {
          best = { first: i, last: end - 1, confidence: p.confidence, phrase: p };
        }
      }
      if (best !== undefined) {
        hits.push(best);
        i = best.last;
      }
    }
    return hits;
  }
}
