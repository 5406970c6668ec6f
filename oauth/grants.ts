import type { AccessTokens, AccessTokenClaims } from './access-tokens.js';
import { randomToken, tokenHash } from './crypto.js';
import { OAuthError } from './errors.js';
import type { IssuedBefore } from './issued-before.js';
import type { OAuthStorage } from './storage.js';

/** What an authorization code stands for; stored under the code's hash. */
export interface AuthorizationCode {
  clientId: string;
  /** The redirect URI the code was delivered to. */
  redirectUri: string;
  /** Whether the authorization request named it; then the token request must repeat it (RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  codeChallenge: string;
  resource: string;
  tenant: string;
  scope: string;
  sub: string;
  expiresAt: number;
  /** Set by the one redemption that wins; a later one revokes this family. */
  redeemedBy?: string;
}

/** One chain of refresh tokens and the access tokens issued along it, revoked as a whole. */
export interface GrantFamily {
  clientId: string;
  sub: string;
  tenant: string;
  resource: string;
  scope: string;
  createdAt: number;
  refresh: boolean;
  revoked?: true;
  accessTokens: Array<{ jti: string; exp: number }>;
}

interface RefreshRecord {
  familyId: string;
  clientId: string;
  /** Seconds since the epoch, as `exp` in introspection. */
  expiresAt: number;
  rotatedAt?: number;
}

export interface IssuedTokens {
  accessToken: string;
  claims: AccessTokenClaims;
  refreshToken?: string;
}

export interface GrantsOptions {
  storage: OAuthStorage;
  accessTokens: AccessTokens;
  issuedBefore: IssuedBefore;
  now: () => number;
  codeTtlSeconds: number;
  refreshIdleSeconds: number;
  refreshAbsoluteSeconds: number;
  /** How long after a rotation a second use of the old refresh token is taken for a race, not a theft. */
  refreshGraceSeconds: number;
}

const codeKey = (hash: string) => `code:${hash}`;
const refreshKey = (hash: string) => `refresh:${hash}`;
const familyKey = (id: string) => `family:${id}`;
// A redeemed code is remembered this long so that a replay can still be detected and punished.
const REDEEMED_CODE_MEMORY_SECONDS = 600;

/**
 * Authorization codes and refresh-token families. Single use is enforced with compare-and-set, so of two
 * concurrent redemptions exactly one wins on every store.
 */
export class Grants {
  readonly #o: GrantsOptions;

  constructor(options: GrantsOptions) {
    this.#o = options;
  }

  async createCode(grant: Omit<AuthorizationCode, 'expiresAt' | 'redeemedBy'>): Promise<string> {
    const code = randomToken();
    const record: AuthorizationCode = { ...grant, expiresAt: this.#o.now() + this.#o.codeTtlSeconds * 1000 };
    await this.#o.storage.set(codeKey(await tokenHash(code)), record, REDEEMED_CODE_MEMORY_SECONDS);
    return code;
  }

  /**
   * Redeems a code once (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3): `check` validates the request against the code
   * before it is spent, so a wrong verifier cannot burn someone else's code. A second redemption revokes every
   * token the first one issued.
   */
  async redeemCode(code: string, clientId: string, check: (grant: AuthorizationCode) => void): Promise<{ grant: AuthorizationCode; familyId: string }> {
    const key = codeKey(await tokenHash(code));
    const grant = await this.#o.storage.get<AuthorizationCode>(key);
    if (!grant) throw new OAuthError('invalid_grant', 'the authorization code is invalid');
    // Checked before the replay rule, so that holding a spent code is not enough to revoke someone's grant.
    if (grant.clientId !== clientId) throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
    if (grant.redeemedBy !== undefined) return this.#replayed(grant.redeemedBy);
    if (this.#o.now() >= grant.expiresAt) throw new OAuthError('invalid_grant', 'the authorization code has expired');
    check(grant);
    const familyId = randomToken(16);
    if (!(await this.#o.storage.compareAndSet(key, grant, { ...grant, redeemedBy: familyId }, REDEEMED_CODE_MEMORY_SECONDS))) {
      const winner = await this.#o.storage.get<AuthorizationCode>(key);
      return this.#replayed(winner?.redeemedBy);
    }
    return { grant, familyId };
  }

  /** Issues the first tokens of a new family. */
  async startFamily(familyId: string, grant: Omit<GrantFamily, 'createdAt' | 'accessTokens'>): Promise<IssuedTokens> {
    const family: GrantFamily = { ...grant, createdAt: this.#o.now(), accessTokens: [] };
    // Fails when a replayed code already tombstoned this family.
    if (!(await this.#o.storage.compareAndSet(familyKey(familyId), undefined, family, this.#o.refreshAbsoluteSeconds))) {
      throw new OAuthError('invalid_grant', 'the authorization code was already used');
    }
    return this.#issue(familyId, family, family.scope);
  }

  /**
   * Rotates a refresh token (OAuth 2.1 §4.3.1): the old token is spent and a new one issued in the same family.
   * Reuse of a spent token revokes the family, except within the grace period after its rotation, where it is
   * taken for two concurrent refreshes by the same client: the loser is refused but the family survives, because
   * the winner's tokens are with that same client.
   */
  async rotate(refreshToken: string, clientId: string, scope: (familyScope: string) => string): Promise<IssuedTokens> {
    const key = refreshKey(await tokenHash(refreshToken));
    const record = await this.#o.storage.get<RefreshRecord>(key);
    if (!record || record.clientId !== clientId) throw new OAuthError('invalid_grant', 'the refresh token is invalid');
    const family = await this.#o.storage.get<GrantFamily>(familyKey(record.familyId));
    if (!family || family.revoked) throw new OAuthError('invalid_grant', 'the refresh token was revoked');
    if (this.#o.now() >= family.createdAt + this.#o.refreshAbsoluteSeconds * 1000) {
      throw new OAuthError('invalid_grant', 'the refresh token has expired');
    }
    const notBefore = await this.#o.issuedBefore.of(family.clientId, family.sub);
    if (notBefore !== undefined && family.createdAt <= notBefore) {
      await this.revokeFamily(record.familyId);
      throw new OAuthError('invalid_grant', 'the refresh token was revoked');
    }
    const granted = scope(family.scope);
    if (record.rotatedAt === undefined) {
      const spent: RefreshRecord = { ...record, rotatedAt: this.#o.now() };
      if (await this.#o.storage.compareAndSet(key, record, spent, this.#o.refreshIdleSeconds)) {
        return this.#issue(record.familyId, family, granted);
      }
    }
    const current = (await this.#o.storage.get<RefreshRecord>(key)) ?? record;
    const rotatedAt = current.rotatedAt ?? this.#o.now();
    if (this.#o.now() - rotatedAt > this.#o.refreshGraceSeconds * 1000) await this.revokeFamily(record.familyId);
    throw new OAuthError('invalid_grant', 'the refresh token was already used');
  }

  /** The family a refresh token belongs to, if the token is live. */
  async refreshTokenFamily(refreshToken: string): Promise<{ familyId: string; family: GrantFamily; spent: boolean; expiresAt: number } | undefined> {
    const record = await this.#o.storage.get<RefreshRecord>(refreshKey(await tokenHash(refreshToken)));
    if (!record) return undefined;
    const family = await this.#o.storage.get<GrantFamily>(familyKey(record.familyId));
    if (!family) return undefined;
    return { familyId: record.familyId, family, spent: record.rotatedAt !== undefined, expiresAt: record.expiresAt };
  }

  /** Revokes every refresh token of a family and every access token issued along it. */
  async revokeFamily(familyId: string): Promise<void> {
    const key = familyKey(familyId);
    for (;;) {
      const family = await this.#o.storage.get<GrantFamily>(key);
      const revoked: GrantFamily = family
        ? { ...family, revoked: true }
        : { clientId: '', sub: '', tenant: '', resource: '', scope: '', createdAt: this.#o.now(), refresh: false, revoked: true, accessTokens: [] };
      if (await this.#o.storage.compareAndSet(key, family, revoked, this.#o.refreshAbsoluteSeconds)) {
        await Promise.all(revoked.accessTokens.map(({ jti, exp }) => this.#o.accessTokens.revoke(jti, exp)));
        return;
      }
    }
  }

  async #replayed(familyId: string | undefined): Promise<never> {
    if (familyId !== undefined) await this.revokeFamily(familyId);
    throw new OAuthError('invalid_grant', 'the authorization code was already used');
  }

  async #issue(familyId: string, family: GrantFamily, scope: string): Promise<IssuedTokens> {
    const { token, claims } = await this.#o.accessTokens.issue({
      sub: family.sub,
      clientId: family.clientId,
      resource: family.resource,
      tenant: family.tenant,
      scope,
    });
    await this.#remember(familyId, claims);
    if (!family.refresh) return { accessToken: token, claims };
    const refreshToken = randomToken();
    const remaining = Math.ceil((family.createdAt + this.#o.refreshAbsoluteSeconds * 1000 - this.#o.now()) / 1000);
    const ttl = Math.max(1, Math.min(this.#o.refreshIdleSeconds, remaining));
    const record: RefreshRecord = { familyId, clientId: family.clientId, expiresAt: Math.floor(this.#o.now() / 1000) + ttl };
    await this.#o.storage.set(refreshKey(await tokenHash(refreshToken)), record, ttl);
    return { accessToken: token, claims, refreshToken };
  }

  /** Records an access token in its family so revoking the family can deny it; drops expired entries. */
  async #remember(familyId: string, claims: AccessTokenClaims): Promise<void> {
    const key = familyKey(familyId);
    const nowSeconds = Math.floor(this.#o.now() / 1000);
    for (;;) {
      const family = await this.#o.storage.get<GrantFamily>(key);
      if (!family || family.revoked) {
        await this.#o.accessTokens.revoke(claims.jti, claims.exp);
        throw new OAuthError('invalid_grant', 'the grant was revoked');
      }
      const accessTokens = [...family.accessTokens.filter(({ exp }) => exp > nowSeconds), { jti: claims.jti, exp: claims.exp }];
      if (await this.#o.storage.compareAndSet(key, family, { ...family, accessTokens }, this.#o.refreshAbsoluteSeconds)) return;
    }
  }
}
