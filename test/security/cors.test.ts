import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { callMcp, obtainTokens, registerClient, tenantResource, twoTenantConfig } from '../helpers/oauth.js';

/**
 * CORS on each tenant's MCP endpoint: only that tenant's `allowedOrigins` are reflected, the preflight needs no token,
 * and browser clients may send and read the MCP and OAuth headers. No credentials (cookies) are ever allowed.
 */

const APP = 'https://app.example.test';
const ACME_APP = 'https://acme-app.example.test';
const FOREIGN = 'https://attacker.example.test';

let gateway: TestGateway;
let acme: string;

beforeAll(async () => {
  const config = await twoTenantConfig();
  gateway = await startTestGateway({
    ...config,
    tenants: [
      { id: 'default', name: 'Default tenant', allowedOrigins: [APP] },
      { id: 'acme', name: 'Acme', allowedOrigins: [ACME_APP] },
    ],
  });
  acme = tenantResource(gateway, 'acme');
});

afterAll(async () => {
  await gateway?.close();
});

function preflight(resource: string, origin: string, requestHeaders = 'authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id'): Promise<Response> {
  return fetch(resource, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders },
  });
}

const list = (value: string | null) => (value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter(Boolean);

describe('preflight requests', () => {
  it('answers 204 without a token for an allowed origin, reflecting it and allowing the MCP headers', async () => {
    const response = await preflight(gateway.resource, APP);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(list(response.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(['authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id']));
    expect(list(response.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post', 'delete']));
    expect(list(response.headers.get('vary'))).toContain('origin');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it.each([
    ['a foreign origin', FOREIGN],
    ['another tenant’s origin', ACME_APP],
    ['the allowed origin over http', APP.replace('https:', 'http:')],
    ['the allowed origin on another port', `${APP}:8443`],
    ['a subdomain of the allowed origin', APP.replace('app.', 'evil.app.')],
    ['the allowed origin as a prefix', `${APP}.attacker.test`],
    ['the opaque origin null', 'null'],
    ['the wildcard', '*'],
  ])('does not allow %s', async (_, origin) => {
    const response = await preflight(gateway.resource, origin);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it("reflects each tenant's own origins only", async () => {
    expect((await preflight(acme, ACME_APP)).headers.get('access-control-allow-origin')).toBe(ACME_APP);
    expect((await preflight(acme, APP)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight for an unknown tenant with 404 and no CORS headers', async () => {
    const response = await preflight(tenantResource(gateway, 'nobody'), APP);
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('actual requests', () => {
  it('lets an allowed origin read the 401 and its challenge', async () => {
    const response = await callMcp(gateway.resource, undefined, { headers: { origin: APP } });
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(list(response.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['mcp-session-id', 'www-authenticate', 'mcp-protocol-version']));
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/);
    expect(list(response.headers.get('vary'))).toContain('origin');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets an allowed origin read an authenticated response', async () => {
    const client = await registerClient(gateway);
    const { access_token: token } = await obtainTokens(gateway, client);
    const response = await callMcp(gateway.resource, `Bearer ${token}`, { headers: { origin: APP } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('gives a foreign origin no Access-Control-Allow-Origin, and refuses its request with 403 (DNS-rebinding protection)', async () => {
    const response = await callMcp(gateway.resource, undefined, { headers: { origin: FOREIGN } });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: this Origin may not use the MCP endpoint' }, id: null });
  });
});
