import { tokenHash } from './crypto.js';
import type { OAuthStorage } from './storage.js';

/**
 * "Everything issued to this client, or for this user, until now is void" (an admin's revocation): a not-before
 * time per client and per subject. Access tokens issued at or before it are refused; refresh token families that
 * started at or before it are refused. It is kept as long as a refresh token family can live.
 */
export class IssuedBefore {
  readonly #storage: OAuthStorage;
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(options: { storage: OAuthStorage; ttlSeconds: number; now: () => number }) {
    this.#storage = options.storage;
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now;
  }

  async #key(kind: 'client' | 'sub', id: string): Promise<string> {
    return `not-before:${kind}:${await tokenHash(id)}`;
  }

  /** Voids what was issued to a client until now; returns the time, epoch milliseconds. */
  async revokeClient(clientId: string): Promise<number> {
    return this.#set(await this.#key('client', clientId));
  }

  /** Voids what was issued for a user until now; returns the time, epoch milliseconds. */
  async revokeSubject(sub: string): Promise<number> {
    return this.#set(await this.#key('sub', sub));
  }

  async #set(key: string): Promise<number> {
    const at = this.#now();
    await this.#storage.set(key, at, this.#ttlSeconds);
    return at;
  }

  /** The latest not-before time of the client or the subject, epoch milliseconds; undefined if neither was revoked. */
  async of(clientId: string, sub: string): Promise<number | undefined> {
    const [client, subject] = await Promise.all([
      this.#key('client', clientId).then((key) => this.#storage.get<number>(key)),
      this.#key('sub', sub).then((key) => this.#storage.get<number>(key)),
    ]);
    if (client === undefined) return subject;
    return subject === undefined ? client : Math.max(client, subject);
  }
}
