/**
 * Hidden text: Unicode tag characters (U+E0000–E007F, invisible ASCII look-alikes), zero-width characters
 * (U+200B–U+200D, U+2060, U+FEFF other than a leading BOM), bidirectional embedding/override/isolate controls
 * (U+202A–U+202E, U+2066–U+2069), and runs of variation selectors from the supplement (U+E0100–E01EF, used to
 * smuggle bytes after an emoji). Reports each run of adjacent hidden characters as one span; never decodes it.
 *
 * Not flagged: a zero-width joiner inside an emoji sequence (👩‍💻), a joiner/non-joiner between letters of
 * scripts that use them (Persian, Indic), a subdivision-flag emoji's tag sequence (🏴 + tags + U+E007F).
 * One pass over the code points; each check looks at one neighbour on either side.
 */
import type { Detector, Match } from '../types.js';
import { COMBINING_MARK, LETTER_OR_DIGIT, PICTOGRAPH } from './patterns.js';

const TYPE = 'injection.hidden';

const NONE = 0;
const TAG = 1;
const ZERO_WIDTH = 2;
const BIDI = 3;
const VS_SUPPLEMENT = 4;

function kindOf(cp: number): number {
  if (cp >= 0xe0000 && cp <= 0xe007f) return TAG;
  if ((cp >= 0x200b && cp <= 0x200d) || cp === 0x2060 || cp === 0xfeff) return ZERO_WIDTH;
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return BIDI;
  if (cp >= 0xe0100 && cp <= 0xe01ef) return VS_SUPPLEMENT;
  return NONE;
}

function isEmojiPart(cp: number): boolean {
  return cp === 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff) || PICTOGRAPH.test(String.fromCodePoint(cp));
}

function isScriptLetter(cp: number): boolean {
  if (cp < 0x80) return false;
  const ch = String.fromCodePoint(cp);
  return LETTER_OR_DIGIT.test(ch) || COMBINING_MARK.test(ch);
}

function isAsciiLetter(cp: number): boolean {
  return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a);
}

/** A zero-width (non-)joiner that is doing its typographic job. */
function benignJoiner(cp: number, prev: number, next: number): boolean {
  if (cp === 0x200d && isEmojiPart(prev) && isEmojiPart(next)) return true;
  return (cp === 0x200c || cp === 0x200d) && isScriptLetter(prev) && isScriptLetter(next);
}

interface Run {
  start: number;
  end: number;
  tags: number;
  zeroWidth: number;
  bidi: number;
  vs: number;
  before: number;
  lastCp: number;
}

function confidenceOf(run: Run, after: number): number {
  if (run.tags > 0) {
    const flag = run.before === 0x1f3f4 && run.lastCp === 0xe007f && run.tags <= 8 && run.tags === (run.end - run.start) >> 1;
    if (flag && run.zeroWidth + run.bidi + run.vs === 0) return 0;
    return 0.95;
  }
  if (run.vs >= 2) return 0.8;
  if (run.zeroWidth >= 2) return 0.85;
  if (run.bidi > 0) return 0.7;
  if (run.zeroWidth === 1) return isAsciiLetter(run.before) && isAsciiLetter(after) ? 0.7 : 0.5;
  return 0;
}

function scan(text: string): Match[] {
  const out: Match[] = [];
  let run: Run | undefined;
  let prev = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    let kind = kindOf(cp);
    if (kind === ZERO_WIDTH) {
      if (cp === 0xfeff && i === 0) kind = NONE;
      else {
        const next = text.codePointAt(i + width) ?? 0;
        if (benignJoiner(cp, prev, next)) kind = NONE;
      }
    }
    if (kind === NONE) {
      if (run !== undefined) {
        const c = confidenceOf(run, cp);
        if (c > 0) out.push({ type: TYPE, start: run.start, end: run.end, confidence: c });
        run = undefined;
      }
      prev = cp;
      i += width;
      continue;
    }
    run ??= { start: i, end: i, tags: 0, zeroWidth: 0, bidi: 0, vs: 0, before: prev, lastCp: 0 };
    if (kind === TAG) run.tags++;
    else if (kind === ZERO_WIDTH) run.zeroWidth++;
    else if (kind === BIDI) run.bidi++;
    else run.vs++;
    run.end = i + width;
    run.lastCp = cp;
    i += width;
  }
  if (run !== undefined) {
    const c = confidenceOf(run, 0);
    if (c > 0) out.push({ type: TYPE, start: run.start, end: run.end, confidence: c });
  }
  return out;
}

export const hiddenDetector: Detector = { id: TYPE, category: 'injection', scan };
