import { base64url, fromBase64url, utf8 } from './crypto.js';
import type { OAuthStorage } from './storage.js';

/** One key of a rotating set. The newest key (first in the list) is the active one. */
export interface KeyRecord<M> {
  kid: string;
  createdAt: number;
  /** When a newer key replaced it; it stays published until `retiredAt + retainSeconds`. */
  retiredAt?: number;
  material: M;
}

interface Envelope {
  v: 1;
  iv: string;
  data: string;
}

export interface RotatingKeysOptions<M> {
  storage: OAuthStorage;
  /** Storage key of the set, also bound into the encryption as associated data. */
  name: string;
  encryptionKey: CryptoKey;
  rotateAfterSeconds: number;
  /** How long a retired key stays usable for verification (the longest life of what it signed). */
  retainSeconds: number;
  generate: () => Promise<M>;
  now: () => number;
  /** How long a process trusts its decrypted copy before reading the store again. */
  cacheMs?: number;
}

/**
 * Derives the AES-GCM key that encrypts key sets at rest from the configured secret (HKDF-SHA-256).
 * Every replica configured with the same secret derives the same key.
 */
export async function deriveEncryptionKey(secret: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8('portcullis'), info: utf8('key-set-encryption-v1') },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * A set of secret keys shared by every replica through the store: created once by compare-and-set, encrypted at
 * rest, and rotated lazily when read, so it needs no timers. A replica that loses a race simply reads the
 * winner's set.
 */
export class RotatingKeys<M> {
  readonly #options: RotatingKeysOptions<M>;
  #cached: { keys: KeyRecord<M>[]; at: number } | undefined;

  constructor(options: RotatingKeysOptions<M>) {
    this.#options = options;
  }

  /** The keys still valid for verification, active key first. */
  async keys(options: { fresh?: boolean } = {}): Promise<KeyRecord<M>[]> {
    const { now, cacheMs = 30_000 } = this.#options;
    let cached = this.#cached;
    if (options.fresh || !cached || now() - cached.at >= cacheMs || this.#due(cached.keys)) {
      cached = { keys: await this.#load(), at: now() };
      this.#cached = cached;
    }
    // Retired keys are dropped from the stored set only at the next rotation; stop using them as soon as they lapse.
    return cached.keys.filter((key) => this.#live(key));
  }

  async active(): Promise<KeyRecord<M>> {
    const [first] = await this.keys();
    if (!first) throw new Error(`key set ${this.#options.name} is empty`);
    return first;
  }

  #due(keys: KeyRecord<M>[]): boolean {
    const first = keys[0];
    return !first || this.#options.now() >= first.createdAt + this.#options.rotateAfterSeconds * 1000;
  }

  async #load(): Promise<KeyRecord<M>[]> {
    const { storage, name } = this.#options;
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await storage.get<Envelope>(name);
      const keys = stored ? await this.#decrypt(stored) : [];
      if (!this.#due(keys)) return keys;
      const next = await this.#rotate(keys);
      if (await storage.compareAndSet(name, stored, await this.#encrypt(next))) return next;
    }
    throw new Error(`key set ${name} is under contention`);
  }

  async #rotate(keys: KeyRecord<M>[]): Promise<KeyRecord<M>[]> {
    const now = this.#options.now();
    const fresh: KeyRecord<M> = { kid: base64url(crypto.getRandomValues(new Uint8Array(12))), createdAt: now, material: await this.#options.generate() };
    const older = keys
      .map((key, index) => (index === 0 && key.retiredAt === undefined ? { ...key, retiredAt: now } : key))
      .filter((key) => this.#live(key));
    return [fresh, ...older];
  }

  #live(key: KeyRecord<M>): boolean {
    return key.retiredAt === undefined || key.retiredAt + this.#options.retainSeconds * 1000 > this.#options.now();
  }

  async #encrypt(keys: KeyRecord<M>[]): Promise<Envelope> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: utf8(this.#options.name) },
      this.#options.encryptionKey,
      utf8(JSON.stringify(keys)),
    );
    return { v: 1, iv: base64url(iv), data: base64url(new Uint8Array(data)) };
  }

  async #decrypt(envelope: Envelope): Promise<KeyRecord<M>[]> {
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64url(envelope.iv), additionalData: utf8(this.#options.name) },
        this.#options.encryptionKey,
        fromBase64url(envelope.data),
      );
      return JSON.parse(new TextDecoder().decode(plain)) as KeyRecord<M>[];
    } catch (cause) {
      // Failing closed: a replica with the wrong secret must not overwrite the keys every other replica uses.
      throw new Error(`key set ${this.#options.name} cannot be decrypted: is the encryption key the same on every replica?`, { cause });
    }
  }
}
