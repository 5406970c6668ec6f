/**
 * Credentials in URLs and authorization headers: `https://user:password@host`, secret query parameters
 * (`access_token=`, `token=`, `api_key=`, `key=`, …) and `Authorization: Bearer …` / `Basic …`. Each scanner starts
 * at a trigger (`://`, `?`/`&`, the word `bearer`/`basic`) and reads a bounded token after it.
 */
import { defineDetector } from './define-detector.js';
import { isPlaceholder } from './secrets-context.js';
import { at, decodeBase64, hasAt, isAlnum, isB64, isDigit, isLower, isUpper, isWord, shannonEntropy } from './scan-chars.js';

/** RFC 3986 userinfo characters (unreserved, pct-encoded, sub-delims) other than ':'. */
const isUserinfo = (c: number): boolean => isAlnum(c) || "-._~%!$&'()*+,;=".includes(String.fromCharCode(c));

/** Password-like placeholders people leave in connection strings. */
const URL_PASSWORD_STAND_INS = new Set(['password', 'pass', 'passwd', 'pwd', 'secret', 'changeme', 'pw', 'test', 'admin', 'root', 'guest']);

function userinfoPassword(text: string, from: number): { start: number; end: number } | null {
  let p = from;
  while (p < text.length && p - from <= 256 && isUserinfo(text.charCodeAt(p))) p++;
  if (at(text, p) !== 58) return null; // user may be empty: redis://:password@host
  const start = p + 1;
  let e = start;
  while (e < text.length && e - start <= 256 && isUserinfo(text.charCodeAt(e))) e++;
  if (at(text, e) !== 64 || e === start) return null;
  const host = at(text, e + 1);
  if (!(isAlnum(host) || host === 91)) return null;
  const password = text.slice(start, e);
  if (URL_PASSWORD_STAND_INS.has(password.toLowerCase()) || isPlaceholder(password) || password.startsWith('$')) return null;
  return { start, end: e };
}

/** Query parameter names whose values are credentials. */
const SECRET_PARAMS = new Set([
  'access_token', 'token', 'api_key', 'apikey', 'api-key', 'key', 'client_secret', 'secret', 'password', 'passwd', 'pwd',
  'auth', 'auth_token', 'refresh_token', 'id_token', 'private_token', 'sig', 'signature', 'x-amz-signature', 'x-goog-signature',
  'x-amz-security-token', 'session_token', 'app_secret', 'private_key',
]);
const isParamName = (c: number): boolean => isWord(c) || c === 45 || c === 46;
const isParamValue = (c: number): boolean => isAlnum(c) || '-._~%+/='.includes(String.fromCharCode(c));

/** Minimum length of a query-parameter credential. */
export const PARAM_MIN = 16;

function paramValueSecret(name: string, value: string): boolean {
  if (value.length < PARAM_MIN || isPlaceholder(value)) return false;
  const digits = [...value].some((ch) => isDigit(ch.charCodeAt(0)));
  const mixed = [...value].some((ch) => isUpper(ch.charCodeAt(0))) && [...value].some((ch) => isLower(ch.charCodeAt(0)));
  // `key=` is a generic name (`?key=sort_by_date_desc`): require a random-looking value.
  if (name === 'key') return (digits || mixed) && shannonEntropy(value) >= 3.5;
  return (digits || mixed) && shannonEntropy(value) >= 3;
}

/** `secret.url_credential`: the password of `scheme://user:password@host` and credential query parameters. */
export const urlCredentialDetector = defineDetector('secret.url_credential', 'secret', (text, emit) => {
  let i = text.indexOf('://');
  while (i !== -1) {
    const found = userinfoPassword(text, i + 3);
    if (found) emit(found.start, found.end, 0.9);
    i = text.indexOf('://', found ? found.end : i + 3);
  }
  for (let j = 0; j < text.length; j++) {
    const c = text.charCodeAt(j);
    const trigger = c === 63 || c === 38 || c === 59;
    if (!trigger) continue;
    let p = j + 1;
    while (p < text.length && p - j <= 41 && isParamName(text.charCodeAt(p))) p++;
    if (at(text, p) !== 61 || p - j - 1 < 2 || p - j - 1 > 40) continue;
    const name = text.slice(j + 1, p).toLowerCase();
    if (!SECRET_PARAMS.has(name)) continue;
    const vs = p + 1;
    let ve = vs;
    while (ve < text.length && ve - vs <= 4096 && isParamValue(text.charCodeAt(ve))) ve++;
    if (paramValueSecret(name, text.slice(vs, ve))) emit(vs, ve, name === 'key' ? 0.7 : 0.85);
    j = ve - 1;
  }
});

const isB64Token = (c: number): boolean => isAlnum(c) || '-._~+/='.includes(String.fromCharCode(c));

/** `Basic` credentials: base64 of `user:password`. */
function basicCredential(token: string): boolean {
  if (token.length < 8 || token.length > 1024 || ![...token].every((ch) => isB64(ch.charCodeAt(0)) || ch === '=')) return false;
  const decoded = decodeBase64(token);
  if (decoded === null) return false;
  const colon = decoded.indexOf(':');
  return colon > 0 && colon < decoded.length - 1 && [...decoded].every((ch) => ch.charCodeAt(0) >= 32 && ch.charCodeAt(0) < 127);
}

/** `secret.bearer`: the token after `Bearer ` (≥ 16 characters, random-looking) and the credentials after `Basic `. */
export const bearerDetector = defineDetector('secret.bearer', 'secret', (text, emit) => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 32;
    if (c !== 98 || isWord(at(text, i - 1))) continue; // 'b' or 'B' at a word start
    const bearer = hasAt(text, i, 'bearer');
    const basic = !bearer && hasAt(text, i, 'basic');
    if (!bearer && !basic) continue;
    let p = i + (bearer ? 6 : 5);
    const spaceStart = p;
    while (p < text.length && p - spaceStart < 3 && text.charCodeAt(p) === 32) p++;
    if (p === spaceStart) continue;
    let e = p;
    while (e < text.length && e - p <= 4096 && isB64Token(text.charCodeAt(e))) e++;
    if (isB64Token(at(text, e))) continue;
    const token = text.slice(p, e);
    const ok = bearer
      ? token.length >= 16 && !isPlaceholder(token) && shannonEntropy(token) >= 3 && /* not a word */ [...token].some((ch) => isDigit(ch.charCodeAt(0)) || isUpper(ch.charCodeAt(0)))
      : basicCredential(token) && !isPlaceholder(token);
    if (ok) {
      emit(p, e, bearer ? 0.9 : 0.85);
      i = e - 1;
    }
  }
});
