/**
 * Secrets known by their context: a value assigned to a secret-looking name (`password=…`, `"api_key": "…"`,
 * `SECRET=…`, `token: …`) that looks random, and AWS secret access keys next to their name. In text the scanner
 * looks at each `=` / `:` once and reads a bounded name (≤ 64 characters) before it and a bounded value (≤ 1024)
 * after it; in a JSON object the walker hands over member name and value directly (`scanMember`).
 */
import { defineDetector } from './define-detector.js';
import { all, at, isAlnum, isB64, isDigit, isHex, isLower, isSpace, isUpper, isUuid, nameWords, shannonEntropy } from './scan-chars.js';

export type SecretTier = 'password' | 'secret';

/** Name words that make a name about a secret rather than the secret itself (`token_type`, `max_tokens`, `password_hash`). */
const NOT_SECRET_WORDS = new Set(
  ('hash hashed digest checksum fingerprint salt id ids type name names count max min length len size expires expiry expiration ' +
    'exp ttl url uri endpoint path file policy hint field header prefix suffix usage limit used rotation version format enabled ' +
    'required reset ref arn label description placeholder env var location manager provider mode kind strength regex pattern ' +
    'timeout at date time updated created last is has use show page next continuation cursor sync idempotency request trace ' +
    'correlation nonce state etag csrf xsrf public budget window lifetime duration schema input output encoding algorithm alg ' +
    'progress resumption resume pagination paging cache lock lease')
    .split(' '),
);
const PASSWORD_HEADS = new Set(['password', 'passwd', 'pwd', 'passphrase', 'pass', 'passcode']);
const SECRET_HEADS = new Set(['secret', 'token', 'apikey', 'credential', 'credentials', 'pat', 'secretkey', 'privatekey', 'accesskey', 'apitoken']);
/** Words before `key` that make it a secret key (`api_key`, `secret-key`, `privateKey`); `public_key`, `primary_key` are not. */
const KEY_QUALIFIERS = new Set(['api', 'access', 'secret', 'private', 'signing', 'encryption', 'master', 'auth', 'client', 'app', 'service', 'webhook', 'shared', 'hmac', 'session', 'license', 'admin', 'root', 'sas', 'storage', 'subscription', 'consumer', 'bot', 'x']);
/** Compound lower-case names: `dbpassword`, `clientsecret`, `authtoken`. */
const COMPOUND_TAILS = ['password', 'passwd', 'secret', 'token', 'apikey'];

/** Whether `name` names a password, another secret, or neither. */
export function secretNameTier(name: string): SecretTier | null {
  if (name.length < 2 || name.length > 64) return null;
  const words = nameWords(name);
  const head = words[words.length - 1];
  if (head === undefined || words.some((w) => NOT_SECRET_WORDS.has(w))) return null;
  if (PASSWORD_HEADS.has(head)) return 'password';
  if (SECRET_HEADS.has(head)) return 'secret';
  if (head === 'key' && KEY_QUALIFIERS.has(words[words.length - 2] ?? '')) return 'secret';
  if (words.length === 1 && head.length > 6) {
    for (const tail of COMPOUND_TAILS) if (head.endsWith(tail)) return tail.startsWith('pass') ? 'password' : 'secret';
  }
  return null;
}

/** `aws_secret_access_key`, `AWS_SECRET_ACCESS_KEY`, `SecretAccessKey`, `aws_secret_key`. */
export function awsSecretName(name: string): boolean {
  const joined = nameWords(name).join('');
  return joined.endsWith('secretaccesskey') || joined === 'awssecretkey' || joined === 'awssecret';
}

/** Values that are templates, references or stand-ins, not secrets. */
const PLACEHOLDERS = ['xxxx', '****', '....', '<', '>', '${', '{{', '%(', 'example', 'your', 'changeme', 'placeholder', 'redacted', 'dummy', 'process.env', 'environ', 'secret_here', 'token_here', 'insert', 'replace', 'undefined', 'null'];

/** Whole values that stand in for a secret (`password: password`, `token=token=`). */
const STAND_INS = new Set(['password', 'passwd', 'secret', 'token', 'changeme', 'admin', 'test', 'example', 'pass', 'none', 'empty', 'required', 'string', 'hidden', 'masked', 'sample']);

export function isPlaceholder(value: string): boolean {
  const v = value.toLowerCase();
  if (all(v, (c) => c === v.charCodeAt(0))) return true;
  let end = v.length;
  while (end > 0 && v.charCodeAt(end - 1) === 61) end--;
  return STAND_INS.has(v.slice(0, end)) || PLACEHOLDERS.some((p) => v.includes(p));
}

/** Entropy floor (bits per character) for values of names that are not passwords. */
export const SECRET_ENTROPY = 3.0;
/** Length floors: passwords from 8 characters, other secrets from 16. */
export const PASSWORD_MIN = 8;
export const SECRET_MIN = 16;

/**
 * True if `value`, assigned to a name of `tier`, looks like a real secret: no spaces, not a placeholder, not a UUID or
 * hex string (hashes, ids), not a bare identifier (a variable), with mixed character classes and, for non-passwords,
 * Shannon entropy ≥ SECRET_ENTROPY.
 */
export function looksSecret(value: string, tier: SecretTier, quoted: boolean): boolean {
  const len = value.length;
  if (len < (tier === 'password' ? PASSWORD_MIN : SECRET_MIN) || len > 1024) return false;
  if (!all(value, (c) => !isSpace(c)) || isUuid(value) || all(value, isHex) || isPlaceholder(value)) return false;
  let lower = false;
  let upper = false;
  let digit = false;
  let symbol = false;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (isLower(c)) lower = true;
    else if (isUpper(c)) upper = true;
    else if (isDigit(c)) digit = true;
    else symbol = true;
  }
  // Unquoted letters-and-dots values are references (`config.apiKey`, `self.password`), not literals.
  if (!quoted && !digit && all(value, (c) => isLower(c) || isUpper(c) || c === 95 || c === 46 || c === 36)) return false;
  const classes = Number(lower) + Number(upper) + Number(digit) + Number(symbol);
  if (tier === 'password') return classes >= 2 && shannonEntropy(value) >= 2.5;
  const mixed = (digit && (lower || upper)) || (lower && upper && len >= 20);
  return mixed && shannonEntropy(value) >= SECRET_ENTROPY;
}

const isNameChar = (c: number): boolean => isAlnum(c) || c === 95 || c === 45 || c === 46;
const isQuote = (c: number): boolean => c === 34 || c === 39 || c === 96;
/** Characters of an unquoted value; `=` only as trailing base64 padding. */
const isBareValueChar = (c: number): boolean => isAlnum(c) || '_-+/.~!@#$%^*?|'.includes(String.fromCharCode(c));

export type OnPair = (name: string, valueStart: number, valueEnd: number, quoted: boolean) => void;

/**
 * Calls `onPair` for each `name <op> value` in `text` whose name passes `wantName`; operators `=`, `:`, `:=`, `=>`.
 * Names `[A-Za-z0-9_.-]{1,64}`, optionally quoted; values quoted (up to 1024 characters, one line) or bare.
 * Each operator costs at most ~1100 character reads, and a quoted value's inside is skipped once read.
 */
export function scanAssignments(text: string, wantName: (name: string) => boolean, onPair: OnPair): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 61 && c !== 58) continue;
    const next = at(text, i + 1);
    const prev = at(text, i - 1);
    let opEnd = i + 1;
    if (c === 58) {
      if (next === 58 || prev === 58 || (next === 47 && at(text, i + 2) === 47)) continue;
      if (next === 61) opEnd++;
    } else {
      if (next === 61) {
        i++;
        continue;
      }
      if (prev === 61 || prev === 33 || prev === 60 || prev === 62) continue;
      if (next === 62) opEnd++;
    }
    // The name, right to left.
    let p = i - 1;
    while (p >= 0 && i - p <= 3 && (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 9)) p--;
    if (at(text, p) === 93 && isQuote(at(text, p - 1))) p--; // headers["x-api-key"] = …
    const quote = isQuote(at(text, p)) ? text.charCodeAt(p--) : -1;
    const nameEnd = p + 1;
    while (p >= 0 && nameEnd - p <= 65 && isNameChar(text.charCodeAt(p))) p--;
    const nameStart = p + 1;
    if (nameEnd - nameStart < 2 || nameEnd - nameStart > 64) continue;
    if (quote !== -1 ? at(text, p) !== quote : isNameChar(at(text, p))) continue;
    if (at(text, nameStart - 1) === 47 && at(text, nameStart - 2) === 47) continue; // URL userinfo: scheme://user:pass@
    let name = text.slice(nameStart, nameEnd);
    while (name.startsWith('-')) name = name.slice(1);
    if (!wantName(name)) continue;
    // The value, left to right.
    let q = opEnd;
    while (q < text.length && q - opEnd < 3 && (text.charCodeAt(q) === 32 || text.charCodeAt(q) === 9)) q++;
    const open = at(text, q);
    if (isQuote(open)) {
      let k = q + 1;
      while (k < text.length && k - q <= 1025 && text.charCodeAt(k) !== open && text.charCodeAt(k) !== 10) k++;
      if (at(text, k) !== open) continue;
      onPair(name, q + 1, k, true);
      i = k;
    } else {
      let k = q;
      while (k < text.length && k - q <= 1025 && isBareValueChar(text.charCodeAt(k))) k++;
      let e = k;
      while (at(text, e) === 61 && e - k < 3) e++;
      if (isNameChar(at(text, e)) || e === q) continue;
      onPair(name, q, e, false);
    }
  }
}

/** `secret.generic`: a random-looking value assigned to a secret-looking name (see `looksSecret`). */
export const genericSecretDetector = defineDetector(
  'secret.generic',
  'secret',
  (text, emit) =>
    scanAssignments(
      text,
      (name) => secretNameTier(name) !== null,
      (name, s, e, quoted) => {
        const tier = secretNameTier(name);
        if (tier && looksSecret(text.slice(s, e), tier, quoted)) emit(s, e, tier === 'password' ? 0.8 : 0.75);
      },
    ),
  (name, value, emit, scan) => {
    const tier = secretNameTier(name);
    if (tier && looksSecret(value, tier, true)) emit(0, value.length, tier === 'password' ? 0.8 : 0.75);
    else scan(value, emit);
  },
);

const isAwsSecret = (v: string): boolean => v.length === 40 && all(v, isB64) && !all(v, isHex) && [...v].some((ch) => isDigit(ch.charCodeAt(0)));

/** `secret.aws_secret_key`: 40 base64 characters assigned to an `aws_secret_access_key`-like name. */
export const awsSecretKeyDetector = defineDetector(
  'secret.aws_secret_key',
  'secret',
  (text, emit) =>
    scanAssignments(text, awsSecretName, (_name, s, e) => {
      if (isAwsSecret(text.slice(s, e))) emit(s, e, 0.95);
    }),
  (name, value, emit, scan) => {
    if (awsSecretName(name) && isAwsSecret(value)) emit(0, value.length, 0.95);
    else scan(value, emit);
  },
);
