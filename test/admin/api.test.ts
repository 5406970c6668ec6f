import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../oauth/crypto.js';
import { createDemoServer } from '../../src/demo/server.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { demoPasswordHash, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient, tenantResource } from '../helpers/oauth.js';

// Test 4 of the issue, on one gateway: the admin API refuses without a token, with a wrong token and with a token for
// another tenant; a global admin creates a tenant that works at once; a tenant admin changes its policy, and a live
// session is told its tool list changed.
const GLOBAL = 'global-admin-token-0123456789abcdefghijklmnop';
const ACME = 'acme-admin-token-0123456789abcdefghijklmnopqrs';
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'] }],
    plans: [{ id: 'free', limits: [{ id: 'calls', per: ['client'], window: { limit: 100, per: 'day' } }] }],
    admin: {
      tokens: [
        { name: 'ops', tokenHash: await tokenHash(GLOBAL), tenants: ['*'] },
        { name: 'acme admins', tokenHash: await tokenHash(ACME), tenants: ['acme'] },
      ],
    },
  });
});

afterAll(async () => {
  await gateway?.close();
});

function admin(path: string, token: string | undefined, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${gateway.baseUrl}/admin/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...(init.body !== undefined && { 'content-type': 'application/json' }) },
    ...(init.body !== undefined && { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
}

const acmeTenant = {
  name: 'Acme',
  scopes: [{ name: 'notes:write' }],
  upstreams: [{ id: 'demo', transport: 'demo' }],
  members: { users: ['demo'] },
  policy: { rules: [] },
};

describe('admin API authentication', () => {
  it('refuses a request without a token, with a malformed one and with a wrong one', async () => {
    for (const token of [undefined, 'not a token', 'x'.repeat(40)]) {
      const response = await admin('/tenants', token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="portcullis-admin", error="invalid_token"$/);
      expect(await response.json()).toMatchObject({ error: 'invalid_token' });
    }
  });

  it('is refused entirely when no admin token is configured', async () => {
    const bare = await startTestGateway();
    try {
      const response = await fetch(`${bare.baseUrl}/admin/v1/tenants`, { headers: { authorization: `Bearer ${GLOBAL}` } });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: 'access_denied', error_description: 'the admin API is disabled: no admin token is configured (admin.tokens)' });
    } finally {
      await bare.close();
    }
  });

  it('serves the Prometheus metrics to global admins only', async () => {
    expect((await admin('/metrics', undefined)).status).toBe(401);
    expect((await admin('/metrics', ACME)).status).toBe(403);
    const response = await admin('/metrics', GLOBAL);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toContain('# TYPE portcullis_quota_decisions_total counter');
  });

  it('keeps a tenant admin to its tenants and out of global operations', async () => {
    expect((await admin('/tenants/default', ACME)).status).toBe(403);
    expect((await admin('/tenants/acme', ACME, { method: 'PUT', body: acmeTenant })).status).toBe(403);
    // Where the gateway connects (its network reach, its credentials) is not a tenant admin's to change.
    expect((await admin('/tenants/acme/upstreams', ACME, { method: 'PUT', body: [{ id: 'x', transport: 'streamable-http', url: 'http://169.254.169.254/mcp' }] })).status).toBe(403);
    const listed = (await (await admin('/tenants', ACME)).json()) as { tenants: Array<{ id: string }> };
    expect(listed.tenants.map((tenant) => tenant.id)).not.toContain('default');
  });
});

describe('tenants through the admin API', () => {
  it('validates a tenant whole, naming every problem by its path, and refuses stdio upstreams', async () => {
    const response = await admin('/tenants/broken', GLOBAL, {
      method: 'PUT',
      body: { upstreams: [{ id: 'local', transport: 'stdio', command: 'sh' }], policy: { rules: [{ id: 'r', effect: 'deny', when: 'args.x ==' }] }, colour: 'red' },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: Array<{ path: string; message: string }> };
    expect(body.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['(root)', 'policy.rules.0.when']));
    const stdio = await admin('/tenants/broken', GLOBAL, { method: 'PUT', body: { upstreams: [{ id: 'local', transport: 'stdio', command: 'sh' }] } });
    expect(await stdio.json()).toMatchObject({ issues: [{ path: 'upstreams.0.transport', message: 'stdio upstreams come from the configuration file only' }] });
    expect((await admin('/tenants/broken', GLOBAL)).status).toBe(404);
    expect((await admin('/tenants/Not_A_Slug', GLOBAL, { method: 'PUT', body: {} })).status).toBe(400);
    expect((await admin('/tenants/broken', GLOBAL, { method: 'PUT', body: '{not json' })).status).toBe(400);
  });

  it('accepts a tenant on a plan the configuration defines and refuses one it does not', async () => {
    const unknown = await admin('/tenants/planned', GLOBAL, { method: 'PUT', body: { quotas: { plan: 'free', agents: [{ clients: ['svc-*'], plan: 'gold' }] } } });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ issues: [{ path: 'quotas.agents.0.plan', message: 'no plan has the id "gold"' }] });
    const known = await admin('/tenants/planned', GLOBAL, { method: 'PUT', body: { quotas: { plan: 'free' } } });
    expect(known.status).toBe(201);
    expect(await known.json()).toMatchObject({ quotas: { plan: 'free' } });
    expect((await admin('/tenants/planned', GLOBAL, { method: 'DELETE' })).status).toBe(204);
  });

  it('leaves tenants of the configuration file to the file', async () => {
    const response = await admin('/tenants/default', GLOBAL, { method: 'PUT', body: { name: 'Renamed' } });
    expect(response.status).toBe(409);
    expect((await admin('/tenants/default/policy', GLOBAL, { method: 'PUT', body: { default: 'deny' } })).status).toBe(409);
    expect((await admin('/tenants/default', GLOBAL, { method: 'DELETE' })).status).toBe(409);
    expect(await (await admin('/tenants/default', GLOBAL)).json()).toMatchObject({ id: 'default', source: 'config', resource: gateway.resource });
  });

  it('creates a tenant that works at once; a policy change reaches a live session as list_changed; deleting ends it', async () => {
    const scopesSupported = async () => ((await (await fetch(`${gateway.baseUrl}/.well-known/oauth-authorization-server`)).json()) as { scopes_supported: string[] }).scopes_supported;
    expect(await scopesSupported()).not.toContain('notes:write');
    const created = await admin('/tenants/acme', GLOBAL, {
      method: 'PUT',
      body: { ...acmeTenant, upstreams: [{ id: 'demo', transport: 'demo' }, { id: 'docs', transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer upstream-secret' } }] },
    });
    expect(created.status).toBe(201);
    const view = (await created.json()) as Record<string, unknown>;
    expect(view).toMatchObject({ id: 'acme', name: 'Acme', source: 'api', resource: tenantResource(gateway, 'acme') });
    // Secrets never come back out.
    expect(JSON.stringify(view)).not.toContain('upstream-secret');
    expect((await admin('/tenants/acme', ACME)).status).toBe(200);
    // A global admin replaces the upstreams: the unreachable docs upstream goes.
    const upstreams = await admin('/tenants/acme/upstreams', GLOBAL, { method: 'PUT', body: [{ id: 'demo', transport: 'demo' }] });
    expect(upstreams.status).toBe(200);
    expect(((await upstreams.json()) as { upstreams: Array<{ id: string }> }).upstreams.map((upstream) => upstream.id)).toEqual(['demo']);
    // The authorization server's metadata lists the new tenant's scopes too.
    expect(await scopesSupported()).toContain('notes:write');

    // The new tenant is a resource of the authorization server and an MCP endpoint, now.
    const resource = tenantResource(gateway, 'acme');
    const token = (await obtainTokens(gateway, await registerClient(gateway), { resource })).access_token;
    const mcp = new Client({ name: 'admin-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await mcp.connect(transport);
    const names = async () => (await mcp.listTools()).tools.map((tool) => tool.name);
    expect(await names()).toContain('demo__note_write');

    const changed = new Promise<void>((resolve) => mcp.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
    const policy = await admin('/tenants/acme/policy', ACME, { method: 'PUT', body: { rules: [{ id: 'no-writes', effect: 'deny', tools: ['note_write'] }] } });
    expect(policy.status).toBe(200);
    await changed;
    expect(await names()).not.toContain('demo__note_write');
    expect(await (await admin('/tenants/acme/policy', ACME)).json()).toEqual({ default: 'allow', rules: [{ id: 'no-writes', effect: 'deny', tools: ['note_write'] }] });

    const broken = await admin('/tenants/acme/policy', ACME, { method: 'PUT', body: { rules: [{ id: 'r', effect: 'allow', scopes: ['nope'] }] } });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ issues: [{ path: 'policy.rules.0.scopes.0', message: 'the tenant defines no scope "nope"' }] });
    // Nothing of a refused change applies.
    expect(await names()).not.toContain('demo__note_write');

    expect((await admin('/tenants/acme', GLOBAL, { method: 'DELETE' })).status).toBe(204);
    const after = await fetch(resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    expect((await admin('/tenants/acme', GLOBAL)).status).toBe(404);
    await mcp.close().catch(() => undefined);
  });
});

describe('users and clients through the admin API', () => {
  let remote: ServedMcp;
  let own: TestGateway;
  const ownAdmin = (path: string, init: { method?: string } = {}) => fetch(`${own.baseUrl}/admin/v1${path}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${GLOBAL}` } });

  beforeAll(async () => {
    remote = await serveStreamableHttp(() => createDemoServer());
    own = await startTestGateway({
      rateLimits: { register: { perIp: { perMinute: 1000 } } },
      users: [
        { username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'], groups: ['staff'] },
        { username: 'other', passwordHash: await demoPasswordHash(), tenants: ['default'] },
      ],
      tenants: [{ id: 'default', upstreams: [{ id: 'remote', transport: 'streamable-http', url: remote.url }] }],
      admin: { tokens: [{ name: 'ops', tokenHash: await tokenHash(GLOBAL), tenants: ['*'] }, { name: 'acme admins', tokenHash: await tokenHash(ACME), tenants: ['acme'] }] },
    });
  });

  afterAll(async () => {
    await own?.close();
    await remote?.close();
  });

  async function session(token: string): Promise<Client> {
    const mcp = new Client({ name: 'revocation-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(own.resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    await mcp.listTools();
    return mcp;
  }

  function refresh(clientId: string, refreshToken: string): Promise<Response> {
    return fetch(`${own.baseUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }).toString() });
  }

  it('are for global admins only', async () => {
    for (const path of ['/users', '/users/demo', '/clients']) {
      expect((await fetch(`${own.baseUrl}/admin/v1${path}`, { headers: { authorization: `Bearer ${ACME}` } })).status).toBe(403);
    }
  });

  it('lists and shows users without their password hashes', async () => {
    const listed = await (await ownAdmin('/users')).text();
    expect(listed).not.toContain('pbkdf2');
    expect(JSON.parse(listed)).toEqual({
      users: [
        { username: 'demo', sub: 'local:demo', name: 'Demo user', tenants: ['default'], groups: ['staff'] },
        { username: 'other', sub: 'local:other', name: 'other', tenants: ['default'], groups: [] },
      ],
    });
    expect((await ownAdmin('/users/nobody')).status).toBe(404);
  });

  it('lists and shows registered clients without secrets', async () => {
    const registered = await registerClient(own, { token_endpoint_auth_method: 'client_secret_basic', client_name: 'Listed client' });
    const listed = (await (await ownAdmin('/clients')).json()) as { clients: Array<{ client_id: string; client_name?: string }> };
    expect(listed.clients[0]).toMatchObject({ client_id: registered.client_id, client_name: 'Listed client' });
    const shown = await (await ownAdmin(`/clients/${registered.client_id}`)).text();
    expect(JSON.parse(shown)).toMatchObject({ client_id: registered.client_id, kind: 'dynamic', token_endpoint_auth_method: 'client_secret_basic' });
    expect(shown).not.toContain(registered['client_secret'] as string);
    expect((await ownAdmin('/clients/no-such-client')).status).toBe(404);
  });

  it('revoking a client refuses its access and refresh tokens already issued and ends its sessions; a new authorization works', async () => {
    const victim = await registerClient(own);
    const bystander = await registerClient(own);
    const [tokens, kept] = [await obtainTokens(own, victim), await obtainTokens(own, bystander)];
    const before = remote.sessions();
    const [mcp, keptSession] = [await session(tokens.access_token), await session(kept.access_token)];
    expect(remote.sessions()).toBe(before + 2);

    const revoked = await ownAdmin(`/clients/${victim.client_id}/revoke`, { method: 'POST' });
    expect(await revoked.json()).toEqual({ revoked: victim.client_id });
    await expect.poll(() => remote.sessions()).toBe(before + 1);
    await expect(mcp.listTools()).rejects.toThrow();
    const refused = await fetch(own.resource, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await (await refresh(victim.client_id, tokens.refresh_token!)).json()).toMatchObject({ error: 'invalid_grant' });

    // The other client is untouched, and the revoked one can be authorized again.
    expect((await keptSession.listTools()).tools.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await obtainTokens(own, victim);
    expect((await (await session(again.access_token)).listTools()).tools.length).toBeGreaterThan(0);
    await keptSession.close();
  });

  it('revoking a user refuses the tokens issued for them, for every client', async () => {
    const client = await registerClient(own);
    const [demo, other] = [await obtainTokens(own, client), await obtainTokens(own, client, {}, { username: 'other' })];
    expect(await (await ownAdmin('/users/demo/revoke', { method: 'POST' })).json()).toEqual({ revoked: 'local:demo' });
    const call = (token: string) => fetch(own.resource, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) });
    expect((await call(demo.access_token)).status).toBe(401);
    expect((await call(other.access_token)).status).toBe(200);
    expect(await (await refresh(client.client_id, demo.refresh_token!)).json()).toMatchObject({ error: 'invalid_grant' });
  });
});
