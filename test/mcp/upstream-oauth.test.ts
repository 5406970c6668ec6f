import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { UpstreamTokens } from '../../src/mcp/upstream-oauth.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const clientId = 'upstream-client';
const clientSecret = randomBytes(32).toString('base64url');
let as: TestGateway;
let resourceServer: Server;
let resourceUrl: string;
const seen: string[] = [];
const refused = new Set<string>();

beforeAll(async () => {
  as = await startTestGateway({ clients: [{ clientId, clientSecret, tenant: 'default', scopes: [] }] });
  // Refuses the first token it sees once, as an upstream does after revoking it.
  resourceServer = createServer((req, res) => {
    const authorization = req.headers.authorization ?? '';
    seen.push(authorization);
    if (refused.size === 0) {
      refused.add(authorization);
      res.writeHead(401).end();
      return;
    }
    res.writeHead(refused.has(authorization) ? 401 : 200).end('ok');
  });
  await new Promise<void>((resolve) => resourceServer.listen(0, '127.0.0.1', resolve));
  resourceUrl = `http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  resourceServer?.close();
  await as?.close();
});

test('caches the token until shortly before it expires, then gets a new one', async () => {
  let now = Date.now();
  const tokens = new UpstreamTokens({ issuer: as.baseUrl, clientId, clientSecret, resource: as.resource }, () => now);
  const first = await tokens.get();
  expect(await tokens.get()).toBe(first);
  now += 900_000 - 40_000;
  expect(await tokens.get()).toBe(first);
  now += 15_000;
  expect(await tokens.get()).not.toBe(first);
});

test('renews the token and retries once when the upstream answers 401', async () => {
  const tokens = new UpstreamTokens({ issuer: as.baseUrl, clientId, clientSecret, resource: as.resource });
  const response = await tokens.fetch()(resourceUrl);
  expect(response.status).toBe(200);
  expect(seen).toHaveLength(2);
  expect(seen[0]).not.toBe(seen[1]);
});

test('a wrong client secret fails with the authorization server’s 401 challenge, and nothing is cached', async () => {
  const tokens = new UpstreamTokens({ issuer: as.baseUrl, clientId, clientSecret: 'wrong' });
  await expect(tokens.get()).rejects.toMatchObject({ name: 'WWWAuthenticateChallengeError', status: 401 });
  await expect(tokens.get()).rejects.toMatchObject({ name: 'WWWAuthenticateChallengeError', status: 401 });
});
