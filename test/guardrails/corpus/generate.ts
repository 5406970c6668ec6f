/**
 * Generators for corpus values. Secret-looking values are made here at test time (random, in the right format) and
 * never committed in live formats. Seeded, so a run is reproducible.
 */

export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
export const HEX = '0123456789abcdef';
export const BASE62 = UPPER + LOWER + DIGITS;
export const B64 = BASE62 + '+/';
export const B64URL = BASE62 + '-_';

/** mulberry32: a small seeded PRNG. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  digits(n: number): string {
    return this.chars(DIGITS, n);
  }
}

/** A random base62 string that has at least one digit, one upper and one lower-case letter. */
export function token(rng: Rng, n: number, alphabet = BASE62): string {
  for (;;) {
    const s = rng.chars(alphabet, n);
    if (/[0-9]/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s)) return s;
  }
}

const FIRST = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar', 'peggy', 'trent', 'victor', 'walter', 'maria', 'jose', 'wei', 'priya'];
const LAST = ['smith', 'jones', 'garcia', 'mueller', 'dubois', 'rossi', 'tanaka', 'kim', 'nguyen', 'patel', 'olsen', 'novak'];
const DOMAINS = ['example.com', 'mail.example.org', 'acme-corp.io', 'company.co.uk', 'uni-heidelberg.de', 'startup.dev', 'gmail.com', 'outlook.fr', 'corp.example.net'];

export function email(rng: Rng): string {
  const f = rng.pick(FIRST);
  const l = rng.pick(LAST);
  const local = rng.pick([`${f}.${l}`, `${f}${rng.int(1, 99)}`, `${f[0]}${l}`, `${f}+${rng.pick(['news', 'work', 'test'])}`, `${f}_${l}`, `${f.toUpperCase()}.${l}`]);
  return `${local}@${rng.pick(DOMAINS)}`;
}

/** A NANP number: area and exchange start 2–9; 555-01xx is the fictional range. */
export function usNumber(rng: Rng): [string, string, string] {
  return [`${rng.int(2, 9)}${rng.digits(2)}`, `${rng.int(2, 9)}${rng.digits(2)}`, rng.digits(4)];
}

export function phone(rng: Rng, kind: 'us' | 'e164' | 'uk' | 'de' | 'fr'): string {
  const [a, b, c] = usNumber(rng);
  switch (kind) {
    case 'us':
      return rng.pick([`(${a}) ${b}-${c}`, `${a}-${b}-${c}`, `${a}.${b}.${c}`, `${a} ${b} ${c}`, `1-${a}-${b}-${c}`, `(${a})${b}-${c}`]);
    case 'e164':
      return rng.pick([`+1${a}${b}${c}`, `+1 ${a} ${b} ${c}`, `+1-${a}-${b}-${c}`, `+44 20 ${rng.digits(4)} ${rng.digits(4)}`, `+49 30 ${rng.digits(8)}`, `+33 ${rng.int(1, 9)} ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)}`, `+447700${rng.digits(6)}`, `+61 4${rng.digits(2)} ${rng.digits(3)} ${rng.digits(3)}`]);
    case 'uk':
      return rng.pick([`020 ${rng.int(3, 8)}${rng.digits(3)} ${rng.digits(4)}`, `07${rng.int(100, 999)} ${rng.digits(6)}`, `0161 ${rng.int(2, 9)}${rng.digits(2)} ${rng.digits(4)}`, `01632 ${rng.digits(6)}`]);
    case 'de':
      return rng.pick([`030 ${rng.int(2, 9)}${rng.digits(7)}`, `089 ${rng.int(2, 9)}${rng.digits(6)}`, `0151 ${rng.digits(8)}`, `040/${rng.int(2, 9)}${rng.digits(6)}`, `0221 ${rng.digits(3)} ${rng.digits(4)}`, `0170-${rng.digits(7)}`]);
    case 'fr':
      return [`0${rng.int(1, 9)}`, rng.digits(2), rng.digits(2), rng.digits(2), rng.digits(2)].join(rng.pick([' ', ' ', '.']));
  }
}

export function luhnComplete(partial: string): string {
  let sum = 0;
  for (let k = 0; k < partial.length; k++) {
    let d = Number(partial[partial.length - 1 - k]);
    if (k % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return partial + String((10 - (sum % 10)) % 10);
}

export function card(rng: Rng): { digits: string; formatted: string } {
  const [prefix, length] = rng.pick<[string, number]>([
    ['4', 16], ['4', 16], ['5' + rng.int(1, 5), 16], ['2' + rng.int(221, 720), 16], ['3' + rng.pick(['4', '7']), 15], ['6011', 16], ['65', 16], ['35' + rng.int(28, 89), 16], ['62', 16],
  ]);
  const digits = luhnComplete(prefix + rng.digits(length - prefix.length - 1));
  const groups = length === 15 ? [digits.slice(0, 4), digits.slice(4, 10), digits.slice(10)] : digits.match(/.{4}/g) ?? [digits];
  const formatted = rng.pick([digits, groups.join(' '), groups.join('-'), groups.join(' ')]);
  return { digits, formatted };
}

function mod97(s: string): number {
  let r = 0;
  for (const ch of s) r = Number(String(r) + (/[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch)) % 97;
  return r;
}

const IBAN_FORMATS: Record<string, () => (rng: Rng) => string> = {
  DE: () => (rng) => rng.digits(18),
  GB: () => (rng) => rng.chars(UPPER, 4) + rng.digits(14),
  FR: () => (rng) => rng.digits(10) + rng.chars(UPPER + DIGITS, 11) + rng.digits(2),
  NL: () => (rng) => rng.chars(UPPER, 4) + rng.digits(10),
  ES: () => (rng) => rng.digits(20),
  IT: () => (rng) => rng.chars(UPPER, 1) + rng.digits(10) + rng.chars(UPPER + DIGITS, 12),
  CH: () => (rng) => rng.digits(17),
  BE: () => (rng) => rng.digits(12),
  AT: () => (rng) => rng.digits(16),
  PL: () => (rng) => rng.digits(24),
};

export function iban(rng: Rng): { compact: string; spaced: string } {
  const country = rng.pick(Object.keys(IBAN_FORMATS));
  const bban = (IBAN_FORMATS[country] as () => (r: Rng) => string)()(rng);
  const check = String(98 - mod97(bban + country + '00')).padStart(2, '0');
  const compact = country + check + bban;
  return { compact, spaced: compact.match(/.{1,4}/g)?.join(' ') ?? compact };
}

export function ssn(rng: Rng): string {
  let area = rng.int(1, 899);
  if (area === 666) area = 667;
  return `${String(area).padStart(3, '0')}-${String(rng.int(1, 99)).padStart(2, '0')}-${String(rng.int(1, 9999)).padStart(4, '0')}`;
}

export function publicIpv4(rng: Rng): string {
  for (;;) {
    const a = rng.int(1, 223);
    const b = rng.int(0, 255);
    if (a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)) continue;
    return `${a}.${b}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  }
}

export function privateIpv4(rng: Rng): string {
  return rng.pick([`10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`, `192.168.${rng.int(0, 255)}.${rng.int(1, 254)}`, `172.${rng.int(16, 31)}.${rng.int(0, 255)}.${rng.int(1, 254)}`, `127.0.0.1`]);
}

export function publicIpv6(rng: Rng): string {
  const g = (): string => rng.int(0, 0xffff).toString(16);
  return rng.pick([
    `2001:db8:${g()}:${g()}::${g()}`,
    `2a00:1450:${g()}:${g()}::${g()}`,
    `2606:4700:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`,
    `240${rng.int(1, 9)}:${g()}:${g()}::${rng.int(1, 255)}`,
  ]);
}

// Secrets: random bodies in each vendor's published shape.
export const awsAccessKeyId = (rng: Rng): string => rng.pick(['AKIA', 'ASIA']) + rng.chars(UPPER + '234567', 16);
export const awsSecret = (rng: Rng): string => token(rng, 38, BASE62 + '/+') + rng.chars(DIGITS, 2);
export const githubToken = (rng: Rng): string => rng.pick(['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']) + token(rng, 36);
export const githubPat = (rng: Rng): string => `github_pat_${token(rng, 22)}_${token(rng, 59)}`;
export const slackToken = (rng: Rng): string => `${rng.pick(['xoxb', 'xoxp', 'xoxa', 'xoxr', 'xoxs'])}-${rng.digits(12)}-${rng.digits(13)}-${token(rng, 24)}`;
export const slackWebhook = (rng: Rng): string => `https://hooks.slack.com/services/T${rng.chars(UPPER + DIGITS, 8)}/B${rng.chars(UPPER + DIGITS, 10)}/${token(rng, 24)}`;
export const stripeLive = (rng: Rng): string => rng.pick(['sk_live_', 'rk_live_']) + token(rng, rng.pick([24, 99]));
export const stripeTest = (rng: Rng): string => rng.pick(['sk_test_', 'rk_test_']) + token(rng, rng.pick([24, 99]));
export const googleApiKey = (rng: Rng): string => 'AIza' + token(rng, 35, BASE62 + '-_');
export const genericSecret = (rng: Rng): string => token(rng, rng.int(20, 48), rng.pick([BASE62, BASE62 + '-_', BASE62 + '+/']));
export const password = (rng: Rng): string => rng.pick(['Summer', 'Tr0ub4dor', 'Blue', 'Dragon', 'Passw0rd']) + rng.pick(['!', '#', '_', '$']) + rng.digits(rng.int(2, 4)) + rng.chars(LOWER, 2);

function b64url(s: string): string {
  return btoa(s).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

export function jwt(rng: Rng): string {
  const header = b64url(JSON.stringify({ alg: rng.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: rng.digits(10), iat: 1715000000 + rng.int(0, 1e6), name: rng.pick(FIRST) }));
  return `${header}.${payload}.${rng.chars(B64URL, 43)}`;
}

export function privateKeyBlock(rng: Rng): string {
  const kind = rng.pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
  const lines = Array.from({ length: rng.int(3, 8) }, () => rng.chars(B64, 64));
  return `-----BEGIN ${kind}-----\n${lines.join('\n')}\n${rng.chars(B64, 20)}==\n-----END ${kind}-----`;
}

export const sha1 = (rng: Rng): string => rng.chars(HEX, 40);
export const sha256 = (rng: Rng): string => rng.chars(HEX, 64);
export const uuid = (rng: Rng): string => [8, 4, 4, 4, 12].map((n) => rng.chars(HEX, n)).join('-');
export const base64Blob = (rng: Rng, n: number): string => rng.chars(B64, n) + '==';
