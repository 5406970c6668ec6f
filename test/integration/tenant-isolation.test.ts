import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPasswordHash, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authorizeUrl, browserFetch, CookieJar, obtainCode, obtainTokens, pkcePair, registerClient, tenantResource, type RegisteredClient } from '../helpers/oauth.js';

// Two tenants of one gateway with the same upstream (so the same tool names), the same user and the same client:
// nothing of one — tools, sessions, notes, consents, tokens — shows in the other.
let gateway: TestGateway;
let client: RegisteredClient;
let acmeResource: string;
const tokens: Record<'default' | 'acme', string> = { default: '', acme: '' };

beforeAll(async () => {
  gateway = await startTestGateway({
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default', 'acme'] }],
    tenants: [
      { id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }] },
      { id: 'acme', name: 'Acme', upstreams: [{ id: 'demo', transport: 'demo' }], policy: { rules: [{ id: 'no-writes', effect: 'deny', tools: ['note_write'] }] } },
    ],
  });
  acmeResource = tenantResource(gateway, 'acme');
  client = await registerClient(gateway);
  tokens.default = (await obtainTokens(gateway, client, { resource: gateway.resource })).access_token;
  tokens.acme = (await obtainTokens(gateway, client, { resource: acmeResource })).access_token;
});

afterAll(async () => {
  await gateway?.close();
});

async function connect(resource: string, token: string): Promise<{ mcp: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const mcp = new Client({ name: 'isolation-test', version: '1.0.0' });
  await mcp.connect(transport);
  return { mcp, transport };
}

function post(resource: string, token: string, sessionId: string): Promise<Response> {
  return fetch(resource, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

describe('two tenants with the same upstream, user and client', () => {
  it('each token works only at its own tenant', async () => {
    for (const [resource, foreign] of [[gateway.resource, tokens.acme], [acmeResource, tokens.default]] as const) {
      const response = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${foreign}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('lists each tenant’s tools under its own policy, and keeps each tenant’s notes to itself', async () => {
    const home = await connect(gateway.resource, tokens.default);
    const acme = await connect(acmeResource, tokens.acme);
    try {
      const names = async (mcp: Client) => (await mcp.listTools()).tools.map((tool) => tool.name);
      expect(await names(home.mcp)).toContain('demo__note_write');
      expect(await names(acme.mcp)).not.toContain('demo__note_write');
      expect(await names(acme.mcp)).toContain('demo__note_read');

      await home.mcp.callTool({ name: 'demo__note_write', arguments: { title: 'plans', text: 'default tenant only' } });
      expect(JSON.stringify((await home.mcp.callTool({ name: 'demo__note_list', arguments: {} })).structuredContent)).toContain('plans');
      expect((await acme.mcp.callTool({ name: 'demo__note_list', arguments: {} })).structuredContent).toEqual({ notes: [] });
      await expect(acme.mcp.callTool({ name: 'demo__note_write', arguments: { title: 'x', text: 'y' } })).rejects.toThrow('Unknown tool: demo__note_write');
    } finally {
      await Promise.all([home.mcp.close(), acme.mcp.close()]);
    }
  });

  it('a session of one tenant does not exist at the other, with either token', async () => {
    const home = await connect(gateway.resource, tokens.default);
    try {
      const sessionId = home.transport.sessionId!;
      expect((await post(gateway.resource, tokens.default, sessionId)).status).toBe(200);
      // The right token for acme with default's session id: unknown there.
      expect((await post(acmeResource, tokens.acme, sessionId)).status).toBe(404);
      // default's token at acme's endpoint: refused before any session lookup.
      expect((await post(acmeResource, tokens.default, sessionId)).status).toBe(401);
    } finally {
      await home.mcp.close();
    }
  });

  it('a consent given in one tenant is not one given in the other', async () => {
    // A client consents in default only, in a browser that stays signed in.
    const fresh = await registerClient(gateway);
    const jar = new CookieJar();
    await obtainCode(gateway, fresh, { resource: gateway.resource }, { jar });
    const silently = (resource: string) =>
      browserFetch(jar, authorizeUrl(gateway, { response_type: 'code', client_id: fresh.client_id, redirect_uri: fresh.redirect_uris[0]!, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', resource, prompt: 'none' }));
    expect(new URL((await silently(gateway.resource)).headers.get('location')!).searchParams.get('code')).toBeTruthy();
    expect(new URL((await silently(acmeResource)).headers.get('location')!).searchParams.get('error')).toBe('consent_required');
  });
});
