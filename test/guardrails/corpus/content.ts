/**
 * Values generated at test time for the corpora, so no opaque value (hash, id, token-like string, image bytes) is
 * committed: random hex and base64 in the right shapes, and encodings of fixed plain-text payloads.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
export const sha1 = (): string => hex(20);
export const sha256 = (): string => hex(32);
export const uuid = (): string => randomUUID();
export const randomBase64 = (bytes: number): string => randomBytes(bytes).toString('base64');
export const randomBase64url = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** A PNG-signed blob of random bytes, base64: what a data-URI image looks like to a scanner. */
export function pngBase64(bytes = 600): string {
  const body = randomBytes(bytes);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  return Buffer.concat([sig, body]).toString('base64');
}

/** A JWT-shaped string (random signature, plausible header and claims). */
export function jwtLike(): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const claims = Buffer.from(JSON.stringify({ sub: uuid(), iat: 1_700_000_000, scope: 'read' })).toString('base64url');
  return `${header}.${claims}.${randomBase64url(32)}`;
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
export const b64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
export const toHex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');
export const pct = (text: string): string => encodeURIComponent(text);

/** ASCII text re-written as invisible Unicode tag characters (U+E0000 + code point). */
export function tagChars(text: string): string {
  let out = '';
  for (const ch of text) out += String.fromCodePoint(0xe0000 + (ch.codePointAt(0) ?? 0));
  return out;
}

/** Bytes smuggled as variation selectors from the supplement (U+E0100 + byte). */
export function variationSelectors(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += String.fromCodePoint(0xe0100 + (b % 240));
  return out;
}

/** A random order id in a phone-like shape: `+1-800-` plus digits. */
export function phoneLikeOrderId(): string {
  const d = (n: number): string => Array.from(randomBytes(n), (b) => String(b % 10)).join('');
  return `+1-${d(3)}-${d(3)}-${d(4)}`;
}
