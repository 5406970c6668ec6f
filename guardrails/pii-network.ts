/**
 * Personal data: IP addresses. One tokenizer reads each maximal run of `[0-9A-Fa-f:.]` once and parses it as IPv4 or
 * IPv6, so the scan is linear.
 *
 * Policy: only addresses that can identify a host on the public internet count. Private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), loopback, link-local, unspecified, carrier-grade NAT (100.64/10), multicast and reserved
 * ranges are not findings: they appear in every log and config and identify no one outside the network. The
 * documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) do count, because they stand for public
 * addresses in examples and tests.
 */
import { defineDetector } from './define-detector.js';
import { at, contextHas, isDigit, isHex, isWordLike, previousWord } from './scan-chars.js';

const isIpChar = (c: number): boolean => isHex(c) || c === 58 || c === 46;

/** The four octets of a dotted quad (no leading zeros, each ≤ 255), or null. */
export function parseIpv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === '0') || ![...p].every((ch) => isDigit(ch.charCodeAt(0)))) return null;
    const n = Number(p);
    if (n > 255) return null;
    octets.push(n);
  }
  return octets;
}

/** True for addresses reachable on the public internet (see the policy above). */
export function publicIpv4([a = 0, b = 0, c = 0]: readonly number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && c === 0) return false;
  return true;
}

/** The eight 16-bit groups of an IPv6 address (`::` compression and a trailing dotted quad allowed), or null. */
export function parseIpv6(s: string): number[] | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k] ?? '';
      if (k === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (p.length === 0 || p.length > 4 || ![...p].every((ch) => isHex(ch.charCodeAt(0)))) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const left = parse(halves[0] ?? '');
  const right = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (!left || !right) return null;
  // The right half may hold a dotted quad only at its very end; the left half only when there is no '::'.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return null;
  const explicit = left.length + right.length;
  if (halves.length === 1) return explicit === 8 ? left : null;
  if (explicit > 7) return null;
  return [...left, ...new Array<number>(8 - explicit).fill(0), ...right];
}

/** True for globally routable IPv6 (not ::, ::1, fe80::/10, fc00::/7, ff00::/8; v4-mapped addresses follow IPv4). */
export function publicIpv6(g: readonly number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    if (g5 === 0xffff) return publicIpv4([g6 >> 8, g6 & 255, g7 >> 8, g7 & 255]);
    return false; // unspecified, loopback, deprecated v4-compatible
  }
  if (g0 >= 0xfe80 && g0 <= 0xfebf) return false;
  if (g0 >= 0xfc00 && g0 <= 0xfdff) return false;
  return g0 < 0xff00;
}

/**
 * Keeps `a::b`, `dead::beef`, `12:30:45:…` out: a literal needs a group of 3+ hex digits (or a dotted quad), and a
 * `::`-compressed one at least three groups (a dotted quad counts two).
 */
function plausibleIpv6(s: string): boolean {
  const groups = s.split(':').filter((p) => p.length > 0);
  const count = groups.reduce((n, p) => n + (p.includes('.') ? 2 : 1), 0);
  if (s.includes('::') && count < 3) return false;
  return s.includes('.') || groups.some((p) => p.length >= 3);
}

/** Words near an address that say it is one. */
const IP_WORDS = new Set(['ip', 'ips', 'ipv', 'addr', 'address', 'host', 'from', 'client', 'server', 'peer', 'remote', 'src', 'dst', 'source', 'destination', 'inet', 'connect', 'connected', 'connection', 'forwarded', 'for', 'via', 'gateway', 'dns', 'resolver', 'nameserver', 'ping', 'upstream', 'proxy', 'origin', 'attacker', 'blocked', 'banned', 'login', 'user']);

/**
 * True if a dotted quad is likely an address and not a four-part version: the last octet is not 0 (a network, or
 * `1.0.0.0`), and quads whose first two octets are both below 10 (`2.1.5.3`) need an address word nearby.
 */
function hostLike(text: string, start: number, end: number, octets: readonly number[]): boolean {
  const [a = 0, b = 0, , d = 0] = octets;
  if (d === 0) return false;
  if (a >= 10 || b >= 10 || at(text, end) === 58) return true;
  return contextHas(text, start, IP_WORDS, 24);
}

/** Words before a dotted quad that make it a version number. */
const VERSION_WORDS = new Set(['version', 'ver', 'v', 'release', 'build', 'firmware', 'kernel', 'rev', 'revision', 'sdk', 'oid', 'mib']);

/** `pii.ip`: public IPv4 and IPv6 addresses (also `ip:port`, `[v6]:port`); see the module comment for the policy. */
export const ipDetector = defineDetector('pii.ip', 'pii', (text, emit) => {
  let i = 0;
  while (i < text.length) {
    if (!isIpChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // `ip:203.0.113.7`: a single leading colon belongs to the text before.
    if (text.charCodeAt(i) === 58 && at(text, i + 1) !== 58 && isDigit(at(text, i + 1))) i++;
    let end = i;
    while (end < text.length && isIpChar(text.charCodeAt(end))) end++;
    const before = at(text, i - 1);
    const after = at(text, end);
    const tooLong = end - i > 64;
    if (tooLong || isWordLike(before) || before === 46 || isWordLike(after)) {
      i = end;
      continue;
    }
    let tokenEnd = end;
    while (tokenEnd > i && text.charCodeAt(tokenEnd - 1) === 46) tokenEnd--; // sentence dot
    const token = text.slice(i, tokenEnd);
    if (token.includes(':')) {
      const v6 = token.endsWith(':') && !token.endsWith('::') ? null : parseIpv6(token);
      if (v6 && plausibleIpv6(token)) {
        if (publicIpv6(v6)) emit(i, tokenEnd, 0.85);
      } else {
        // `203.0.113.7:8443`: a dotted quad before the first colon.
        const host = token.slice(0, token.indexOf(':'));
        const v4 = parseIpv4(host);
        if (v4 && publicIpv4(v4) && !VERSION_WORDS.has(previousWord(text, i)) && hostLike(text, i, i + host.length, v4)) emit(i, i + host.length, 0.8);
      }
    } else if (token.includes('.')) {
      const v4 = parseIpv4(token);
      if (v4 && publicIpv4(v4) && !VERSION_WORDS.has(previousWord(text, i)) && hostLike(text, i, tokenEnd, v4)) emit(i, tokenEnd, 0.8);
    }
    i = end;
  }
});
