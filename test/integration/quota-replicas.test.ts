import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { QUOTA_EXCEEDED } from '../../src/gate/quota.js';
import { closedPort } from '../fixtures/faulty-upstreams.js';
import { demoPasswordHash, spawnGateway, type GatewayProcess } from '../helpers/gateway.js';
import { obtainTokens, registerClient, tenantResource, type GatewayUrls } from '../helpers/oauth.js';

// Test 1 and 2 of issue 5: two gateway processes on one Redis, many concurrent callers spread over both. Admitted
// calls equal a window's limit exactly and stay within one token of a bucket's allowance; one agent or tenant
// exhausting its quota leaves the others' admissions alone.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
const WINDOW_LIMIT = 20;
const BURST = 10;
let dir: string;
let a: GatewayProcess;
let b: GatewayProcess;
let urls: GatewayUrls;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-quotas-'));
  const [portA, portB] = [await closedPort(), await closedPort()];
  const quotas = {
    limits: [
      { id: 'daily-echo', per: ['client'], tools: ['echo'], window: { limit: WINDOW_LIMIT, per: 'day' } },
      // One token a minute after the burst: within the test, the bucket admits its burst and nothing more.
      { id: 'add-bucket', per: ['client'], tools: ['add'], rate: { perSecond: 1 / 60, burst: BURST } },
    ],
  };
  const config = {
    publicUrl: `http://127.0.0.1:${portA}`,
    logLevel: 'info',
    encryptionKey: randomBytes(32).toString('base64url'),
    store: { type: 'redis', url: REDIS_URL, keyPrefix },
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default', 'acme'] }],
    tenants: [
      { id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }], quotas },
      { id: 'acme', upstreams: [{ id: 'demo', transport: 'demo' }], quotas },
    ],
  };
  const file = join(dir, 'portcullis.yaml');
  await writeFile(file, JSON.stringify(config));
  [a, b] = await Promise.all([
    spawnGateway(['start', '--config', file], { HOST: '127.0.0.1', PORT: String(portA) }),
    spawnGateway(['start', '--config', file], { HOST: '127.0.0.1', PORT: String(portB) }),
  ]);
  urls = { baseUrl: config.publicUrl, resource: `${config.publicUrl}/mcp` };
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(dir, { recursive: true, force: true });
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** Sessions of one agent (one client, one token), half on each replica. */
async function sessionsOf(resource: string, count: number): Promise<Client[]> {
  const token = (await obtainTokens(urls, await registerClient(urls), { resource })).access_token;
  const path = new URL(resource).pathname;
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const mcp = new Client({ name: 'quota-replicas', version: '1.0.0' });
      await mcp.connect(new StreamableHTTPClientTransport(new URL(path, index % 2 === 0 ? a.url : b.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      return mcp;
    }),
  );
}

/** Fires `calls` concurrent calls of one tool over the sessions; counts admitted and quota-refused calls. */
async function burst(sessions: Client[], calls: number, tool: 'echo' | 'add'): Promise<{ admitted: number; refused: number }> {
  const results = await Promise.allSettled(
    Array.from({ length: calls }, (_, index) => sessions[index % sessions.length]!.callTool({ name: `demo__${tool}`, arguments: tool === 'echo' ? { text: String(index) } : { a: index, b: 1 } })),
  );
  const refused = results.filter((result) => result.status === 'rejected' && (result.reason as { code?: number }).code === QUOTA_EXCEEDED).length;
  const admitted = results.filter((result) => result.status === 'fulfilled').length;
  expect(admitted + refused).toBe(calls);
  return { admitted, refused };
}

test('a window admits exactly its limit across both replicas, and a token bucket its burst', async () => {
  const sessions = await sessionsOf(urls.resource, 8);
  expect(await burst(sessions, 3 * WINDOW_LIMIT, 'echo')).toEqual({ admitted: WINDOW_LIMIT, refused: 2 * WINDOW_LIMIT });
  const bucket = await burst(sessions, 4 * BURST, 'add');
  expect(bucket.admitted).toBeGreaterThanOrEqual(BURST);
  expect(bucket.admitted).toBeLessThanOrEqual(BURST + 1);
  await Promise.all(sessions.map((session) => session.close()));
});

test('one agent, or one tenant, at its limit leaves the others alone', async () => {
  const greedy = await sessionsOf(urls.resource, 4);
  await burst(greedy, WINDOW_LIMIT + 5, 'echo');
  expect(await burst(greedy, 2, 'echo')).toEqual({ admitted: 0, refused: 2 });
  const neighbour = await sessionsOf(urls.resource, 2);
  expect(await burst(neighbour, 5, 'echo')).toEqual({ admitted: 5, refused: 0 });
  const otherTenant = await sessionsOf(tenantResource(urls, 'acme'), 2);
  expect(await burst(otherTenant, 5, 'echo')).toEqual({ admitted: 5, refused: 0 });
  await Promise.all([...greedy, ...neighbour, ...otherTenant].map((session) => session.close()));
});
