import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { tokenHash } from '../../oauth/crypto.js';
import { createDemoServer } from '../../src/demo/server.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { demoPasswordHash, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient, tenantResource } from '../helpers/oauth.js';

// Two replicas on one Redis: a tenant created, changed and deleted through one replica's admin API reaches the
// other within seconds, without a restart — its endpoint, its policy, and its live sessions.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
const ADMIN = 'replica-admin-token-0123456789abcdefghijklmn';
/** Replicas look for changes every 2 s; the test allows a few looks. */
const WITHIN_MS = 8000;
let a: TestGateway;
let b: TestGateway;
let remote: ServedMcp;

beforeAll(async () => {
  remote = await serveStreamableHttp(() => createDemoServer());
  const shared = {
    tenants: [{ id: 'default', upstreams: [{ id: 'remote', transport: 'streamable-http' as const, url: remote.url }] }],
    store: { type: 'redis' as const, url: REDIS_URL, keyPrefix },
    encryptionKey: randomBytes(32).toString('base64url'),
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'] }],
    admin: { tokens: [{ name: 'ops', tokenHash: await tokenHash(ADMIN), tenants: ['*'] }] },
  };
  a = await startTestGateway(shared);
  b = await startTestGateway({ ...shared, publicUrl: a.baseUrl });
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await remote?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

function admin(replica: TestGateway, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${replica.listenUrl}/admin/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${ADMIN}`, ...(init.body !== undefined && { 'content-type': 'application/json' }) },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
}

test('a tenant made, changed and deleted on one replica is served, applied and gone on the other', async () => {
  const created = await admin(a, '/tenants/fleet', { method: 'PUT', body: { name: 'Fleet', upstreams: [{ id: 'demo', transport: 'demo' }], members: { users: ['demo'] } } });
  expect(created.status).toBe(201);
  await expect.poll(async () => (await admin(b, '/tenants/fleet')).status, { timeout: WITHIN_MS, interval: 200 }).toBe(200);

  // b serves the tenant's protected resource metadata and its MCP endpoint, with a token a issued.
  const resource = tenantResource(a, 'fleet');
  const prm = await fetch(`${b.listenUrl}/.well-known/oauth-protected-resource/t/fleet/mcp`);
  expect(prm.status).toBe(200);
  expect(((await prm.json()) as { resource: string }).resource).toBe(resource);
  const token = (await obtainTokens(a, await registerClient(a), { resource })).access_token;
  const mcp = new Client({ name: 'admin-replicas', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${b.listenUrl}/t/fleet/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  expect((await mcp.listTools()).tools.map((tool) => tool.name)).toContain('demo__echo');

  // A policy change on a reaches b's live session as list_changed, and b decides with it.
  const changed = new Promise<void>((resolve) => mcp.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
  expect((await admin(a, '/tenants/fleet/policy', { method: 'PUT', body: { default: 'deny', rules: [{ id: 'echo-only', effect: 'allow', tools: ['echo'] }] } })).status).toBe(200);
  await changed;
  expect((await mcp.listTools()).tools.map((tool) => tool.name)).toEqual(['demo__echo']);

  expect((await admin(a, '/tenants/fleet', { method: 'DELETE' })).status).toBe(204);
  await expect.poll(async () => (await fetch(`${b.listenUrl}/.well-known/oauth-protected-resource/t/fleet/mcp`)).status, { timeout: WITHIN_MS, interval: 200 }).toBe(404);
  await expect(mcp.listTools()).rejects.toThrow();
  await mcp.close().catch(() => undefined);
});

test('revoking a client on one replica ends its session held by the other', async () => {
  const client = await registerClient(a);
  const token = (await obtainTokens(a, client)).access_token;
  const before = remote.sessions();
  const mcp = new Client({ name: 'revoked-on-a', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${b.listenUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  await mcp.listTools();
  expect(remote.sessions()).toBe(before + 1);

  expect((await admin(a, `/clients/${client.client_id}/revoke`, { method: 'POST' })).status).toBe(200);
  // b held the session and its upstream session; the revocation reached it over Redis and ended both.
  await expect.poll(() => remote.sessions(), { timeout: WITHIN_MS }).toBe(before);
  await mcp.close().catch(() => undefined);
});
