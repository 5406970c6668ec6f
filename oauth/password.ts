import { base64url, fromBase64url, timingSafeEqual, utf8 } from './crypto.js';

/**
 * Password hashes: PBKDF2-SHA-256 through WebCrypto, `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64url).
 * The iteration count is stored with each hash and capped at 100,000 because that is the most the Workers
 * runtime's WebCrypto accepts.
 */
export const MAX_PBKDF2_ITERATIONS = 100_000;

const PREFIX = 'pbkdf2-sha256';

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = MAX_PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations);
  return `${PREFIX}$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

/** Parses a stored hash, or returns undefined when it is not one this module writes. */
export function parsePasswordHash(encoded: string): { iterations: number; salt: Uint8Array<ArrayBuffer>; hash: Uint8Array } | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 4 || parts[0] !== PREFIX) return undefined;
  const iterations = Number(parts[1]);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) return undefined;
  try {
    const salt = fromBase64url(parts[2] ?? '');
    const hash = fromBase64url(parts[3] ?? '');
    if (salt.length < 8 || hash.length !== 32) return undefined;
    return { iterations, salt, hash };
  } catch {
    return undefined;
  }
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed) return false;
  return timingSafeEqual(await derive(password, parsed.salt, parsed.iterations), parsed.hash);
}
