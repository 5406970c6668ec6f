import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { QUOTA_EXCEEDED } from '../../src/gate/quota.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// A real client over its limit gets a JSON-RPC error it can act on, and succeeds after waiting as told; new sessions
// reset nothing; another agent of the same tenant is unaffected.
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    tenants: [{ id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }], quotas: { limits: [{ id: 'echo-rate', per: ['client'], tools: ['echo'], rate: { perSecond: 1, burst: 2 } }] } }],
  });
});

afterAll(async () => {
  await gateway?.close();
});

async function agent(): Promise<() => Promise<Client>> {
  const token = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
  return async () => {
    const mcp = new Client({ name: 'quota-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(gateway.resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return mcp;
  };
}

const echo = (mcp: Client) => mcp.callTool({ name: 'demo__echo', arguments: { text: 'hi' } });

test('over the limit: a JSON-RPC error with retry data; after waiting, the call succeeds; sessions reset nothing', async () => {
  const [session, other] = [await agent(), await agent()];
  const first = await session();
  await echo(first);
  await echo(first);
  const refused = await echo(first).then(
    () => expect.unreachable('the third call within a second should be refused'),
    (error: unknown) => error as McpError,
  );
  expect(refused).toBeInstanceOf(McpError);
  expect(refused.code).toBe(QUOTA_EXCEEDED);
  const data = refused.data as { limit: string; remaining: number; retryAfterSeconds: number; resetAt: string };
  expect(data).toMatchObject({ limit: 'echo-rate', remaining: 0, retryAfterSeconds: 1 });
  expect(Date.parse(data.resetAt)).toBeGreaterThan(Date.now());

  // A new session of the same agent is still over the limit; another agent is not.
  const second = await session();
  await expect(echo(second)).rejects.toMatchObject({ code: QUOTA_EXCEEDED });
  const stranger = await other();
  expect((await echo(stranger)).isError).toBeFalsy();
  // Other tools are not counted by this limit.
  expect((await first.callTool({ name: 'demo__add', arguments: { a: 1, b: 2 } })).structuredContent).toEqual({ sum: 3 });

  await new Promise((resolve) => setTimeout(resolve, data.retryAfterSeconds * 1000 + 50));
  expect((await echo(first)).isError).toBeFalsy();
  await Promise.all([first.close(), second.close(), stranger.close()]);
});
