import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { demoPasswordHash, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { callMcp, obtainTokens, registerClient, tokenRequest } from '../helpers/oauth.js';

// An administrator removes user demo from the default tenant and restarts the gateway on the same store: grants
// issued before must stop working at their next refresh, not live on until their absolute lifetime.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
let before: TestGateway;
let after: TestGateway;

beforeAll(async () => {
  const shared = { store: { type: 'redis' as const, url: REDIS_URL, keyPrefix }, encryptionKey: randomBytes(32).toString('base64url') };
  const tenants = [{ id: 'default' }, { id: 'acme' }];
  before = await startTestGateway({ ...shared, tenants, users: [{ username: 'demo', passwordHash: await demoPasswordHash(), tenants: ['default', 'acme'] }] });
  after = await startTestGateway({ ...shared, publicUrl: before.baseUrl, tenants, users: [{ username: 'demo', passwordHash: await demoPasswordHash(), tenants: ['acme'] }] });
});

afterAll(async () => {
  await Promise.all([before?.close(), after?.close()]);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

test('a refresh after the user lost access to the tenant fails and revokes the grant', async () => {
  const client = await registerClient(before);
  const tokens = await obtainTokens(before, client);
  const refresh = () => fetch(`${after.listenUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: client.client_id }),
  });
  const refused = await refresh();
  expect(refused.status).toBe(400);
  expect(await refused.json()).toEqual({ error: 'invalid_grant', error_description: 'the user no longer has access to this resource' });
  // The access token issued before is revoked with its family, on every replica.
  expect((await callMcp(before.resource, `Bearer ${tokens.access_token}`)).status).toBe(401);
  expect((await (await tokenRequest(before, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: client.client_id })).json())).toEqual({
    error: 'invalid_grant',
    error_description: 'the refresh token was revoked',
  });
});
