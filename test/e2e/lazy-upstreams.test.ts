import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDemoServer } from '../../src/demo/server.js';
import { closedPort } from '../fixtures/faulty-upstreams.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// What each upstream offers is learned once per tenant upstream and cached: a session answers initialize from the
// cache and opens its upstream sessions on first use. An upstream that is down is left out for a while, not
// retried on every initialize.
let remote: ServedMcp;
let late: ServedMcp | undefined;
let latePort: number;
let gateway: TestGateway;
let token: string;
let clockOffset = 0;
const open: Client[] = [];

beforeAll(async () => {
  remote = await serveStreamableHttp(() => createDemoServer());
  latePort = await closedPort();
  gateway = await startTestGateway(
    {
      rateLimits: { register: { perIp: { perMinute: 1000 } } },
      tenants: [
        {
          id: 'default',
          upstreams: [
            { id: 'remote', transport: 'streamable-http', url: remote.url },
            { id: 'late', transport: 'streamable-http', url: `http://127.0.0.1:${latePort}/mcp`, timeoutMs: 2000 },
          ],
        },
      ],
    },
    { now: () => Date.now() + clockOffset },
  );
  token = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
});

afterAll(async () => {
  await Promise.all(open.map((client) => client.close()));
  await gateway?.close();
  await Promise.all([remote?.close(), late?.close()]);
});

async function connect(): Promise<Client> {
  const mcp = new Client({ name: 'lazy-test', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(gateway.resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  open.push(mcp);
  return mcp;
}

async function toolNames(mcp: Client): Promise<string[]> {
  return (await mcp.listTools()).tools.map((tool) => tool.name);
}

test('the first session learns what the upstreams offer; later ones answer initialize from that and connect on first use', async () => {
  const sessionsBefore = remote.sessions();
  const first = await connect();
  expect(remote.sessions()).toBe(sessionsBefore + 1);

  const requestsBefore = remote.requests.length;
  const second = await connect();
  // initialize, notifications/initialized and the client's GET stream reached the gateway, and nothing the upstream.
  expect(remote.requests.length).toBe(requestsBefore);
  expect(remote.sessions()).toBe(sessionsBefore + 1);
  expect(second.getServerCapabilities()).toEqual(first.getServerCapabilities());
  expect(second.getServerCapabilities()).toMatchObject({ tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } });

  const echoed = await second.callTool({ name: 'remote__echo', arguments: { text: 'lazy' } });
  expect(JSON.stringify(echoed.content)).toContain('lazy');
  expect(remote.sessions()).toBe(sessionsBefore + 2);
});

test('an upstream that is down is left out of new sessions for 30 s without being tried, then included once it is up', async () => {
  const without = await connect();
  expect((await toolNames(without)).filter((name) => name.startsWith('late__'))).toEqual([]);

  late = await serveStreamableHttp(() => createDemoServer(), { port: latePort });
  const stillWithout = await connect();
  expect((await toolNames(stillWithout)).filter((name) => name.startsWith('late__'))).toEqual([]);
  expect(late.requests).toEqual([]);

  clockOffset += 31_000;
  const withLate = await connect();
  expect(await toolNames(withLate)).toEqual(expect.arrayContaining(['late__echo', 'remote__echo']));
  expect(JSON.stringify((await withLate.callTool({ name: 'late__echo', arguments: { text: 'back' } })).content)).toContain('back');
});
