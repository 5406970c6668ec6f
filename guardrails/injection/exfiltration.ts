/**
 * Data exfiltration through rendered markdown: an image (`![x](url)`, `<img src=url>`) is fetched by the client
 * as soon as it is shown, so a URL that carries data leaks it without a click; a link (`[x](url)`) leaks on click.
 *
 * A URL is flagged when a query value is a template (`{…}`, `{{…}}`, `${…}`, `<…>`, `[DATA]`-like placeholders),
 * when a query value (or, for images, a path segment) decodes from base64/hex to readable text, and for images also
 * when a query value is prose (≥ 5 words) or very long (≥ 100 characters) outside the usual signing parameters.
 * Plain documentation links, signed CDN/S3 image URLs, badges and gravatars do not match.
 *
 * Linear: each `](` looks back at most LOOKBACK characters for `[` and stops at the first `]`, each URL is read up
 * to MAX_URL characters, and each `<img` tag up to MAX_TAG.
 */
import type { Detector, Match } from '../types.js';
import { bytesToText, decodeBase64, decodeHex, isBase64Char, isHexChar } from './decode.js';

const TYPE = 'injection.exfiltration';
const LOOKBACK = 1000;
const MAX_URL = 8192;
const MAX_TAG = 2048;

/** Query parameters that legitimately carry long opaque values (URL signing, SAS tokens, image sizing). */
const SIGNING = new Set([
  'x-amz-signature', 'x-amz-credential', 'x-amz-security-token', 'x-amz-date', 'x-amz-algorithm', 'x-amz-expires',
  'x-amz-signedheaders', 'signature', 'sig', 'se', 'sp', 'sv', 'sr', 'st', 'spr', 'skoid', 'sktid', 'skt', 'ske',
  'sks', 'skv', 'x-goog-signature', 'x-goog-credential', 'x-goog-algorithm', 'x-goog-date', 'x-goog-expires',
  'x-goog-signedheaders', 'policy', 'key-pair-id', 'expires', 'googleaccessid',
]);
const PLACEHOLDERS = new Set([
  'data', 'secret', 'secrets', 'conversation', 'history', 'password', 'summary', 'info', 'context', 'memory', 'chat',
  'prompt', 'email', 'api_key', 'apikey', 'user_data', 'userdata', 'payload', 'message', 'messages', 'credentials',
]);

function isTemplated(v: string): boolean {
  if (v.includes('{') || v.includes('}') || (v.includes('<') && v.includes('>'))) return true;
  let core = v.trim();
  if ((core.startsWith('[') && core.endsWith(']')) || (core.startsWith('$') && core.length > 1)) core = core.replace('[', '').replace(']', '').replace('$', '');
  return core.length >= 4 && core === core.toUpperCase() && PLACEHOLDERS.has(core.toLowerCase());
}

function looksLikeJwt(v: string): boolean {
  const parts = v.split('.');
  return parts.length === 3 && v.startsWith('eyJ');
}

/** The value is a compact base64/hex token that decodes to readable text. */
function decodesToText(v: string): boolean {
  if (v.length < 16 || v.length > MAX_URL || looksLikeJwt(v)) return false;
  let end = v.length;
  while (end > 0 && v.charCodeAt(end - 1) === 0x3d) end--;
  let hex = true;
  for (let k = 0; k < end; k++) {
    const c = v.charCodeAt(k);
    if (!isBase64Char(c)) return false;
    if (!isHexChar(c)) hex = false;
  }
  if (hex) {
    const h = decodeHex(v, 0, end);
    if (h !== undefined && bytesToText(h, 6) !== undefined) return true;
  }
  const b = decodeBase64(v, 0, end);
  return b !== undefined && bytesToText(b, 6) !== undefined;
}

function wordCount(v: string): number {
  let n = 0;
  let inWord = false;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k) | 0x20;
    const letter = c >= 0x61 && c <= 0x7a;
    if (letter && !inWord) n++;
    inWord = letter;
  }
  return n;
}

function spaceCount(v: string): number {
  let n = 0;
  for (let k = 0; k < v.length; k++) if (v.charCodeAt(k) === 0x20) n++;
  return n;
}

/** Confidence that `raw` (the URL of an image or a link) carries data out, or 0. */
export function urlExfiltrationConfidence(raw: string, image: boolean): number {
  const scheme = raw.slice(0, 8).toLowerCase();
  if (!scheme.startsWith('https://') && !scheme.startsWith('http://')) return 0;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 0;
  }
  let best = 0;
  for (const [name, value] of url.searchParams) {
    if (isTemplated(value) || isTemplated(name)) best = Math.max(best, image ? 0.9 : 0.75);
    else if (SIGNING.has(name.toLowerCase())) continue;
    else if (decodesToText(value)) best = Math.max(best, image ? 0.85 : 0.65);
    else if (image && spaceCount(value) >= 4 && wordCount(value) >= 5) best = Math.max(best, 0.7);
    else if (image && value.length >= 100) best = Math.max(best, 0.55);
  }
  if (image) {
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    if (path.includes('{') || path.includes('}')) best = Math.max(best, 0.85);
    for (const seg of url.pathname.split('/')) {
      const dot = seg.lastIndexOf('.');
      const stem = dot > 0 ? seg.slice(0, dot) : seg;
      if (decodesToText(stem)) best = Math.max(best, 0.8);
    }
  }
  return best;
}

/** Reads a markdown link destination starting at `i` (just after `(`); returns [start, end) of the URL. */
function readUrl(text: string, i: number): [number, number] {
  let a = i;
  while (a < text.length && a - i < 16 && (text[a] === ' ' || text[a] === '<')) a++;
  let b = a;
  while (b < text.length && b - a < MAX_URL) {
    const c = text.charCodeAt(b);
    // `)` ends it; blanks, `<>` and quotes cannot be in it. Stopping at the next `](` keeps successive reads disjoint.
    if (c === 0x29 || c === 0x3e || c === 0x3c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x22) break;
    if (c === 0x5d && text.charCodeAt(b + 1) === 0x28) break;
    b++;
  }
  return [a, b];
}

function scanMarkdown(text: string, out: Match[]): void {
  for (let at = text.indexOf('](', 0); at >= 0; at = text.indexOf('](', at + 2)) {
    let open = -1;
    for (let k = at - 1; k >= 0 && at - k <= LOOKBACK; k--) {
      const ch = text[k];
      if (ch === '[') {
        open = k;
        break;
      }
      if (ch === ']') break;
    }
    if (open < 0) continue;
    const image = open > 0 && text[open - 1] === '!';
    const [a, b] = readUrl(text, at + 2);
    const conf = urlExfiltrationConfidence(text.slice(a, b), image);
    if (conf > 0) out.push({ type: TYPE, start: image ? open - 1 : open, end: Math.min(text.length, b + 1), confidence: conf });
  }
}

/** `hay.indexOf(needle, from)` limited to `[from, limit)`, so a missing needle costs at most `limit - from`. */
function indexWithin(hay: string, needle: string, from: number, limit: number): number {
  const k = hay.slice(from, limit).indexOf(needle);
  return k < 0 ? -1 : from + k;
}

function scanImgTags(text: string, out: Match[]): void {
  const lower = text.toLowerCase();
  // The tag runs to the next `>` (or the next `<`, or MAX_TAG): both are tracked with forward-only pointers, so the
  // regions read for successive tags do not overlap and the scan stays linear however many `<img` there are.
  let gt = -1;
  let lt = -1;
  for (let at = lower.indexOf('<img', 0); at >= 0; at = lower.indexOf('<img', at + 4)) {
    if (gt !== Infinity && gt < at) {
      gt = lower.indexOf('>', at);
      if (gt < 0) gt = Infinity;
    }
    if (lt !== Infinity && lt <= at) {
      lt = lower.indexOf('<', at + 1);
      if (lt < 0) lt = Infinity;
    }
    const tagEnd = Math.min(text.length, at + MAX_TAG, gt + 1, lt);
    const src = indexWithin(lower, 'src', at, tagEnd);
    if (src < 0) continue;
    let k = src + 3;
    while (k < tagEnd && (text[k] === ' ' || text[k] === '=')) k++;
    const quote = text[k];
    let start = k;
    let end: number;
    if (quote === '"' || quote === "'") {
      start = k + 1;
      end = indexWithin(text, quote, start, tagEnd);
      if (end < 0) continue;
    } else {
      end = start;
      while (end < tagEnd && text[end] !== ' ' && text[end] !== '>') end++;
    }
    const conf = urlExfiltrationConfidence(text.slice(start, end), true);
    if (conf > 0) out.push({ type: TYPE, start: at, end: tagEnd, confidence: conf });
  }
}

function scan(text: string): Match[] {
  const out: Match[] = [];
  scanMarkdown(text, out);
  scanImgTags(text, out);
  return out.sort((a, b) => a.start - b.start);
}

export const exfiltrationDetector: Detector = { id: TYPE, category: 'injection', scan };
