/**
 * Secrets with a recognisable shape: vendor tokens with fixed prefixes, private key blocks and JWTs. Each scanner
 * finds its prefix with `indexOf` (one pass per prefix) and reads a bounded body after it, so the cost is linear.
 */
import { defineDetector } from './define-detector.js';
import { at, decodeBase64, hasExact, isAlnum, isB64Url, isDigit, isUpper, isWord } from './scan-chars.js';

type Emit = (start: number, end: number, confidence: number) => void;

interface Prefixed {
  prefixes: readonly string[];
  /** Characters of the body after the prefix. */
  body: (c: number) => boolean;
  /** Characters that may not touch the token on either side. */
  edge: (c: number) => boolean;
  min: number;
  max: number;
  /** Extra check on the body. */
  accept?: (body: string) => boolean;
  confidence: number;
}

/** Emits `prefix + body` tokens: body length in [min, max], not glued to `edge` characters. Reads ≤ max + 1 per hit. */
function scanPrefixed(text: string, spec: Prefixed, emit: Emit): void {
  for (const prefix of spec.prefixes) {
    let i = text.indexOf(prefix);
    while (i !== -1) {
      const b = i + prefix.length;
      let e = b;
      while (e < text.length && e - b <= spec.max && spec.body(text.charCodeAt(e))) e++;
      const len = e - b;
      const ok = !spec.edge(at(text, i - 1)) && !spec.edge(at(text, e)) && len >= spec.min && len <= spec.max;
      if (ok && (spec.accept === undefined || spec.accept(text.slice(b, e)))) {
        emit(i, e, spec.confidence);
        i = text.indexOf(prefix, e);
      } else i = text.indexOf(prefix, i + 1);
    }
  }
}

const upperOrDigit = (c: number): boolean => isUpper(c) || isDigit(c);
const hasDigit = (s: string): boolean => [...s].some((ch) => isDigit(ch.charCodeAt(0)));

/** `secret.aws_access_key`: `AKIA` (long-term) or `ASIA` (temporary) + 16 upper-case letters and digits. */
export const awsAccessKeyDetector = defineDetector('secret.aws_access_key', 'secret', (text, emit) =>
  scanPrefixed(
    text,
    // AWS documentation examples end in EXAMPLE (`AKIAIOSFODNN7EXAMPLE`): not credentials.
    { prefixes: ['AKIA', 'ASIA'], body: upperOrDigit, edge: isAlnum, min: 16, max: 16, accept: (b) => !b.endsWith('EXAMPLE'), confidence: 0.95 },
    emit,
  ),
);

/** `secret.github`: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + ≥ 36 base62; `github_pat_` + ≥ 70 `[A-Za-z0-9_]`. */
export const githubTokenDetector = defineDetector('secret.github', 'secret', (text, emit) => {
  scanPrefixed(text, { prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], body: isAlnum, edge: isWord, min: 36, max: 251, confidence: 0.97 }, emit);
  scanPrefixed(text, { prefixes: ['github_pat_'], body: isWord, edge: isWord, min: 70, max: 244, confidence: 0.97 }, emit);
});

const slackBody = (c: number): boolean => isAlnum(c) || c === 45;

/** `secret.slack`: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-` + ≥ 20 `[A-Za-z0-9-]` with digits. */
export const slackTokenDetector = defineDetector('secret.slack', 'secret', (text, emit) =>
  scanPrefixed(
    text,
    { prefixes: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-'], body: slackBody, edge: slackBody, min: 20, max: 251, accept: hasDigit, confidence: 0.95 },
    emit,
  ),
);

/** Documentation stand-ins: `T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX`. */
function placeholderWebhook(path: string): boolean {
  const [t = '', b = '', secret = ''] = path.split('/');
  const same = (s: string): boolean => s.length > 0 && [...s].every((ch) => ch === s[0]);
  return same(t.slice(1)) || same(b.slice(1)) || same(secret) || secret.toUpperCase().includes('XXXX');
}

/** `secret.slack_webhook`: `https://hooks.slack.com/services/T…/B…/…`. */
export const slackWebhookDetector = defineDetector('secret.slack_webhook', 'secret', (text, emit) => {
  const marker = 'hooks.slack.com/services/';
  let i = text.indexOf(marker);
  while (i !== -1) {
    let p = i + marker.length;
    const parts: number[] = [];
    for (let k = 0; k < 3; k++) {
      const s = p;
      while (p < text.length && p - s <= 64 && (k === 2 ? isAlnum : upperOrDigit)(text.charCodeAt(p))) p++;
      parts.push(p - s);
      if (k < 2) {
        if (at(text, p) !== 47) break;
        p++;
      }
    }
    const [t = 0, b = 0, secret = 0] = parts;
    const first = text.charCodeAt(i + marker.length);
    const ok = parts.length === 3 && first === 84 && t >= 7 && b >= 7 && secret >= 16 && secret <= 64 && !isAlnum(at(text, p)) && !placeholderWebhook(text.slice(i + marker.length, p));
    if (ok) {
      const start = hasExact(text, i - 8, 'https://') ? i - 8 : i;
      emit(start, p, 0.97);
      i = text.indexOf(marker, p);
    } else i = text.indexOf(marker, i + 1);
  }
});

/** `secret.stripe`: live secret and restricted keys `sk_live_`, `rk_live_` + ≥ 24 base62. */
export const stripeDetector = defineDetector('secret.stripe', 'secret', (text, emit) =>
  scanPrefixed(text, { prefixes: ['sk_live_', 'rk_live_'], body: isAlnum, edge: isWord, min: 24, max: 247, confidence: 0.97 }, emit),
);

/**
 * `secret.stripe_test`: test-mode keys `sk_test_`, `rk_test_`. They are findings: a test key reads and writes the
 * account's test data and names the account, so it must not leak either; their own type lets a tenant drop them.
 */
export const stripeTestDetector = defineDetector('secret.stripe_test', 'secret', (text, emit) =>
  scanPrefixed(text, { prefixes: ['sk_test_', 'rk_test_'], body: isAlnum, edge: isWord, min: 24, max: 247, confidence: 0.7 }, emit),
);

/** `secret.google_api_key`: `AIza` + exactly 35 `[A-Za-z0-9_-]`. */
export const googleApiKeyDetector = defineDetector('secret.google_api_key', 'secret', (text, emit) =>
  scanPrefixed(text, { prefixes: ['AIza'], body: isB64Url, edge: isB64Url, min: 35, max: 35, confidence: 0.95 }, emit),
);

/** The end of `-----BEGIN [WORDS ]PRIVATE KEY[ BLOCK]-----` starting at `i`, or -1. Reads ≤ 80 characters. */
function privateKeyHeaderEnd(text: string, i: number): number {
  let p = i + '-----BEGIN '.length;
  const stop = Math.min(text.length, p + 48);
  while (p < stop && (isUpper(text.charCodeAt(p)) || isDigit(text.charCodeAt(p)) || text.charCodeAt(p) === 32)) p++;
  for (const tail of ['PRIVATE KEY-----', 'PRIVATE KEY BLOCK-----']) {
    const s = p - (tail.length - 5);
    if (hasExact(text, p, '-----') && s >= i + 11 && hasExact(text, s, tail)) return p + 5;
  }
  return -1;
}

/** `secret.private_key`: a PEM/OpenSSH/PGP private key block, from BEGIN to the matching END line (or to the end of the text). */
export const privateKeyDetector = defineDetector('secret.private_key', 'secret', (text, emit) => {
  let i = text.indexOf('-----BEGIN ');
  while (i !== -1) {
    const header = privateKeyHeaderEnd(text, i);
    if (header === -1) {
      i = text.indexOf('-----BEGIN ', i + 1);
      continue;
    }
    const endLine = text.indexOf('-----END ', header);
    let end = text.length;
    if (endLine !== -1) {
      // The END line's closing dashes, looked for in the next 64 characters only.
      const close = text.slice(endLine + 9, endLine + 73).indexOf('-----');
      end = close !== -1 ? endLine + 9 + close + 5 : endLine + 9;
    }
    emit(i, end, 0.99);
    i = end >= text.length ? -1 : text.indexOf('-----BEGIN ', end);
  }
});

/** True if a base64url segment decodes to a JSON object with a string `alg` (a JOSE header). */
function joseHeader(segment: string): boolean {
  if (segment.length > 2048) return false;
  const json = decodeBase64(segment);
  if (json === null) return false;
  try {
    const header: unknown = JSON.parse(json);
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/** `secret.jwt`: `header.payload.signature`, base64url segments, the header a JSON object with `alg` (starts `eyJ`). */
export const jwtDetector = defineDetector('secret.jwt', 'secret', (text, emit) => {
  let i = text.indexOf('eyJ');
  while (i !== -1) {
    const before = at(text, i - 1);
    if (isB64Url(before) || before === 46) {
      i = text.indexOf('eyJ', i + 3);
      continue;
    }
    let p = i;
    const ends: number[] = [];
    for (let k = 0; k < 3; k++) {
      const s = p;
      while (p < text.length && isB64Url(text.charCodeAt(p))) p++;
      ends.push(p - s);
      if (k < 2 && at(text, p) === 46) p++;
      else break;
    }
    const [h = 0, payload = 0] = ends;
    const ok = ends.length === 3 && payload >= 2 && at(text, p) !== 46 && joseHeader(text.slice(i, i + h));
    if (ok) emit(i, p, 0.95);
    i = text.indexOf('eyJ', Math.max(p, i + 3));
  }
});
