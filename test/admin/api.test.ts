import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../oauth/crypto.js';
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
    registration: { enabled: true, perIpPerMinute: 1000 },
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'] }],
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

  it('keeps a tenant admin to its tenants and out of global operations', async () => {
    expect((await admin('/tenants/default', ACME)).status).toBe(403);
    expect((await admin('/tenants/acme', ACME, { method: 'PUT', body: acmeTenant })).status).toBe(403);
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

  it('leaves tenants of the configuration file to the file', async () => {
    const response = await admin('/tenants/default', GLOBAL, { method: 'PUT', body: { name: 'Renamed' } });
    expect(response.status).toBe(409);
    expect((await admin('/tenants/default/policy', GLOBAL, { method: 'PUT', body: { default: 'deny' } })).status).toBe(409);
    expect((await admin('/tenants/default', GLOBAL, { method: 'DELETE' })).status).toBe(409);
    expect(await (await admin('/tenants/default', GLOBAL)).json()).toMatchObject({ id: 'default', source: 'config', resource: gateway.resource });
  });

  it('creates a tenant that works at once; a policy change reaches a live session as list_changed; deleting ends it', async () => {
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
