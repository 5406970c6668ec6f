import { errors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { randomToken } from './crypto.js';
import { OAuthError } from './errors.js';
import type { IssuedBefore } from './issued-before.js';
import type { RotatingKeys } from './keys.js';
import type { OAuthStorage } from './storage.js';

export interface SigningKeyMaterial {
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Claims of an access token (RFC 9068 §2.2) plus the tenant it is bound to. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  tenant: string;
  iat: number;
  exp: number;
  jti: string;
}

export interface AccessTokenGrant {
  sub: string;
  clientId: string;
  resource: string;
  tenant: string;
  scope: string;
}

/** A new ES256 key pair in JWK form. */
export async function generateSigningKey(): Promise<SigningKeyMaterial> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

const LEEWAY_SECONDS = 5;
const UNKNOWN_KID_RELOAD_MS = 1_000;
const revokedKey = (jti: string) => `revoked-jti:${jti}`;
/** Tokens whose signature and claims were checked, kept so a client's next requests skip the signature check. */
const MAX_VERIFIED = 5_000;

/**
 * Issues and verifies access tokens: JWTs per RFC 9068 (`typ: at+jwt`), ES256, one audience each.
 * Verification accepts only ES256 from our own key set, so `alg: none` and HMAC-with-the-public-key
 * confusion never reach a key.
 */
export class AccessTokens {
  readonly #issuer: string;
  readonly #ttlSeconds: number;
  readonly #keys: RotatingKeys<SigningKeyMaterial>;
  readonly #storage: OAuthStorage;
  readonly #issuedBefore: IssuedBefore;
  readonly #now: () => number;
  readonly #imported = new Map<string, CryptoKey>();
  /** Checked tokens by audience and token; what can change (revocation) is still read on every request. */
  readonly #verified = new Map<string, AccessTokenClaims>();
  #lastForcedReload = 0;

  constructor(options: { issuer: string; ttlSeconds: number; keys: RotatingKeys<SigningKeyMaterial>; storage: OAuthStorage; issuedBefore: IssuedBefore; now: () => number }) {
    this.#issuedBefore = options.issuedBefore;
    this.#issuer = options.issuer;
    this.#ttlSeconds = options.ttlSeconds;
    this.#keys = options.keys;
    this.#storage = options.storage;
    this.#now = options.now;
  }

  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  async issue(grant: AccessTokenGrant): Promise<{ token: string; claims: AccessTokenClaims }> {
    const key = await this.#keys.active();
    const iat = Math.floor(this.#now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.#issuer,
      sub: grant.sub,
      aud: grant.resource,
      client_id: grant.clientId,
      scope: grant.scope,
      tenant: grant.tenant,
      iat,
      exp: iat + this.#ttlSeconds,
      jti: randomToken(16),
    };
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid })
      .sign(await this.#import(key.kid, key.material.privateJwk));
    return { token, claims };
  }

  /**
   * Verifies a token for one resource (RFC 9068 §4): signature, `typ`, `iss`, `aud`, `exp`/`nbf` with a few
   * seconds of leeway, and that it was not revoked. Throws `invalid_token`.
   */
  async verify(token: string, resource: string): Promise<AccessTokenClaims> {
    const claims = await this.#verifiedClaims(token, resource);
    const [revoked, notBefore] = await Promise.all([this.#storage.get(revokedKey(claims.jti)), this.#issuedBefore.of(claims.client_id, claims.sub)]);
    // `iat` has whole seconds: a token from the second of the revocation is refused too, never one from before it let through.
    if (revoked || (notBefore !== undefined && claims.iat <= Math.floor(notBefore / 1000))) throw new OAuthError('invalid_token', 'the access token was revoked', { status: 401 });
    return claims;
  }

  /** Reads a token we signed without checking its audience or expiry; for revocation and introspection. */
  async decode(token: string): Promise<AccessTokenClaims | undefined> {
    try {
      return await this.#verifySignature(token, { ignoreExpiry: true });
    } catch (error) {
      if (error instanceof OAuthError) return undefined;
      throw error;
    }
  }

  /**
   * The claims of a token for this audience, from the cache while the token has not expired; a signature is checked
   * once per token and process. The cache is bounded: the oldest entry goes first.
   */
  async #verifiedClaims(token: string, resource: string): Promise<AccessTokenClaims> {
    const key = `${resource} ${token}`;
    const cached = this.#verified.get(key);
    if (cached && this.#now() < (cached.exp + LEEWAY_SECONDS) * 1000) return cached;
    this.#verified.delete(key);
    const claims = await this.#verifySignature(token, { audience: resource });
    if (this.#verified.size >= MAX_VERIFIED) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(key, claims);
    return claims;
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.#storage.get(revokedKey(jti))) !== undefined;
  }

  /** Denies a token until it would have expired anyway (RFC 7009 §2). */
  async revoke(jti: string, exp: number): Promise<void> {
    const remaining = exp - Math.floor(this.#now() / 1000) + LEEWAY_SECONDS;
    if (remaining > 0) await this.#storage.set(revokedKey(jti), true, remaining);
  }

  /** The JSON Web Key Set of every key whose tokens may still be valid. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const keys = await this.#keys.keys();
    return { keys: keys.map((key) => ({ ...key.material.publicJwk, kid: key.kid, alg: 'ES256', use: 'sig' })) };
  }

  async #verifySignature(token: string, options: { audience?: string; ignoreExpiry?: boolean }): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#getKey, {
        algorithms: ['ES256'],
        typ: 'at+jwt',
        issuer: this.#issuer,
        requiredClaims: ['sub', 'aud', 'client_id', 'scope', 'tenant', 'iat', 'exp', 'jti'],
        clockTolerance: LEEWAY_SECONDS,
        currentDate: new Date(options.ignoreExpiry ? 0 : this.#now()),
        ...(options.audience !== undefined && { audience: options.audience }),
      });
      if (!isClaims(payload)) throw new TokenRejected();
      return payload;
    } catch (error) {
      // Only a bad token is the token's fault; a store or key-set failure must not make clients drop good tokens.
      if (error instanceof errors.JOSEError || error instanceof TokenRejected) {
        throw new OAuthError('invalid_token', 'the access token is invalid or expired', { status: 401 });
      }
      throw error;
    }
  }

  readonly #getKey: JWTVerifyGetKey = async (header) => {
    const kid = header.kid;
    if (typeof kid !== 'string') throw new TokenRejected();
    let key = (await this.#keys.keys()).find((candidate) => candidate.kid === kid);
    // A token signed by a key another replica just created: read the store again, but not on every bogus kid.
    if (!key && this.#now() - this.#lastForcedReload > UNKNOWN_KID_RELOAD_MS) {
      this.#lastForcedReload = this.#now();
      key = (await this.#keys.keys({ fresh: true })).find((candidate) => candidate.kid === kid);
    }
    if (!key) throw new TokenRejected();
    return this.#import(`${kid}.public`, key.material.publicJwk);
  };

  async #import(id: string, jwk: JWK): Promise<CryptoKey> {
    let key = this.#imported.get(id);
    if (!key) {
      key = (await importJWK(jwk, 'ES256')) as CryptoKey;
      this.#imported.set(id, key);
    }
    return key;
  }
}

/** A token that parsed but is not one of ours (no or unknown kid, claims of the wrong types). */
class TokenRejected extends Error {}

function isClaims(payload: JWTPayload): payload is JWTPayload & AccessTokenClaims {
  return (
    typeof payload.sub === 'string' &&
    typeof payload.aud === 'string' &&
    typeof payload.client_id === 'string' &&
    typeof payload.scope === 'string' &&
    typeof payload.tenant === 'string' &&
    typeof payload.jti === 'string'
  );
}
