/**
 * Word tokenizer for the phrase detectors. One pass over the string, O(n): each code point is folded to lower-case
 * ASCII where it plainly stands for an ASCII letter (case, accents, fullwidth and mathematical letters via NFKD of
 * that one code point, a small Cyrillic/Greek homoglyph table, and leetspeak digits inside words), invisible
 * characters (zero-width, soft hyphen, tag characters, bidi controls, combining marks) are skipped without
 * splitting the word, an apostrophe between letters is dropped (`don't` → `dont`), and everything else that is not
 * a letter or digit separates words. Tokens keep their UTF-16 offsets in the original string.
 */
import { COMBINING_MARK, LETTER_OR_DIGIT } from './patterns.js';

export interface Token {
  /** The folded word. */
  w: string;
  /** The same word with leetspeak `1` read as `l` instead of `i` (`a11` → `all`), when it differs. */
  alt?: string;
  /** UTF-16 offsets of the word in the original string, `[start, end)`. */
  start: number;
  end: number;
  /** The next non-blank character after the word is a colon. */
  colon: boolean;
  /** A line break (or the start of the text) comes before this word. */
  nl: boolean;
}

/** Cyrillic and Greek letters that look like Latin ones (lower-case targets). */
const HOMOGLYPHS: ReadonlyMap<number, string> = new Map([
  [0x0430, 'a'], [0x0410, 'a'], [0x0432, 'b'], [0x0412, 'b'], [0x0435, 'e'], [0x0415, 'e'], [0x0451, 'e'],
  [0x041a, 'k'], [0x043a, 'k'], [0x041c, 'm'], [0x043c, 'm'], [0x041d, 'h'], [0x043d, 'h'], [0x043e, 'o'],
  [0x041e, 'o'], [0x0440, 'p'], [0x0420, 'p'], [0x0441, 'c'], [0x0421, 'c'], [0x0442, 't'], [0x0422, 't'],
  [0x0443, 'y'], [0x0423, 'y'], [0x0445, 'x'], [0x0425, 'x'], [0x0456, 'i'], [0x0406, 'i'], [0x0458, 'j'],
  [0x0408, 'j'], [0x0455, 's'], [0x0405, 's'], [0x0501, 'd'], [0x051b, 'q'], [0x051d, 'w'], [0x0261, 'g'],
  [0x03bf, 'o'], [0x039f, 'o'], [0x03b1, 'a'], [0x0391, 'a'], [0x03b9, 'i'], [0x0399, 'i'], [0x03bd, 'v'],
  [0x03c1, 'p'], [0x03a1, 'p'], [0x03c4, 't'], [0x03a4, 't'], [0x03ba, 'k'], [0x039a, 'k'], [0x03b5, 'e'],
  [0x0395, 'e'], [0x0392, 'b'], [0x0397, 'h'], [0x039c, 'm'], [0x039d, 'n'], [0x03a7, 'x'], [0x03a5, 'y'],
  [0x0396, 'z'], [0x0131, 'i'], [0x0269, 'i'], [0x01c0, 'l'],
]);

/** Leetspeak stand-ins, applied only inside a word that also has a letter (so plain numbers stay numbers). */
const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's' };

/** Code points that are invisible in rendered text and are skipped inside words. */
export function isInvisible(cp: number): boolean {
  return (
    (cp >= 0x200b && cp <= 0x200f) || cp === 0x00ad || cp === 0x2060 || cp === 0xfeff || cp === 0x180e ||
    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0000 && cp <= 0xe007f) || (cp >= 0xe0100 && cp <= 0xe01ef) || cp === 0x034f
  );
}

const SKIP = 0;
const SEP = 1;
type Folded = string | typeof SKIP | typeof SEP;

const cache = new Map<number, Folded>();
const CACHE_MAX = 4096;

function foldNonAscii(cp: number): Folded {
  const hit = cache.get(cp);
  if (hit !== undefined) return hit;
  let out: Folded;
  const ch = String.fromCodePoint(cp);
  if (isInvisible(cp) || COMBINING_MARK.test(ch)) out = SKIP;
  else if (cp === 0x2019 || cp === 0x02bc) out = "'";
  else {
    const h = HOMOGLYPHS.get(cp);
    if (h !== undefined) out = h;
    else {
      // NFKD of one code point: fullwidth, mathematical, circled letters and ligatures become ASCII; accents split off.
      const d = ch.normalize('NFKD');
      let ascii = '';
      let clean = true;
      for (let k = 0; k < d.length; k++) {
        const c = d.charCodeAt(k);
        if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) ascii += d[k];
        else if (c >= 0x41 && c <= 0x5a) ascii += String.fromCharCode(c + 32);
        else if (!(c >= 0x300 && c <= 0x36f)) clean = false;
      }
      if (clean && ascii.length > 0 && ascii.length <= 3) out = ascii;
      else out = LETTER_OR_DIGIT.test(ch) ? ch.toLowerCase() : SEP;
    }
  }
  if (cache.size < CACHE_MAX) cache.set(cp, out);
  return out;
}

function foldAscii(c: number): Folded {
  if (c >= 0x61 && c <= 0x7a) return String.fromCharCode(c);
  if (c >= 0x41 && c <= 0x5a) return String.fromCharCode(c + 32);
  if ((c >= 0x30 && c <= 0x39) || c === 0x40 || c === 0x24) return String.fromCharCode(c);
  if (c === 0x27) return "'";
  return SEP;
}

function isLetterish(s: string): boolean {
  const c = s.charCodeAt(0);
  return !((c >= 0x30 && c <= 0x39) || c === 0x40 || c === 0x24 || c === 0x27);
}

let lastText: string | undefined;
let lastTokens: readonly Token[] = [];

/**
 * Splits `text` into folded words. Linear in `text.length`. The last result is kept, so the several phrase
 * detectors run over one string tokenize it once; callers must not modify the returned array.
 */
export function tokenize(text: string): readonly Token[] {
  if (text === lastText) return lastTokens;
  lastTokens = tokenizeFresh(text);
  lastText = text;
  return lastTokens;
}

function tokenizeFresh(text: string): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let hasLetter = false;
  let hasLeet = false;
  let start = -1;
  let end = -1;
  let pendingApostrophe = false;
  let sawBreak = true;
  let lastClosed: Token | undefined;
  let onlyBlankSince = false;

  const flush = (): void => {
    if (start < 0) return;
    let w = word;
    let alt: string | undefined;
    if (hasLeet && hasLetter) {
      let mapped = '';
      for (const ch of w) mapped += LEET[ch] ?? ch;
      if (w.includes('1')) {
        let other = '';
        for (const ch of w) other += ch === '1' ? 'l' : (LEET[ch] ?? ch);
        alt = other;
      }
      w = mapped;
    }
    lastClosed = alt === undefined ? { w, start, end, colon: false, nl: sawBreak } : { w, alt, start, end, colon: false, nl: sawBreak };
    tokens.push(lastClosed);
    onlyBlankSince = true;
    sawBreak = false;
    word = '';
    hasLetter = false;
    hasLeet = false;
    start = -1;
    pendingApostrophe = false;
  };

  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    const f = cp < 0x80 ? foldAscii(cp) : foldNonAscii(cp);
    if (f === SKIP) {
      i += width;
      continue;
    }
    if (f === SEP || (f === "'" && start < 0)) {
      if (start >= 0) flush();
      if (cp === 0x0a || cp === 0x0d || cp === 0x2028 || cp === 0x2029) {
        sawBreak = true;
        onlyBlankSince = false;
      } else if ((cp === 0x3a || cp === 0xff1a) && onlyBlankSince && lastClosed !== undefined) {
        lastClosed.colon = true;
        onlyBlankSince = false;
      } else if (cp !== 0x20 && cp !== 0x09) onlyBlankSince = false;
      i += width;
      continue;
    }
    if (f === "'") {
      // An apostrophe joins two letters (`don't`); anywhere else it separates (and is not part of the word's span).
      pendingApostrophe = true;
      i += width;
      continue;
    }
    if (pendingApostrophe) {
      pendingApostrophe = false;
      if (!hasLetter) flush();
    }
    if (start < 0) start = i;
    word += f;
    if (isLetterish(f)) hasLetter = true;
    else if (LEET[f] !== undefined) hasLeet = true;
    end = i + width;
    i += width;
  }
  flush();
  return tokens;
}
