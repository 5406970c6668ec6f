/**
 * Personal data: e-mail addresses and phone numbers. Hand-written single-pass scanners (no RegExp): each starts at a
 * trigger character and reads a bounded token around it, so the cost is linear in the text's length.
 */
import { defineDetector, type Emit } from './define-detector.js';
import { insideIban } from './pii-numbers.js';
import { IDENTIFIER_WORDS, at, contextHas, isAlnum, isAlpha, isDigit, isSpace, isUpper, isWordLike, nameWords, numberEnd, numberStart, previousWord, runEnd } from './scan-chars.js';

/** Non-ASCII letters (RFC 6531 internationalized addresses): code units from U+00C0, less spaces and punctuation blocks. */
const isIntlLetter = (c: number): boolean => c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && !(c >= 0x2000 && c <= 0x2bff) && !(c >= 0x3000 && c <= 0x303f) && !(c >= 0xfe30 && c <= 0xfe6f) && !(c >= 0xff00 && c <= 0xff65);
/** `[A-Za-z0-9._%+-]` and non-ASCII letters: the local-part characters we accept (the common subset of RFC 5322/6531). */
const isLocal = (c: number): boolean => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || isIntlLetter(c);
const isLabel = (c: number): boolean => isAlnum(c) || c === 45 || isIntlLetter(c);

/** Endings that are file extensions, not top-level domains (`logo@2x.png`, `icon@3x.webp`). */
const FILE_EXTENSIONS = new Set(
  'png jpg jpeg gif svg webp bmp ico tif tiff heic pdf js mjs cjs ts tsx jsx json yaml yml toml xml html htm css scss less txt log csv lock map wasm tgz gz tar zip bz2 exe dll so dylib jar class vue svelte'.split(' '),
);

/** Returns the end of a valid domain starting at `from`, or -1. Labels `[A-Za-z0-9-]{1,63}` joined by dots, ≥ 2 labels, alphabetic TLD. */
function domainEnd(text: string, from: number): number {
  let j = from;
  let labels = 0;
  let tldStart = from;
  for (;;) {
    const start = j;
    j = runEnd(text, j, isLabel);
    const len = j - start;
    if (len === 0 || len > 63 || text.charCodeAt(start) === 45 || text.charCodeAt(j - 1) === 45) return -1;
    labels++;
    tldStart = start;
    if (at(text, j) === 46 && isAlnum(at(text, j + 1))) j++;
    else break;
  }
  if (labels < 2 || j - from > 253) return -1;
  const tld = text.slice(tldStart, j).toLowerCase();
  const alphaTld = tld.length >= 2 && tld.length <= 24 && [...tld].every((ch) => isAlpha(ch.charCodeAt(0)));
  if (!alphaTld && !tld.startsWith('xn--')) return -1;
  if (FILE_EXTENSIONS.has(tld)) return -1;
  return j;
}

/** True if `s` starts the userinfo of a URL: `scheme://user@host` or `scheme://user:password@host` (≤ 256 back). */
function inUrlAuthority(text: string, s: number): boolean {
  let p = s;
  if (at(text, p - 1) === 58) {
    p--;
    const stop = Math.max(0, p - 256);
    while (p > stop && isLocal(text.charCodeAt(p - 1))) p--;
  }
  return at(text, p - 1) === 47 && at(text, p - 2) === 47;
}

/** Emits the address around the at-sign at `i` (`@`, or `%40` in URL-encoded text when `width` is 3). Reads ≤ 65 + 254 characters. */
function emailAround(text: string, i: number, width: number, emit: Emit): void {
  let s = i;
  while (s > 0 && isLocal(text.charCodeAt(s - 1)) && i - s <= 64) s--;
  while (s < i && text.charCodeAt(s) === 46) s++;
  const local = text.slice(s, i);
  const before = at(text, s - 1);
  const ok =
    local.length > 0 &&
    local.length <= 64 &&
    !isLocal(before) &&
    !isWordLike(before) &&
    before !== 64 &&
    !local.endsWith('.') &&
    !local.includes('..') &&
    !inUrlAuthority(text, s);
  if (!ok) return;
  const end = domainEnd(text, i + width);
  const next = at(text, end);
  const scpPath = next === 58 && end + 1 < text.length && !isSpace(text.charCodeAt(end + 1));
  if (end !== -1 && next !== 64 && !isWordLike(next) && !scpPath) emit(s, end, 0.95);
}

/** `pii.email`: `local@domain.tld` (also `local%40domain.tld`). Not scp-style `git@host:path`, not `name@2x.png`, not `pkg@1.2.3`. */
export const emailDetector = defineDetector('pii.email', 'pii', (text, emit) => {
  for (let i = text.indexOf('@'); i !== -1; i = text.indexOf('@', i + 1)) emailAround(text, i, 1, emit);
  for (let i = text.indexOf('%40'); i !== -1; i = text.indexOf('%40', i + 3)) emailAround(text, i, 3, emit);
});

/** A digit group of a phone-like run: `(415)` or `555`. */
interface Group {
  start: number;
  end: number;
  digits: string;
  paren: boolean;
}

/** Words near a number that say it is a phone number. */
const PHONE_WORDS = new Set(['phone', 'tel', 'telephone', 'mobile', 'cell', 'call', 'fax', 'whatsapp', 'sms', 'contact', 'reach', 'dial', 'telefon', 'handy', 'portable']);

const SEPARATORS = ' -./';

/** Reads the phone-like run at `i`: digit groups, optionally parenthesized, joined by single separators. */
function readRun(text: string, i: number): { groups: Group[]; seps: string[]; plus: boolean } {
  const groups: Group[] = [];
  const seps: string[] = [];
  let pos = i;
  const plus = text.charCodeAt(pos) === 43;
  if (plus) pos++;
  for (;;) {
    const start = pos;
    const paren = text.charCodeAt(pos) === 40;
    if (paren) pos++;
    const d0 = pos;
    pos = runEnd(text, pos, isDigit);
    if (pos === d0 || (paren && text.charCodeAt(pos) !== 41)) {
      if (groups.length > 0) seps.pop();
      pos = start;
      break;
    }
    const digits = text.slice(d0, pos);
    if (paren) pos++;
    groups.push({ start, end: pos, digits, paren });
    const c = at(text, pos);
    const n = at(text, pos + 1);
    if (c >= 0 && SEPARATORS.includes(String.fromCharCode(c)) && (isDigit(n) || n === 40)) {
      seps.push(String.fromCharCode(c));
      pos++;
    } else if (paren && (isDigit(c) || c === 40)) {
      seps.push('');
    } else break;
  }
  return { groups, seps, plus };
}

const lens = (gs: readonly Group[]): string => gs.map((g) => g.digits.length).join(',');
const allSame = (seps: readonly string[], allowed: string): boolean =>
  seps.length > 0 && seps.every((s) => s === seps[0]) && allowed.includes(seps[0] ?? '#') && seps[0] !== '';
const noParens = (gs: readonly Group[]): boolean => gs.every((g) => !g.paren);
const trunk = (d: string): boolean => d.length >= 2 && d[0] === '0' && d[1] !== '0';

/** North American `[2-9]XX [2-9]XX XXXX`, optionally after a `1`. */
function nanp(gs: readonly Group[], seps: readonly string[]): boolean {
  let g = gs;
  let s = seps;
  if (g.length === 4 && g[0]?.digits === '1' && !g[0].paren) {
    g = g.slice(1);
    s = s.slice(1);
  }
  if (lens(g) !== '3,3,4' || g[1]?.paren || g[2]?.paren) return false;
  const area = g[0]?.digits ?? '';
  const exchange = g[1]?.digits ?? '';
  if (area < '200' || exchange < '200') return false;
  if (g[0]?.paren) return (s[0] === '' || s[0] === ' ') && (s[1] === '-' || s[1] === ' ' || s[1] === '.');
  return allSame(s, ' -.') || (s[0] === ' ' && s[1] === '-'); // also `415 555-0132`
}

/** French `0X XX XX XX XX`. */
const french = (gs: readonly Group[], seps: readonly string[]): boolean =>
  lens(gs) === '2,2,2,2,2' && noParens(gs) && trunk(gs[0]?.digits ?? '') && allSame(seps, ' .-');

const UK_SHAPES = new Set(['3,4,4', '4,3,4', '5,6', '5,3,3', '4,7']);
/** British `020 7946 0018`, `07700 900123`, `(0161) 496 0123`: 11 digits after a trunk 0, spaces only. */
function british(gs: readonly Group[], seps: readonly string[]): boolean {
  if (!UK_SHAPES.has(lens(gs)) || !trunk(gs[0]?.digits ?? '') || gs.slice(1).some((g) => g.paren)) return false;
  return seps.every((s, k) => s === ' ' || (k === 0 && s === '' && gs[0]?.paren === true));
}

/** German-style (also Australian, Swiss…) `030 12345678`, `0151-23456789`, `(089) 123 4567`, `030/1234 5678`, `(02) 9876 5432`: area code with trunk 0, then 5–8 digits. */
function german(gs: readonly Group[], seps: readonly string[]): boolean {
  const [area, ...rest] = gs;
  // A parenthesized area code may be two digits (`(02) 9876 5432`, `(030) 1234567`).
  if (!area || !trunk(area.digits) || area.digits.length < (area.paren ? 2 : 3) || area.digits.length > 5) return false;
  if (rest.length < 1 || rest.length > 2 || rest.some((g) => g.paren || g.digits.length < 2) || (rest[0]?.digits.length ?? 0) < 3) return false;
  const subscriber = rest.reduce((n, g) => n + g.digits.length, 0);
  if (subscriber < 5 || subscriber > 8) return false;
  const first = seps[0] ?? '#';
  if (!(' /-'.includes(first) || (first === '' && area.paren))) return false;
  return seps.length < 2 || seps[1] === ' ' || seps[1] === '-';
}

/** E.164 written with a `+`: 10–15 digits, country code 1–3 digits when grouped. */
function international(gs: readonly Group[]): boolean {
  const digits = gs.reduce((n, g) => n + g.digits.length, 0);
  const first = gs[0];
  if (!first || first.paren || first.digits[0] === '0' || digits < 10 || digits > 15 || gs.length > 6) return false;
  return gs.length === 1 || first.digits.length <= 3;
}

/** An unformatted number that can only be a phone number when the context says so: NANP 10 or 1+10 digits, or 0 + 10 digits. */
function bareNumber(d: string): boolean {
  const nanp10 = (x: string): boolean => x.length === 10 && x[0] !== '0' && x[0] !== '1' && x[3] !== '0' && x[3] !== '1';
  return nanp10(d) || (d.length === 11 && d[0] === '1' && nanp10(d.slice(1))) || (d.length === 11 && d[0] === '0' && d[1] !== '0');
}

/**
 * A member value: none under an identifier name (`order_no`, `sku`); under a phone name (`phone`, `mobile`, `tel`) a
 * value that is only a number (`4155550132`, `+49 30 1234567`) counts whole; otherwise the text scan.
 */
function phoneMember(name: string, value: string, emit: Emit, scan: (text: string, emit: Emit) => void): void {
  const words = nameWords(name);
  if (words.some((w) => IDENTIFIER_WORDS.has(w))) return;
  let found = false;
  scan(value, (s, e, c) => {
    found = true;
    emit(s, e, c);
  });
  if (found || !words.some((w) => PHONE_WORDS.has(w))) return;
  const v = value.trim();
  let digits = 0;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    if (isDigit(c)) digits++;
    else if (!' +()-./'.includes(v.charAt(k)) || (c === 43 && k > 0)) return;
  }
  if (digits >= 7 && digits <= 15) emit(value.indexOf(v), value.indexOf(v) + v.length, 0.8);
}

/** International with the `00` exit code instead of `+`: `0049 30 12345678`, `00 44 20 7946 0018`. */
function viaZeroZero(gs: readonly Group[]): boolean {
  const first = gs[0];
  if (!first || first.paren || gs.length < 2 || !first.digits.startsWith('00')) return false;
  const cc = first.digits.slice(2);
  const rest = cc.length === 0 ? gs.slice(1) : [{ ...first, digits: cc }, ...gs.slice(1)];
  return cc[0] !== '0' && (cc.length > 0 || gs.length >= 3) && international(rest);
}

/** `pii.phone`: `+44 20 7946 0018`, `+14155550132`, `(415) 555-0132`, `415-555-0132`, `020 7946 0018`, `01 23 45 67 89`, `030 12345678`. */
export const phoneDetector = defineDetector('pii.phone', 'pii', (text: string, emit: Emit) => {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const n = at(text, i + 1);
    const trigger = isDigit(c) || ((c === 43 || c === 40) && isDigit(n));
    if (!trigger) {
      i++;
      continue;
    }
    if (!numberStart(text, i)) {
      i = Math.max(i + 1, runEnd(text, i, isDigit));
      continue;
    }
    const { groups, seps, plus } = readRun(text, i);
    const last = groups[groups.length - 1];
    if (!last) {
      i++;
      continue;
    }
    if (insideIban(text, i)) {
      i = Math.max(i + 1, last.end);
      continue;
    }
    if (groups.length === 1 && !plus && !last.paren && bareNumber(last.digits) && numberEnd(text, last.end) && contextHas(text, i, PHONE_WORDS, 24)) {
      if (!IDENTIFIER_WORDS.has(previousWord(text, i))) emit(i, last.end, 0.7);
      i = last.end;
      continue;
    }
    // Try the whole run, then shorter prefixes that end before a space: "call 415 555 0132 5 times".
    for (let k = Math.min(groups.length, 7); k >= 2 || (plus && k >= 1); k--) {
      if (k < groups.length && seps[k - 1] !== ' ') continue;
      const gs = groups.slice(0, k);
      const ss = seps.slice(0, k - 1);
      const end = gs[k - 1]?.end ?? i;
      if (!numberEnd(text, end)) continue;
      const kind = plus ? (international(gs) ? 0.9 : 0) : nanp(gs, ss) ? 0.85 : french(gs, ss) || british(gs, ss) || german(gs, ss) ? 0.75 : viaZeroZero(gs) ? 0.8 : 0;
      if (kind === 0) continue;
      if (IDENTIFIER_WORDS.has(previousWord(text, i))) break;
      emit(i, end, contextHas(text, i, PHONE_WORDS) ? Math.min(0.99, kind + 0.1) : kind);
      break;
    }
    i = Math.max(i + 1, last.end);
  }
}, phoneMember);
