import { createHash, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Redis } from 'ioredis';
import { authorizeInBrowser, launchBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Two replicas sharing one Redis, as in a real deployment behind a load balancer: one public URL, one
// encryption key, state only in the store.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
const redirectUri = 'http://127.0.0.1:43210/callback';
let a: TestGateway;
let b: TestGateway;
let browser: Browser;

beforeAll(async () => {
  const shared = { store: { type: 'redis' as const, url: REDIS_URL, keyPrefix }, encryptionKey: randomBytes(32).toString('base64url') };
  a = await startTestGateway(shared);
  b = await startTestGateway({ ...shared, publicUrl: a.baseUrl });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.close(), b?.close()]);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

function replicaUrl(replica: TestGateway, path: string): string {
  return `${replica.listenUrl}${path}`;
}

async function register(replica: TestGateway): Promise<string> {
  const response = await fetch(replicaUrl(replica, '/register'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'Replica test' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { client_id: string }).client_id;
}

async function authorize(replica: TestGateway, clientId: string): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(replicaUrl(replica, '/authorize'));
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: a.resource,
  }).toString();
  const redirected = new URL(await authorizeInBrowser(browser, url.toString()));
  return { code: redirected.searchParams.get('code')!, verifier };
}

function redeem(replica: TestGateway, clientId: string, code: string, verifier: string) {
  return fetch(replicaUrl(replica, '/token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: redirectUri }),
  });
}

function callMcp(replica: TestGateway, token: string) {
  return fetch(replicaUrl(replica, '/mcp'), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
}

test('replicas share one signing key set, created once', async () => {
  const [jwksA, jwksB] = await Promise.all([a, b].map(async (replica) => (await fetch(replicaUrl(replica, '/jwks'))).json()));
  expect(jwksA).toEqual(jwksB);
  expect((jwksA as { keys: unknown[] }).keys).toHaveLength(1);
});

test('a client registered on one replica authorizes on it and redeems on the other; the token works on both', async () => {
  const clientId = await register(b);
  const { code, verifier } = await authorize(a, clientId);
  const response = await redeem(b, clientId, code, verifier);
  expect(response.status).toBe(200);
  const tokens = (await response.json()) as { access_token: string; refresh_token: string };
  const jwks = (await (await fetch(replicaUrl(a, '/jwks'))).json()) as { keys: Array<{ kid: string }> };
  expect(jwks.keys.map((key) => key.kid)).toContain(decodeProtectedHeader(tokens.access_token).kid);
  for (const replica of [a, b]) expect((await callMcp(replica, tokens.access_token)).status).toBe(200);

  // Revoked on one replica, refused on the other.
  const revoked = await fetch(replicaUrl(a, '/revoke'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, token: tokens.refresh_token }),
  });
  expect(revoked.status).toBe(200);
  const refused = await callMcp(b, tokens.access_token);
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
});

test('one code redeemed concurrently on both replicas issues at most one token set, and the replay revokes it', async () => {
  const clientId = await register(a);
  for (let round = 0; round < 3; round++) {
    const { code, verifier } = await authorize(a, clientId);
    const responses = await Promise.all([redeem(a, clientId, code, verifier), redeem(b, clientId, code, verifier), redeem(a, clientId, code, verifier), redeem(b, clientId, code, verifier)]);
    const granted = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status !== 200);
    expect(granted.length).toBeLessThanOrEqual(1);
    for (const response of refused) {
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_grant');
      // A loser finds the code spent; a winner overtaken by a replay finds its fresh grant already revoked.
      expect(['the authorization code was already used', 'the grant was revoked']).toContain(body.error_description);
    }
    // Whoever won, the concurrent replays are evidence the code leaked: nothing it issued may stay usable.
    for (const response of granted) {
      const tokens = (await response.json()) as { access_token: string };
      for (const replica of [a, b]) expect((await callMcp(replica, tokens.access_token)).status).toBe(401);
    }
  }
});
