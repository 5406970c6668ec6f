import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Redis is unreachable: every authorization decision that needs the store must fail closed — refused, and never
// blamed on the client's token (a 401 invalid_token would make clients throw good tokens away).
let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({ store: { type: 'redis', url: 'redis://127.0.0.1:1', keyPrefix: 'unreachable:' }, encryptionKey: 'k'.repeat(40) });
});
afterAll(async () => {
  await gateway?.close();
});

test('a bearer token cannot be verified, and the answer is a server error, not invalid_token', async () => {
  const { privateKey } = await generateKeyPair('ES256');
  const token = await new SignJWT({ client_id: 'c', scope: 'mcp', tenant: 'default', jti: 'j' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'some-kid' })
    .setIssuer(gateway.baseUrl)
    .setAudience(gateway.resource)
    .setSubject('local:demo')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
  const response = await fetch(gateway.resource, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
  expect(response.status).toBe(500);
  expect(response.headers.get('www-authenticate')).toBeNull();
  expect(await response.json()).toEqual({ error: 'server_error', error_description: 'the server could not complete the request' });
});

test('registration refuses with a server error, no stack trace', async () => {
  const registration = await fetch(`${gateway.baseUrl}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://c.example/cb'] }) });
  expect(registration.status).toBe(500);
  expect(await registration.json()).toEqual({ error: 'server_error', error_description: 'the server could not complete the request' });
});
