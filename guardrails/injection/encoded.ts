/**
 * Encoded payloads: base64 / base64url runs (24 characters to 64 KiB), hex runs (24 hex digits to 64 KiB) and
 * percent-encoded runs (≥ 3 `%XX` escapes in one run of non-blank characters, ≤ 64 KiB) that decode to UTF-8 text
 * on which the override, role, extraction or delimiter detectors match. The span reported is the encoded run;
 * the decoded text is never put in the finding.
 *
 * Base64 data URIs of binary media (`data:image/png;base64,…`) are skipped; random base64 decodes to bytes that are
 * not text (or text with no instruction in it) and does not match. Linear: every run is decoded at most twice (once
 * whole, once split at `/` when the whole run is not text) and the decoded text is scanned once.
 */
import type { Detector, Match } from '../types.js';
import { delimiterDetector } from './delimiter.js';
import { bytesToText, countPercentEscapes, decodeBase64, decodeHex, decodePercent, isBase64Char, isHexChar } from './decode.js';
import { allPhraseMatches } from './phrasing.js';

const TYPE = 'injection.encoded';
export const MIN_RUN = 24;
export const MAX_RUN = 64 * 1024;

/** Confidence of the decoded text's best match, raised a little (hiding an instruction in base64 is itself odd). */
function decodedConfidence(text: string): number {
  let best = 0;
  for (const m of allPhraseMatches(text)) best = Math.max(best, m.confidence);
  for (const m of delimiterDetector.scan(text)) best = Math.max(best, m.confidence);
  return best === 0 ? 0 : Math.round(Math.min(0.9, best + 0.1) * 100) / 100;
}

/** The run starts right after `;base64,` of a data URI whose media type is not text. */
function isBinaryDataUri(text: string, start: number): boolean {
  if (start < 8 || text.slice(start - 8, start).toLowerCase() !== ';base64,') return false;
  const from = Math.max(0, start - 8 - 100);
  const head = text.slice(from, start - 8).toLowerCase();
  const at = head.lastIndexOf('data:');
  if (at < 0) return false;
  const mime = head.slice(at + 5);
  return !(mime.startsWith('text/') || mime.startsWith('application/json') || mime.startsWith('application/xml'));
}

function tryRun(text: string, start: number, end: number): number {
  const allHex = (() => {
    for (let k = start; k < end; k++) if (!isHexChar(text.charCodeAt(k))) return false;
    return true;
  })();
  if (allHex && (end - start) % 2 === 0) {
    const bytes = decodeHex(text, start, end);
    const decoded = bytes === undefined ? undefined : bytesToText(bytes);
    if (decoded !== undefined) return decodedConfidence(decoded);
  }
  const bytes = decodeBase64(text, start, end);
  const decoded = bytes === undefined ? undefined : bytesToText(bytes);
  return decoded === undefined ? -1 : decodedConfidence(decoded);
}

function scanBase64(text: string, out: Match[]): void {
  for (let i = 0; i < text.length; ) {
    if (!isBase64Char(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && isBase64Char(text.charCodeAt(j))) j++;
    let padEnd = j;
    while (padEnd < text.length && padEnd - j < 2 && text.charCodeAt(padEnd) === 0x3d) padEnd++;
    const len = j - i;
    if (len >= MIN_RUN && len <= MAX_RUN && !isBinaryDataUri(text, i)) {
      const conf = tryRun(text, i, j);
      if (conf > 0) out.push({ type: TYPE, start: i, end: padEnd, confidence: conf });
      else if (conf < 0) {
        // Not text as a whole: a path or URL may hold the payload between slashes.
        for (let a = i; a < j; ) {
          let b = a;
          while (b < j && text.charCodeAt(b) !== 0x2f) b++;
          if (b - a >= MIN_RUN && (a > i || b < j)) {
            const c = tryRun(text, a, b);
            if (c > 0) out.push({ type: TYPE, start: a, end: b, confidence: c });
          }
          a = b + 1;
        }
      }
    }
    i = padEnd;
  }
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b || c === 0xa0;
}

function scanPercent(text: string, out: Match[]): void {
  for (let i = 0; i < text.length; ) {
    if (isBlank(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !isBlank(text.charCodeAt(j))) j++;
    if (j - i <= MAX_RUN && countPercentEscapes(text, i, j) >= 3) {
      const decoded = bytesToText(decodePercent(text, i, j));
      const conf = decoded === undefined ? 0 : decodedConfidence(decoded);
      if (conf > 0) out.push({ type: TYPE, start: i, end: j, confidence: conf });
    }
    i = j;
  }
}

function scan(text: string): Match[] {
  const out: Match[] = [];
  scanBase64(text, out);
  scanPercent(text, out);
  return out.sort((a, b) => a.start - b.start);
}

export const encodedDetector: Detector = { id: TYPE, category: 'injection', scan };
