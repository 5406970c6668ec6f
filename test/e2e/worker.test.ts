import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDemoServer } from '../../src/demo/server.js';
import { QUOTA_EXCEEDED } from '../../src/gate/quota.js';
import { serveSse, serveStreamableHttp, type ServedMcp, type ServedSse } from '../fixtures/serve.js';
import { BrowserOAuthProvider, launchBrowser } from '../helpers/browser.js';
import { demoPasswordHash } from '../helpers/gateway.js';
import { authorizeUrl, callMcp, expectErrorPage, expectOAuthError, oauthError, obtainCode, obtainTokens, pkcePair, redeemCode, registerClient, tokenRequest } from '../helpers/oauth.js';
import { createTestCertificate } from '../helpers/tls.js';
import { startWorker, type WorkerGateway } from '../helpers/wrangler.js';

// The gateway as Cloudflare runs it: the Worker of wrangler.toml under workerd (`wrangler dev`, local mode, on the
// Node 22 of the npm package node@22), its store and MCP sessions in Durable Objects, with a real MCP server on
// loopback as the upstream, a real browser for login and consent, and the MCP SDK as the client.

let worker: WorkerGateway;
let upstream: ServedMcp;
let legacy: ServedSse;
let browser: Browser;

beforeAll(async () => {
  [upstream, legacy, browser] = await Promise.all([serveStreamableHttp(() => createDemoServer()), serveSse(() => createDemoServer()), launchBrowser()]);
  worker = await startWorker({
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'] }],
    tenants: [
      {
        id: 'default',
        upstreams: [
          { id: 'demo', transport: 'streamable-http', url: upstream.url },
          { id: 'legacy', transport: 'sse', url: legacy.url },
        ],
        policy: { default: 'allow', rules: [{ id: 'no-clock', effect: 'deny', tools: ['current_time'] }] },
        quotas: {
          limits: [
            // Two limits in two Durable Objects: an admission spans both, and a refused one must give back the other.
            { id: 'sums-per-day', per: ['client'], tools: ['add'], window: { limit: 5, per: 'day' } },
            { id: 'sums-rate', per: ['client'], tools: ['add'], rate: { perSecond: 100, burst: 100 } },
          ],
        },
      },
    ],
  });
}, 180_000);

// What wrangler and the Worker printed tells why a test here failed.
beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(worker.output())));

afterAll(async () => {
  await Promise.all([browser?.close(), worker?.close(), upstream?.close(), legacy?.close()]);
});

async function connect(token: string): Promise<Client> {
  const mcp = new Client({ name: 'worker-e2e', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(worker.resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return mcp;
}

async function errorOf(promise: Promise<unknown>): Promise<McpError> {
  return promise.then(
    () => expect.unreachable('expected a JSON-RPC error'),
    (error: unknown) => error as McpError,
  );
}

describe('the Worker under workerd', () => {
  it('publishes its metadata for the public URL', async () => {
    const resource = await (await fetch(`${worker.baseUrl}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(resource).toMatchObject({ resource: worker.resource, authorization_servers: [worker.baseUrl] });
    const server = await (await fetch(`${worker.baseUrl}/.well-known/oauth-authorization-server`)).json();
    expect(server).toMatchObject({ issuer: worker.baseUrl, token_endpoint: `${worker.baseUrl}/token`, code_challenge_methods_supported: ['S256'] });
  });

  it('takes the MCP SDK client through discovery, registration, login and consent in a browser, then proxies its calls', async () => {
    const provider = new BrowserOAuthProvider(browser);
    const first = new StreamableHTTPClientTransport(new URL(worker.resource), { authProvider: provider });
    await expect(new Client({ name: 'worker-e2e', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    const callback = provider.callbacks[0]!;
    expect(callback.searchParams.get('iss')).toBe(worker.baseUrl);
    await first.finishAuth(callback.searchParams.get('code')!);
    expect(provider.tokens()).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });

    const mcp = new Client({ name: 'worker-e2e', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(worker.resource), { authProvider: provider }));
    try {
      // Each request of the session reaches the Durable Object holding it; policy hides the denied tool.
      const tools = (await mcp.listTools()).tools.map((tool) => tool.name).sort();
      const allowed = ['add', 'echo', 'note_list', 'note_read', 'note_write'];
      expect(tools).toEqual([...allowed.map((name) => `demo__${name}`), ...allowed.map((name) => `legacy__${name}`)].sort());
      // Streamable HTTP and the older HTTP+SSE transport, both from the Worker.
      for (const prefix of ['demo', 'legacy']) {
        expect(await mcp.callTool({ name: `${prefix}__echo`, arguments: { text: 'from the edge' } })).toMatchObject({ content: [{ type: 'text', text: 'from the edge' }] });
      }
      const denied = await errorOf(mcp.callTool({ name: 'demo__current_time', arguments: {} }));
      expect({ code: denied.code, message: denied.message }).toEqual({ code: -32602, message: 'MCP error -32602: Unknown tool: demo__current_time' });
    } finally {
      await mcp.close();
    }
    // The upstream saw the gateway's requests, never the client's token.
    expect(upstream.requests.length).toBeGreaterThan(0);
    expect(upstream.requests.every((request) => request.headers.authorization === undefined)).toBe(true);
  });

  it('with a loopback publicUrl (a development configuration), serves requests to a loopback host only', async () => {
    // The test Worker's publicUrl is http://127.0.0.1:<port>; the same request addressed to another host is refused.
    const statusFor = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(`${worker.baseUrl}/healthz`);
        const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await statusFor(new URL(worker.baseUrl).host)).toBe(200);
    expect(await statusFor('gateway.example.com')).toBe(503);
  });

  it('refuses a request without a token, and a session id that names no session', async () => {
    const anonymous = await fetch(worker.resource, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${worker.baseUrl}/.well-known/oauth-protected-resource/mcp", scope="mcp"`);

    const token = (await obtainTokens(worker, await registerClient(worker))).access_token;
    const unknown = await fetch(worker.resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
  });
});

describe('client metadata documents on the Worker', () => {
  // A live HTTPS server on loopback: refusing means no connection ever reaches it. (Private and metadata-service
  // addresses are refused by the same check, test/runtime/worker-fetch.test.ts; no test sends traffic there.)
  let documents: HttpsServer;
  let connections = 0;
  let port: number;
  beforeAll(async () => {
    const { cert, key } = createTestCertificate({ dnsNames: ['localhost'] });
    documents = createHttpsServer({ cert, key }, (_req, res) => res.writeHead(404).end());
    documents.on('connection', () => connections++);
    await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve));
    port = (documents.address() as AddressInfo).port;
  });
  afterAll(async () => {
    documents?.closeAllConnections();
    await new Promise((resolve) => documents?.close(resolve));
  });

  it.each([
    ['a loopback address', (port: number) => `https://127.0.0.1:${port}/client.json`],
    ['localhost', (port: number) => `https://localhost:${port}/client.json`],
    ['a name under localhost', (port: number) => `https://app.localhost:${port}/client.json`],
  ])('refuses a client metadata document on %s with the error page, without connecting', async (_, clientIdAt) => {
    const params = { response_type: 'code', client_id: clientIdAt(port), redirect_uri: 'https://client.example.test/callback', code_challenge: pkcePair().challenge, code_challenge_method: 'S256', state: 's' };
    await expectErrorPage(await fetch(authorizeUrl(worker, params), { redirect: 'manual' }), 400, 'invalid_client', 'client metadata document could not be retrieved');
    expect(connections).toBe(0);
  });
});

describe('atomic state on the Worker under concurrent requests', () => {
  it('redeems an authorization code once among ten concurrent token requests, and the replays revoke what it issued', async () => {
    const client = await registerClient(worker);
    const issued = await obtainCode(worker, client);
    const responses = await Promise.all(Array.from({ length: 10 }, () => redeemCode(worker, client.client_id, issued)));
    const outcomes = await Promise.all(
      responses.map(async (response) => (response.status === 200 ? { tokens: (await response.json()) as { access_token: string } } : { error: await oauthError(response), status: response.status })),
    );
    // One request won the code: it got tokens, or, overtaken by a replay, found its fresh grant revoked. Every other
    // request found the code spent.
    const won = outcomes.filter((outcome) => 'tokens' in outcome || outcome.error.error_description === 'the grant was revoked');
    expect(won).toHaveLength(1);
    for (const outcome of outcomes) {
      if ('error' in outcome) expect(outcome).toMatchObject({ status: 400, error: { error: 'invalid_grant' } });
      else expect((await callMcp(worker.resource, `Bearer ${outcome.tokens.access_token}`)).status).toBe(401);
    }
    expect(outcomes.filter((outcome) => 'error' in outcome && outcome.error.error_description === 'the authorization code was already used')).toHaveLength(9);
  });

  it('rotates a refresh token exactly once among concurrent refreshes', async () => {
    const client = await registerClient(worker);
    const tokens = await obtainTokens(worker, client);
    const refresh = () => tokenRequest(worker, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: client.client_id });
    const responses = await Promise.all(Array.from({ length: 8 }, refresh));
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    for (const response of responses.filter((candidate) => candidate.status !== 200)) await expectOAuthError(response, 400, 'invalid_grant');
  });

  it('admits exactly the daily limit among twelve concurrent calls, and the refused ones take nothing', async () => {
    const token = (await obtainTokens(worker, await registerClient(worker))).access_token;
    const mcp = await connect(token);
    try {
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => mcp.callTool({ name: 'demo__add', arguments: { a: i, b: 1 } })));
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: QUOTA_EXCEEDED, data: { limit: 'sums-per-day', remaining: 0 } });
      }
      // Another agent has a day of its own; the rate limit's bucket lost nothing to the seven refusals.
      const other = await connect((await obtainTokens(worker, await registerClient(worker))).access_token);
      expect((await other.callTool({ name: 'demo__add', arguments: { a: 1, b: 1 } })).structuredContent).toEqual({ sum: 2 });
      await other.close();
    } finally {
      await mcp.close();
    }
  });
});
