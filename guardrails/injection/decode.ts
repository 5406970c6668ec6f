/**
 * Decoders for the encoded-payload and exfiltration detectors: base64 / base64url, hex and percent-encoding to
 * bytes, and bytes to text only when they are valid UTF-8 that reads as text. Each is one pass over its input.
 */

const B64 = new Int8Array(128).fill(-1);
for (let k = 0; k < 26; k++) {
  B64[0x41 + k] = k;
  B64[0x61 + k] = 26 + k;
}
for (let k = 0; k < 10; k++) B64[0x30 + k] = 52 + k;
B64[0x2b] = 62; // +
B64[0x2d] = 62; // - (base64url)
B64[0x2f] = 63; // /
B64[0x5f] = 63; // _ (base64url)

/** A character of the union of the base64 and base64url alphabets. */
export function isBase64Char(c: number): boolean {
  return c < 128 && (B64[c] ?? -1) >= 0;
}

export function isHexChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

/** Decodes `text[start, end)` (no padding inside) as base64 or base64url; undefined when it cannot be base64. */
export function decodeBase64(text: string, start: number, end: number): Uint8Array | undefined {
  const len = end - start;
  if (len % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (B64[c] ?? -1) : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** Decodes an even-length run of hex digits. */
export function decodeHex(text: string, start: number, end: number): Uint8Array | undefined {
  if ((end - start) % 2 !== 0) return undefined;
  const out = new Uint8Array((end - start) / 2);
  for (let i = start, o = 0; i < end; i += 2, o++) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    if (!isHexChar(a) || !isHexChar(b)) return undefined;
    out[o] = (hexValue(a) << 4) | hexValue(b);
  }
  return out;
}

/** Counts `%XX` escapes in `text[start, end)`. */
export function countPercentEscapes(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i + 2 < end; i++) {
    if (text.charCodeAt(i) === 0x25 && isHexChar(text.charCodeAt(i + 1)) && isHexChar(text.charCodeAt(i + 2))) {
      n++;
      i += 2;
    }
  }
  return n;
}

/** Percent-decodes `text[start, end)` to bytes (`+` is a space, as in form encoding); non-ASCII is UTF-8 encoded. */
export function decodePercent(text: string, start: number, end: number): Uint8Array {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < end && isHexChar(text.charCodeAt(i + 1)) && isHexChar(text.charCodeAt(i + 2))) {
      bytes.push((hexValue(text.charCodeAt(i + 1)) << 4) | hexValue(text.charCodeAt(i + 2)));
      i += 2;
    } else if (c === 0x2b) bytes.push(0x20);
    else if (c < 0x80) bytes.push(c);
    else {
      const cp = text.codePointAt(i) ?? c;
      for (const b of enc.encode(String.fromCodePoint(cp))) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Uint8Array.from(bytes);
}

const utf8 = new TextDecoder('utf-8');

/**
 * Whether the bytes are well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF).
 * Checked by hand: most candidate runs (ids, hashes) are not text, and a fatal decoder throwing for each costs
 * about 40 times a successful decode.
 */
export function isUtf8(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let more: number;
    let cp: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) [more, cp, min] = [1, lead & 0x1f, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [more, cp, min] = [2, lead & 0x0f, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [more, cp, min] = [3, lead & 0x07, 0x10000];
    else return false;
    for (let k = 1; k <= more; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (next & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += more + 1;
  }
  return true;
}

/**
 * The bytes as text when they are valid UTF-8, at least `minLetters` letters, and at least 90% printable
 * (control characters other than tab and line breaks count against it); otherwise undefined.
 */
export function bytesToText(bytes: Uint8Array, minLetters = 8): string | undefined {
  if (bytes.length === 0) return undefined;
  if (!isUtf8(bytes)) return undefined;
  const text = utf8.decode(bytes);
  let printable = 0;
  let letters = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0) && c !== 0xfffd)) printable++;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c >= 0xc0) letters++;
  }
  if (letters < minLetters || printable < text.length * 0.9) return undefined;
  return text;
}
