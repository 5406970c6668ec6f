import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { QUOTA_EXCEEDED } from '../../src/gate/quota.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import type { GatewayProcess } from '../helpers/gateway.js';
import { obtainTokens, registerClient, type GatewayUrls } from '../helpers/oauth.js';
import { startReplicas, type Replicas } from '../helpers/replicas.js';

// Test 1 of issue 5 for concurrency limits: two gateway processes on one Redis, many concurrent calls of a tool that
// holds until the test lets it go. Exactly the limit reaches the upstream at once, across both replicas; finished
// calls give their slots back; a replica killed while holding slots frees them when their leases expire.
const LIMIT = 3;
const LEASE_SECONDS = 3;
let replicas: Replicas;
let upstream: ServedMcp;
let a: GatewayProcess;
let b: GatewayProcess;
let urls: GatewayUrls;

/** The upstream's `hold` calls in flight, and what lets them finish. */
const held = { inFlight: 0, most: 0, waiting: [] as Array<() => void> };
const letGo = () => held.waiting.splice(0).forEach((resolve) => resolve());

function holdingServer(): McpServer {
  const server = new McpServer({ name: 'holding', version: '1.0.0' });
  server.registerTool('hold', { description: 'Returns when the test lets it go.' }, async () => {
    held.inFlight++;
    held.most = Math.max(held.most, held.inFlight);
    await new Promise<void>((resolve) => held.waiting.push(resolve));
    held.inFlight--;
    return { content: [{ type: 'text', text: 'done' }] };
  });
  return server;
}

beforeAll(async () => {
  upstream = await serveStreamableHttp(holdingServer);
  replicas = await startReplicas({
    tenants: [
      {
        id: 'default',
        upstreams: [{ id: 'slow', transport: 'streamable-http', url: upstream.url }],
        quotas: { limits: [{ id: 'in-flight', per: ['client'], concurrency: { limit: LIMIT, leaseSeconds: LEASE_SECONDS } }] },
      },
    ],
  });
  ({ a, b, urls } = replicas);
}, 60_000);

afterAll(async () => {
  letGo();
  await replicas?.close();
  await upstream?.close();
});

/** Sessions of one agent (one client, one token) on the given replicas, in turn. */
async function sessionsOf(count: number, replicas: GatewayProcess[]): Promise<Client[]> {
  const token = (await obtainTokens(urls, await registerClient(urls))).access_token;
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const mcp = new Client({ name: 'quota-concurrency', version: '1.0.0' });
      await mcp.connect(new StreamableHTTPClientTransport(new URL('/mcp', replicas[index % replicas.length]!.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      return mcp;
    }),
  );
}

/** Starts `calls` concurrent `hold` calls over the sessions and waits until every refusal is in and the rest are held. */
async function holdMany(sessions: Client[], calls: number, expectHeld: number) {
  let refused = 0;
  const outcomes = Array.from({ length: calls }, (_, index) =>
    sessions[index % sessions.length]!.callTool({ name: 'slow__hold', arguments: {} }).then(
      () => 'done' as const,
      (error: { code?: number }) => {
        expect(error.code).toBe(QUOTA_EXCEEDED);
        refused++;
        return 'refused' as const;
      },
    ),
  );
  await expect.poll(() => refused + held.inFlight, { timeout: 10_000 }).toBe(calls);
  expect(held.inFlight).toBe(expectHeld);
  return { refused, finished: () => Promise.all(outcomes) };
}

test('exactly the limit of calls is in flight at once across both replicas, and finished calls free their slots', async () => {
  const sessions = await sessionsOf(6, [a, b]);
  for (let round = 0; round < 2; round++) {
    const { refused, finished } = await holdMany(sessions, 4 * LIMIT, LIMIT);
    expect(refused).toBe(3 * LIMIT);
    letGo();
    expect((await finished()).filter((outcome) => outcome === 'done')).toHaveLength(LIMIT);
  }
  expect(held.most).toBe(LIMIT);
  await Promise.all(sessions.map((session) => session.close()));
});

test('a replica that dies holding slots frees them when their leases expire', async () => {
  const [onA, onB] = await sessionsOf(2, [a, b]);
  const victims = Array.from({ length: LIMIT }, () => onA!.callTool({ name: 'slow__hold', arguments: {} }).catch(() => 'gone'));
  await expect.poll(() => held.inFlight, { timeout: 10_000 }).toBe(LIMIT);
  await a.stop('SIGKILL');
  // The client would wait for its request time-out; closing it ends the calls the dead replica held.
  await onA!.close();
  await Promise.all(victims);
  // The same agent through the surviving replica: refused while the dead replica's leases last, admitted after.
  await expect(onB!.callTool({ name: 'slow__hold', arguments: {} })).rejects.toMatchObject({ code: QUOTA_EXCEEDED });
  letGo();
  await expect
    .poll(async () => {
      const call = onB!.callTool({ name: 'slow__hold', arguments: {} });
      const admitted = await Promise.race([call.then(() => true, () => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(held.inFlight > 0), 200))]);
      letGo();
      await call.catch(() => undefined);
      return admitted;
    }, { timeout: (LEASE_SECONDS + 5) * 1000, interval: 250 })
    .toBe(true);
  await onB!.close();
});
