/**
 * Character classes and small bounded helpers shared by the hand-written scanners. Everything works on UTF-16 code
 * units (`charCodeAt`), never on RegExps, so every scanner built from these runs in time linear in its input.
 */

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isUpper = (c: number): boolean => c >= 65 && c <= 90;
export const isLower = (c: number): boolean => c >= 97 && c <= 122;
export const isAlpha = (c: number): boolean => isUpper(c) || isLower(c);
export const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
/** `[A-Za-z0-9_]` */
export const isWord = (c: number): boolean => isAlnum(c) || c === 95;
export const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** `[A-Za-z0-9_-]`: base64url, and the alphabet of most API tokens. */
export const isB64Url = (c: number): boolean => isWord(c) || c === 45;
/** `[A-Za-z0-9+/]` */
export const isB64 = (c: number): boolean => isAlnum(c) || c === 43 || c === 47;
/** Space, tab, CR, LF, FF, VT, NBSP. */
export const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 160;
/** Letters, digits and `_` of any script: a character that joins a word. Non-ASCII code units count as word parts. */
export const isWordLike = (c: number): boolean => isWord(c) || c >= 128;

/** The code unit at `i`, or -1 outside the string. */
export function at(text: string, i: number): number {
  return i >= 0 && i < text.length ? text.charCodeAt(i) : -1;
}

/** End of the run of characters satisfying `pred` that starts at `from` (exclusive index). */
export function runEnd(text: string, from: number, pred: (c: number) => boolean): number {
  let i = from;
  while (i < text.length && pred(text.charCodeAt(i))) i++;
  return i;
}

/** True if `text` has `word` (ASCII, given in lower case) at `i`, compared case-insensitively. */
export function hasAt(text: string, i: number, word: string): boolean {
  if (i < 0 || i + word.length > text.length) return false;
  for (let k = 0; k < word.length; k++) {
    let c = text.charCodeAt(i + k);
    if (isUpper(c)) c += 32;
    if (c !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** True if `text` has exactly `word` at `i` (case-sensitive). */
export function hasExact(text: string, i: number, word: string): boolean {
  return text.startsWith(word, i);
}

/**
 * The word (ASCII letters only, lower-cased) that ends closest before `i`, looking back at most `window` code units and
 * skipping punctuation and spaces; '' if none. Used for bounded negative context ("order 415-555-0132").
 */
export function previousWord(text: string, i: number, window = 24): string {
  const stop = Math.max(0, i - window);
  let j = i - 1;
  while (j >= stop && !isAlnum(text.charCodeAt(j))) j--;
  const end = j + 1;
  while (j >= stop && isAlpha(text.charCodeAt(j))) j--;
  if (j >= stop && isDigit(text.charCodeAt(j))) return '';
  return text.slice(j + 1, end).toLowerCase();
}

/** True if a word of `words` (lower case) occurs among the last `window` code units before `i`, on word boundaries. */
export function contextHas(text: string, i: number, words: ReadonlySet<string>, window = 32): boolean {
  const stop = Math.max(0, i - window);
  let j = i - 1;
  while (j >= stop) {
    while (j >= stop && !isAlpha(text.charCodeAt(j))) j--;
    const end = j + 1;
    while (j >= stop && isAlpha(text.charCodeAt(j))) j--;
    if (end > j + 1 && j >= stop - 1 && words.has(text.slice(j + 1, end).toLowerCase())) return true;
  }
  return false;
}

/** Words just before a number that make it an identifier (order, invoice, version…), not personal data. */
export const IDENTIFIER_WORDS = new Set(['order', 'invoice', 'ref', 'reference', 'ticket', 'tracking', 'sku', 'serial', 'id', 'no', 'nr', 'po', 'case', 'account', 'acct', 'isbn', 'version', 'build', 'txn', 'transaction', 'item', 'part', 'batch', 'lot']);
/** True if the character at `end` lets a number stop there (no letter, and no `.5`, `-7`, `/2`, `,3`, `:4` continuation). */
export function numberEnd(text: string, end: number): boolean {
  const c = at(text, end);
  if (isWordLike(c) || c === 37) return false;
  return !('.-/,:'.includes(String.fromCharCode(c)) && c !== -1 && isAlnum(at(text, end + 1)));
}

/** True if the character before `start` lets a number begin there. */
export function numberStart(text: string, start: number): boolean {
  const c = at(text, start - 1);
  return !(isWordLike(c) || (c >= 0 && '.-+/#$@'.includes(String.fromCharCode(c))));
}

/** Splits `AWS_SECRET_ACCESS_KEY`, `apiKey`, `x-api-key`, `APIKey`, `db.password` into lower-case words. */
export function nameWords(name: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isAlnum(c)) {
      if (cur) words.push(cur.toLowerCase());
      cur = '';
      continue;
    }
    const prev = at(name, i - 1);
    const next = at(name, i + 1);
    const camel = isUpper(c) && cur.length > 0 && (isLower(prev) || isDigit(prev) || (isUpper(prev) && isLower(next)));
    if (camel) {
      words.push(cur.toLowerCase());
      cur = '';
    }
    cur += name[i];
  }
  if (cur) words.push(cur.toLowerCase());
  return words;
}

/** Shannon entropy of `s` in bits per code unit. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** True if every code unit of `s` satisfies `pred`. */
export function all(s: string, pred: (c: number) => boolean): boolean {
  for (let i = 0; i < s.length; i++) if (!pred(s.charCodeAt(i))) return false;
  return true;
}

/** `8-4-4-4-12` hex digits. */
export function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}

/** Decodes base64 or base64url (padding optional) to a binary string, or null if it is not valid. */
export function decodeBase64(s: string): string | null {
  let b = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 45) b += '+';
    else if (c === 95) b += '/';
    else if (c === 61) break;
    else if (isB64(c)) b += s[i];
    else return null;
  }
  if (b.length % 4 === 1) return null;
  while (b.length % 4 !== 0) b += '=';
  try {
    return atob(b);
  } catch {
    return null;
  }
}
