import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { QUOTA_EXCEEDED } from '../../src/gate/quota.js';
import type { GatewayProcess } from '../helpers/gateway.js';
import { obtainTokens, registerClient, tenantResource, type GatewayUrls } from '../helpers/oauth.js';
import { startReplicas, type Replicas } from '../helpers/replicas.js';

type QuotasInput = NonNullable<ConfigInput['tenants'][number]['quotas']>;

// Test 1 and 2 of issue 5: two gateway processes on one Redis, many concurrent callers spread over both. Admitted
// calls equal a window's limit exactly and stay within one token of a bucket's allowance; one agent or tenant
// exhausting its quota leaves the others' admissions alone.
const WINDOW_LIMIT = 20;
const BURST = 10;
let replicas: Replicas;
let a: GatewayProcess;
let b: GatewayProcess;
let urls: GatewayUrls;

beforeAll(async () => {
  const quotas: QuotasInput = {
    limits: [
      { id: 'daily-echo', per: ['client'], tools: ['echo'], window: { limit: WINDOW_LIMIT, per: 'day' } },
      // One token a minute after the burst: within the test, the bucket admits its burst and nothing more.
      { id: 'add-bucket', per: ['client'], tools: ['add'], rate: { perSecond: 1 / 60, burst: BURST } },
    ],
  };
  replicas = await startReplicas({
    tenants: [
      { id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }], quotas },
      { id: 'acme', upstreams: [{ id: 'demo', transport: 'demo' }], quotas },
    ],
  });
  ({ a, b, urls } = replicas);
}, 60_000);

afterAll(() => replicas?.close());

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
