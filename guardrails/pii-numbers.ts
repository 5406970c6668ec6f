/**
 * Personal data with check digits or strict shapes: payment card numbers (Luhn + IIN), IBANs (length table + mod 97)
 * and US social security numbers. Hand-written scanners; each reads a bounded token at a number boundary.
 */
import { defineDetector, type Emit } from './define-detector.js';
import { IDENTIFIER_WORDS, at, contextHas, isAlnum, isAlpha, isDigit, isLower, isUpper, nameWords, numberEnd, numberStart, previousWord, runEnd } from './scan-chars.js';

/** Luhn (mod 10) check over a string of digits. */
export function luhn(digits: string): boolean {
  let sum = 0;
  for (let k = 0; k < digits.length; k++) {
    let d = digits.charCodeAt(digits.length - 1 - k) - 48;
    if (k % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** True if `d` starts with an issuer prefix (IIN) that issues card numbers of its length. */
export function knownIssuer(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return n === 16 || n === 19; // Visa (13-digit Visa numbers are long retired; EAN-13 barcodes start with 40–44)
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return n >= 16; // Discover
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14; // Diners Club
  if (p4 >= 3528 && p4 <= 3589) return n >= 16; // JCB
  if (p2 === 62) return n >= 16; // UnionPay
  if (p4 >= 2200 && p4 <= 2204) return n >= 16; // Mir
  if (p2 === 50 || (p2 >= 56 && p2 <= 58)) return n >= 16; // Maestro (shorter ones are rare; UK EAN-13 starts with 50)
  return false;
}

/** Groupings people write card numbers in: 4-4-4-4(-3), 4-4-4-1…4, Amex 4-6-5, Diners 4-6-4. */
function cardGrouping(lengths: readonly number[]): boolean {
  if (lengths.length === 1) return true;
  const shape = lengths.join(',');
  if (shape === '4,6,5' || shape === '4,6,4') return true;
  return lengths.every((l, k) => (k < lengths.length - 1 ? l === 4 : l >= 1 && l <= 4)) && lengths.length >= 4;
}

/** `pii.card`: 13–19 digits, unbroken or grouped with single spaces, dashes or dots, Luhn-valid, known issuer prefix. */
/** Member values under identifier names (`order_id`, `sku`, `invoice_no`) are not scanned: their numbers are ids. */
function identifierVeto(name: string, value: string, emit: Emit, scan: (text: string, emit: Emit) => void): void {
  if (!nameWords(name).some((w) => IDENTIFIER_WORDS.has(w))) scan(value, emit);
}

export const cardDetector = defineDetector('pii.card', 'pii', (text: string, emit: Emit) => {
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const runStop = runEnd(text, i, isDigit);
    if (!numberStart(text, i) || insideIban(text, i)) {
      i = runStop;
      continue;
    }
    // Read digit groups joined by one consistent separator (' ', '-' or '.'); at most 8 groups matter.
    const ends: number[] = [];
    const lengths: number[] = [];
    let pos = i;
    let sep = -1;
    for (;;) {
      const d0 = pos;
      pos = runEnd(text, pos, isDigit);
      ends.push(pos);
      lengths.push(pos - d0);
      const c = at(text, pos);
      if ((c === 32 || c === 45 || c === 46) && (sep === -1 || sep === c) && isDigit(at(text, pos + 1)) && lengths.length < 8) {
        sep = c;
        pos++;
      } else break;
    }
    for (let k = lengths.length; k >= 1; k--) {
      const ls = lengths.slice(0, k);
      const total = ls.reduce((a, b) => a + b, 0);
      const end = ends[k - 1] ?? i;
      if (total < 13 || total > 19 || !cardGrouping(ls) || !numberEnd(text, end)) continue;
      let digits = '';
      for (let p = i; p < end; p++) if (isDigit(text.charCodeAt(p))) digits += text[p];
      if (luhn(digits) && knownIssuer(digits)) {
        if (!IDENTIFIER_WORDS.has(previousWord(text, i))) emit(i, end, k > 1 ? 0.95 : 0.85);
        break;
      }
    }
    i = Math.max(i + 1, ends[ends.length - 1] ?? i);
  }
}, identifierVeto);

/** IBAN lengths by country (SWIFT IBAN registry). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.fromEntries(
  (
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 ES24 ' +
    'FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 ' +
    'LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 ' +
    'RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30'
  )
    .split(' ')
    .map((e) => [e.slice(0, 2), Number(e.slice(2))]),
);

/** ISO 13616 check: move the first four characters to the end, letters to 10–35, the number mod 97 must be 1. */
export function ibanChecksum(iban: string): boolean {
  const s = iban.slice(4) + iban.slice(0, 4);
  let r = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (isDigit(c)) r = (r * 10 + (c - 48)) % 97;
    else if (isUpper(c)) r = (r * 100 + (c - 55)) % 97;
    else if (isLower(c)) r = (r * 100 + (c - 87)) % 97;
    else return false;
  }
  return r === 1;
}

/** Reads an IBAN of `length` characters at `i`, compact or in groups of four separated by single spaces. Reads ≤ 1.25 × length + 1. */
function readIban(text: string, i: number, length: number): { end: number; compact: string } | null {
  // Compact: exactly `length` characters, then no further alphanumeric.
  let p = i;
  while (p < text.length && p - i < length && isAlnum(text.charCodeAt(p))) p++;
  if (p - i === length && !isAlnum(at(text, p))) return { end: p, compact: text.slice(i, p) };
  // Grouped: "DE89 3704 0044 0532 0130 00".
  let compact = '';
  p = i;
  while (compact.length < length) {
    const g0 = p;
    while (p < text.length && p - g0 < 4 && compact.length + (p - g0) < length && isAlnum(text.charCodeAt(p))) p++;
    const len = p - g0;
    if (len === 0) return null;
    compact += text.slice(g0, p);
    if (compact.length === length) break;
    if (len !== 4 || at(text, p) !== 32) return null;
    p++;
  }
  return !isAlnum(at(text, p)) ? { end: p, compact } : null;
}

/** The IBAN starting at `i` (`LLDD…` at a token start, registry length, mod 97), or null. */
function ibanAt(text: string, i: number): { end: number; compact: string } | null {
  if (!isAlpha(at(text, i)) || !isAlpha(at(text, i + 1)) || !isDigit(at(text, i + 2)) || !isDigit(at(text, i + 3)) || isAlnum(at(text, i - 1))) return null;
  const length = IBAN_LENGTHS[text.slice(i, i + 2).toUpperCase()];
  if (length === undefined) return null;
  const found = readIban(text, i, length);
  return found && ibanChecksum(found.compact) ? found : null;
}

/**
 * True if `i` is the start of a later group of a valid spaced IBAN (`NL91 ABNA 0417 1643 00`): walks back at most
 * eight `XXXX ` groups to its head. Lets the phone and card scanners skip digit groups that belong to an IBAN.
 */
export function insideIban(text: string, i: number): boolean {
  let p = i;
  for (let k = 0; k < 8; k++) {
    const g = p - 5;
    if (g < 0 || at(text, p - 1) !== 32) return false;
    for (let j = g; j < p - 1; j++) if (!isAlnum(text.charCodeAt(j))) return false;
    if (isAlnum(at(text, g - 1))) return false;
    const found = ibanAt(text, g);
    if (found) return found.end > i;
    p = g;
  }
  return false;
}

/** `pii.iban`: IBANs of the registry's countries, with or without spaces, any letter case, mod-97 checked. */
export const ibanDetector = defineDetector('pii.iban', 'pii', (text, emit) => {
  for (let i = 0; i + 4 <= text.length; i++) {
    if (!isAlpha(text.charCodeAt(i))) continue;
    const found = ibanAt(text, i);
    if (found) {
      emit(i, found.end, 0.95);
      i = found.end - 1;
    }
  }
});

/** Words that say a nine-digit number is a social security number. */
const SSN_WORDS = new Set(['ssn', 'ssns', 'social']);

/** SSA rules: area not 000, 666 or 900–999; group not 00; serial not 0000. */
export function validSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

/** Under an SSN name (`ssn`, `social_security_number`) a value that is only `AAAGGSSSS` / `AAA GG SSSS` counts; ids are vetoed. */
function ssnMember(name: string, value: string, emit: Emit, scan: (text: string, emit: Emit) => void): void {
  const words = nameWords(name);
  if (words.some((w) => IDENTIFIER_WORDS.has(w))) return;
  const v = value.trim();
  const d = v.length === 9 ? v : v.length === 11 && v[3] === v[6] && (v[3] === ' ' || v[3] === '-') ? v.slice(0, 3) + v.slice(4, 6) + v.slice(7) : '';
  const ssnName = words.includes('ssn') || (words.includes('social') && words.includes('security'));
  if (ssnName && d.length === 9 && [...d].every((ch) => isDigit(ch.charCodeAt(0))) && validSsn(d.slice(0, 3), d.slice(3, 5), d.slice(5))) {
    emit(value.indexOf(v), value.indexOf(v) + v.length, 0.95);
  } else scan(value, emit);
}

/** `pii.ssn`: `AAA-GG-SSSS`; with "SSN"/"social" just before it, also `AAA GG SSSS` and `AAAGGSSSS`. */
export const ssnDetector = defineDetector('pii.ssn', 'pii', (text: string, emit: Emit) => {
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const runStop = runEnd(text, i, isDigit);
    if (!numberStart(text, i)) {
      i = runStop;
      continue;
    }
    const len = runStop - i;
    let end = -1;
    let digits = '';
    let confidence = 0.85;
    if (len === 3) {
      const s1 = at(text, i + 3);
      const dashed = s1 === 45;
      const spaced = s1 === 32 && contextHas(text, i, SSN_WORDS);
      if ((dashed || spaced) && runEnd(text, i + 4, isDigit) === i + 6 && at(text, i + 6) === s1 && runEnd(text, i + 7, isDigit) === i + 11) {
        end = i + 11;
        digits = text.slice(i, i + 3) + text.slice(i + 4, i + 6) + text.slice(i + 7, i + 11);
        if (spaced) confidence = 0.8;
      }
    } else if (len === 9 && contextHas(text, i, SSN_WORDS)) {
      end = runStop;
      digits = text.slice(i, runStop);
      confidence = 0.75;
    }
    const ok = end !== -1 && numberEnd(text, end) && validSsn(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5));
    if (ok && !IDENTIFIER_WORDS.has(previousWord(text, i))) {
      emit(i, end, contextHas(text, i, SSN_WORDS) ? 0.95 : confidence);
      i = end;
    } else i = runStop;
  }
}, ssnMember);
