import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// A gateway behind a TLS-terminating reverse proxy whose public URL has a path: the proxy strips /gw from
// ordinary paths and forwards /.well-known/* unchanged (README, "Behind a reverse proxy").
const PUBLIC = 'https://gateway.example.com/gw';
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({ publicUrl: PUBLIC, tenants: [{ id: 'default' }, { id: 'acme' }] });
});
afterAll(async () => {
  await gateway?.close();
});

const get = (path: string) => fetch(`${gateway.listenUrl}${path}`);

test('serves the authorization server metadata at the path-inserted and the OIDC-appended well-known URLs', async () => {
  for (const path of ['/.well-known/oauth-authorization-server/gw', '/.well-known/openid-configuration/gw', '/.well-known/openid-configuration']) {
    const response = await get(path);
    expect(response.status, path).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(PUBLIC);
    expect(metadata.token_endpoint).toBe(`${PUBLIC}/token`);
    expect(metadata.authorization_endpoint).toBe(`${PUBLIC}/authorize`);
  }
});

test('serves each tenant resource metadata at its path-inserted URL, with the public resource URL', async () => {
  for (const [path, resource] of [
    ['/.well-known/oauth-protected-resource/gw/mcp', `${PUBLIC}/mcp`],
    ['/.well-known/oauth-protected-resource/gw/t/acme/mcp', `${PUBLIC}/t/acme/mcp`],
  ] as const) {
    const response = await get(path);
    expect(response.status, path).toBe(200);
    expect(await response.json()).toMatchObject({ resource, authorization_servers: [PUBLIC] });
  }
  expect((await get('/.well-known/oauth-protected-resource/mcp')).status).toBe(404);
});

test('points unauthenticated MCP requests at the public resource metadata URL', async () => {
  const response = await fetch(`${gateway.listenUrl}/t/acme/mcp`, { method: 'POST', body: '{}' });
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe(
    'Bearer resource_metadata="https://gateway.example.com/.well-known/oauth-protected-resource/gw/t/acme/mcp", scope="mcp"',
  );
});

test('uses a Secure __Host- session cookie because the issuer is https', async () => {
  const response = await get(`/authorize?client_id=unknown`);
  expect(response.status).toBe(400);
  const registered = await fetch(`${gateway.listenUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['https://client.example.com/cb'], token_endpoint_auth_method: 'none' }),
  });
  const { client_id } = (await registered.json()) as { client_id: string };
  const login = await get(`/authorize?response_type=code&client_id=${client_id}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`);
  expect(login.status).toBe(200);
  expect(login.headers.get('set-cookie')).toMatch(/^__Host-portcullis-[\w-]{10}=[^;]+; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  expect(await login.text()).toContain(`action="${PUBLIC}/authorize/login"`);
});
