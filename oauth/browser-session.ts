import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { base64url, fromBase64url, randomToken, sha256, timingSafeEqual, utf8 } from './crypto.js';
import type { RotatingKeys } from './keys.js';

export interface CookieKeyMaterial {
  secret: string;
}

/** What the signed browser cookie carries. `bid` binds forms to this browser (login CSRF); `sub` is the login. */
export interface BrowserSession {
  bid: string;
  sub?: string;
  authTime?: number;
  exp: number;
}

export async function generateCookieKey(): Promise<CookieKeyMaterial> {
  return { secret: randomToken() };
}

/**
 * The browser session of the login and consent pages: one HMAC-signed cookie, no server-side state.
 * The name carries a hash of the issuer because browsers share cookies on 127.0.0.1 across ports, and takes
 * the `__Host-` prefix (with `Secure`) whenever the issuer is https.
 */
export class BrowserSessions {
  readonly #keys: RotatingKeys<CookieKeyMaterial>;
  readonly #secure: boolean;
  readonly #ttlSeconds: number;
  readonly #now: () => number;
  readonly #name: Promise<string>;

  constructor(options: { issuer: string; keys: RotatingKeys<CookieKeyMaterial>; ttlSeconds: number; now: () => number }) {
    this.#keys = options.keys;
    this.#secure = options.issuer.startsWith('https:');
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now;
    this.#name = sha256(options.issuer).then((digest) => `${this.#secure ? '__Host-' : ''}portcullis-${base64url(digest).slice(0, 10)}`);
  }

  /** The valid session of this browser, or a new anonymous one (not yet written). */
  async read(c: Context): Promise<BrowserSession> {
    const value = getCookie(c, await this.#name);
    const session = value ? await this.#open(value) : undefined;
    return session ?? { bid: randomToken(16), exp: this.#expiry() };
  }

  async write(c: Context, session: Omit<BrowserSession, 'exp'>): Promise<void> {
    const payload = base64url(utf8(JSON.stringify({ ...session, exp: this.#expiry() })));
    const key = await this.#keys.active();
    const mac = await this.#mac(key.material.secret, payload);
    setCookie(c, await this.#name, `${payload}.${key.kid}.${mac}`, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: this.#secure,
      path: '/',
      maxAge: this.#ttlSeconds,
    });
  }

  #expiry(): number {
    return Math.floor(this.#now() / 1000) + this.#ttlSeconds;
  }

  async #open(value: string): Promise<BrowserSession | undefined> {
    const [payload, kid, mac] = value.split('.');
    if (!payload || !kid || !mac) return undefined;
    const key = (await this.#keys.keys()).find((candidate) => candidate.kid === kid);
    if (!key) return undefined;
    if (!timingSafeEqual(utf8(await this.#mac(key.material.secret, payload)), utf8(mac))) return undefined;
    try {
      const session = JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as BrowserSession;
      if (typeof session.bid !== 'string' || typeof session.exp !== 'number') return undefined;
      return session.exp > this.#now() / 1000 ? session : undefined;
    } catch {
      return undefined;
    }
  }

  async #mac(secret: string, payload: string): Promise<string> {
    const key = await crypto.subtle.importKey('raw', fromBase64url(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(payload))));
  }
}
