import { describe, expect, test } from 'vitest';
import { AccessTokens, generateSigningKey, type SigningKeyMaterial } from '../../oauth/access-tokens.js';
import { OAuthError } from '../../oauth/errors.js';
import { IssuedBefore } from '../../oauth/issued-before.js';
import { deriveEncryptionKey, RotatingKeys } from '../../oauth/keys.js';
import { MemoryStore } from '../../src/store/memory.js';

const DAY = 86_400_000;

function setup(secret = 'an encryption secret of at least 32 chars') {
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const storage = new MemoryStore({ now: clock.now });
  const keysFor = async (options: { secret?: string; cacheMs?: number } = {}) =>
    new RotatingKeys<SigningKeyMaterial>({
      storage,
      name: 'keys:signing',
      encryptionKey: await deriveEncryptionKey(options.secret ?? secret),
      rotateAfterSeconds: 30 * 86_400,
      retainSeconds: 900 + 60,
      generate: generateSigningKey,
      now: clock.now,
      cacheMs: options.cacheMs ?? 0,
    });
  return { clock, storage, keysFor };
}

describe('RotatingKeys', () => {
  test('replicas racing to create the key set agree on one set', async () => {
    const { keysFor } = setup();
    const replicas = await Promise.all(Array.from({ length: 8 }, () => keysFor()));
    const sets = await Promise.all(replicas.map((replica) => replica.keys()));
    const kids = new Set(sets.map((keys) => keys.map((key) => key.kid).join()));
    expect(kids.size).toBe(1);
    expect(sets[0]).toHaveLength(1);
  });

  test('is encrypted at rest: the stored value holds no key material', async () => {
    const { keysFor, storage } = setup();
    const [key] = await (await keysFor()).keys();
    const stored = JSON.stringify(await storage.get('keys:signing'));
    expect(stored).not.toContain(key!.material.privateJwk.d!);
    expect(stored).not.toContain(key!.kid);
  });

  test('rotates lazily when read after the rotation period, keeping the retired key until its tokens expire', async () => {
    const { keysFor, clock } = setup();
    const keys = await keysFor();
    const [first] = await keys.keys();
    clock.advance(29 * DAY);
    expect((await keys.keys()).map((key) => key.kid)).toEqual([first!.kid]);
    clock.advance(DAY);
    const rotated = await keys.keys();
    expect(rotated).toHaveLength(2);
    expect(rotated[1]).toMatchObject({ kid: first!.kid, retiredAt: clock.now() });
    // Another replica sees the same rotation rather than making its own.
    expect((await (await keysFor()).keys()).map((key) => key.kid)).toEqual(rotated.map((key) => key.kid));
    clock.advance(960_000);
    expect((await keys.keys()).map((key) => key.kid)).toEqual([rotated[0]!.kid]);
  });

  test('fails closed with a different encryption secret, and leaves the stored keys alone', async () => {
    const { keysFor, storage } = setup();
    await (await keysFor()).keys();
    const before = await storage.get('keys:signing');
    await expect((await keysFor({ secret: 'another secret that is also 32+ chars' })).keys()).rejects.toThrow(/cannot be decrypted/);
    expect(await storage.get('keys:signing')).toEqual(before);
  });
});

describe('AccessTokens across a rotation', () => {
  test('tokens signed by the retired key verify until they expire; the JWKS publishes both keys meanwhile', async () => {
    const { keysFor, clock, storage } = setup();
    const issuedBefore = new IssuedBefore({ storage, ttlSeconds: 90 * DAY / 1000, now: clock.now });
    const tokens = new AccessTokens({ issuer: 'https://as.example', ttlSeconds: 900, keys: await keysFor(), storage, issuedBefore, now: clock.now });
    await tokens.jwks();
    const grant = { sub: 'local:demo', clientId: 'c', resource: 'https://as.example/mcp', tenant: 'default', scope: 'mcp' };
    clock.advance(30 * DAY - 60_000);
    const old = await tokens.issue(grant);
    clock.advance(120_000);
    const fresh = await tokens.issue(grant);
    expect((await tokens.jwks()).keys).toHaveLength(2);
    await expect(tokens.verify(old.token, grant.resource)).resolves.toMatchObject({ jti: old.claims.jti });
    await expect(tokens.verify(fresh.token, grant.resource)).resolves.toMatchObject({ jti: fresh.claims.jti });
    clock.advance(900_000);
    await expect(tokens.verify(old.token, grant.resource)).rejects.toBeInstanceOf(OAuthError);
    // The retired key is published until the last token it could have signed has expired (TTL + 60 s margin).
    expect((await tokens.jwks()).keys).toHaveLength(2);
    clock.advance(100_000);
    expect((await tokens.jwks()).keys).toHaveLength(1);
  });
});
