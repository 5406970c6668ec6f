import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  authorizeUrl,
  authorizeWithForms,
  DEFAULT_REDIRECT_URI,
  expectErrorPage,
  expectErrorRedirect,
  pkcePair,
  redeemCode,
  registerClient,
  tenantResource,
  twoTenantConfig,
  type RegisteredClient,
} from '../helpers/oauth.js';

/**
 * Bad authorization requests (OAuth 2.1 §4.1.1-4.1.2.1): errors found before the client and its redirect URI are
 * trusted are shown on an error page and never redirect; later errors go back to the client with `iss` and `state`.
 */

let gateway: TestGateway;
let client: RegisteredClient;
let loopbackClient: RegisteredClient;
const pkce = pkcePair();

beforeAll(async () => {
  gateway = await startTestGateway(await twoTenantConfig());
  client = await registerClient(gateway);
  loopbackClient = await registerClient(gateway, { redirect_uris: ['http://127.0.0.1:3000/callback'] });
});

afterAll(async () => {
  await gateway?.close();
});

/** A valid authorization request of `client`, with some parameters replaced or (set to '') removed. */
function request(overrides: Record<string, string> = {}, of: RegisteredClient = client): Record<string, string> {
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: of.client_id,
    redirect_uri: of.redirect_uris[0]!,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'state-123',
    scope: 'mcp',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== ''));
}

const get = (params: Record<string, string> | Array<[string, string]>) => fetch(authorizeUrl(gateway, params), { redirect: 'manual' });

describe('PKCE at the authorization endpoint', () => {
  it.each([
    ['code_challenge is missing', { code_challenge: '', code_challenge_method: '' }, 'PKCE is required: the code_challenge parameter is missing'],
    ['code_challenge_method is plain', { code_challenge_method: 'plain' }, 'code_challenge_method must be S256'],
    ['code_challenge_method is omitted (it would mean plain)', { code_challenge_method: '' }, 'code_challenge_method must be S256'],
    ['code_challenge_method is unknown', { code_challenge_method: 'S512' }, 'code_challenge_method must be S256'],
    ['code_challenge is not a SHA-256 digest', { code_challenge: 'too-short' }, 'code_challenge must be a base64url SHA-256 digest'],
    ['code_challenge is longer than a SHA-256 digest', { code_challenge: `${pkce.challenge}A` }, 'code_challenge must be a base64url SHA-256 digest'],
  ])('redirects with invalid_request, iss and state when %s', async (_, overrides, description) => {
    expectErrorRedirect(await get(request(overrides)), { redirectUri: DEFAULT_REDIRECT_URI, error: 'invalid_request', state: 'state-123', issuer: gateway.config.issuer, description });
  });

  it('redirects without a state when the request had none', async () => {
    expectErrorRedirect(await get(request({ code_challenge_method: 'plain', state: '' })), { redirectUri: DEFAULT_REDIRECT_URI, error: 'invalid_request', issuer: gateway.config.issuer });
  });
});

describe('redirect URI at the authorization endpoint', () => {
  it.each([
    ['another path', 'https://client.example.test/other'],
    ['a trailing slash', 'https://client.example.test/callback/'],
    ['an added query', 'https://client.example.test/callback?next=/admin'],
    ['a fragment', 'https://client.example.test/callback#fragment'],
    ['another host', 'https://attacker.example.test/callback'],
    ['another port', 'https://client.example.test:8443/callback'],
    ['http instead of https', 'http://client.example.test/callback'],
    ['a javascript: URI', 'javascript:alert(document.domain)'],
    ['a data: URI', 'data:text/html,<script>alert(1)</script>'],
    ['a relative URI', '/callback'],
  ])('shows an error page, never a redirect, for %s', async (_, redirectUri) => {
    await expectErrorPage(await get(request({ redirect_uri: redirectUri })), 400, 'invalid_request', 'the redirect_uri is not registered for this client');
  });

  it('shows an error page when redirect_uri is omitted and the client registered more than one', async () => {
    const two = await registerClient(gateway, { redirect_uris: ['https://client.example.test/a', 'https://client.example.test/b'] });
    await expectErrorPage(await get(request({ redirect_uri: '' }, two)), 400, 'invalid_request', 'the redirect_uri parameter is missing');
  });

  it('uses the only registered redirect URI when redirect_uri is omitted', async () => {
    expectErrorRedirect(await get(request({ redirect_uri: '', code_challenge_method: 'plain' })), { redirectUri: DEFAULT_REDIRECT_URI, error: 'invalid_request', state: 'state-123', issuer: gateway.config.issuer });
  });

  it('admits a loopback redirect URI on any port (RFC 8252 §7.3) and sends the code to that port', async () => {
    const target = await authorizeWithForms(gateway, request({ redirect_uri: 'http://127.0.0.1:54321/callback' }, loopbackClient));
    expect(`${target.origin}${target.pathname}`).toBe('http://127.0.0.1:54321/callback');
    expect(target.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    expect(target.searchParams.get('iss')).toBe(gateway.config.issuer);
  });

  it('admits a loopback redirect URI without a port', async () => {
    const response = await get(request({ redirect_uri: 'http://127.0.0.1/callback' }, loopbackClient));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('name="username"');
  });

  it.each([
    ['another path', 'http://127.0.0.1:54321/other'],
    ['another loopback host name', 'http://localhost:54321/callback'],
    ['the IPv6 loopback', 'http://[::1]:54321/callback'],
    ['https instead of http', 'https://127.0.0.1:54321/callback'],
    ['an added query', 'http://127.0.0.1:54321/callback?x=1'],
    ['a fragment', 'http://127.0.0.1:54321/callback#x'],
    ['credentials', 'http://user:pass@127.0.0.1:54321/callback'],
    ['a non-loopback host', 'http://192.168.1.10:3000/callback'],
  ])('refuses a loopback redirect URI with %s', async (_, redirectUri) => {
    await expectErrorPage(await get(request({ redirect_uri: redirectUri }, loopbackClient)), 400, 'invalid_request', 'the redirect_uri is not registered for this client');
  });
});

describe('unknown or malformed client at the authorization endpoint', () => {
  it('shows an error page for an unknown client_id', async () => {
    await expectErrorPage(await get(request({ client_id: 'no-such-client' })), 400, 'invalid_client', 'the client is not registered');
  });

  it('shows an error page when client_id is missing', async () => {
    await expectErrorPage(await get(request({ client_id: '' })), 400, 'invalid_request', 'the client_id parameter is missing');
  });

  it('shows an error page when client_id is repeated', async () => {
    const params = Object.entries(request());
    await expectErrorPage(await get([...params, ['client_id', client.client_id]]), 400, 'invalid_request', 'the client_id parameter is repeated');
  });

  it('shows an error page when redirect_uri is repeated', async () => {
    const params = Object.entries(request());
    await expectErrorPage(await get([...params, ['redirect_uri', DEFAULT_REDIRECT_URI]]), 400, 'invalid_request', 'the redirect_uri parameter is repeated');
  });

  it('shows an error page for a deleted client', async () => {
    const doomed = await registerClient(gateway);
    const deleted = await fetch(doomed.registration_client_uri, { method: 'DELETE', headers: { authorization: `Bearer ${doomed.registration_access_token}` } });
    expect(deleted.status).toBe(204);
    await expectErrorPage(await get(request({}, doomed)), 400, 'invalid_client', 'the client is not registered');
  });
});

describe('repeated parameters after the client is trusted', () => {
  it.each(['scope', 'code_challenge', 'response_type'])('redirects with invalid_request when %s is repeated', async (name) => {
    const params: Array<[string, string]> = [...Object.entries(request({ resource: gateway.resource })), [name, 'mcp']];
    expectErrorRedirect(await get(params), { redirectUri: DEFAULT_REDIRECT_URI, error: 'invalid_request', state: 'state-123', issuer: gateway.config.issuer, description: `the ${name} parameter is repeated` });
  });

  it('redirects with invalid_target when several resources are requested (RFC 8707 §2: each token has one audience)', async () => {
    const params: Array<[string, string]> = [...Object.entries(request({ resource: gateway.resource })), ['resource', gateway.resource]];
    expectErrorRedirect(await get(params), { redirectUri: DEFAULT_REDIRECT_URI, error: 'invalid_target', state: 'state-123', issuer: gateway.config.issuer, description: 'only one resource may be requested' });
  });

  it('redirects without a state when state is the repeated parameter', async () => {
    expectErrorRedirect(await get([...Object.entries(request()), ['state', 'other']]), { redirectUri: DEFAULT_REDIRECT_URI, error: 'invalid_request', issuer: gateway.config.issuer, description: 'the state parameter is repeated' });
  });
});

describe('resource indicators (RFC 8707) at the authorization endpoint', () => {
  it.each([
    ['a resource of another server', 'https://elsewhere.example.test/mcp'],
    ['the resource with a trailing slash', () => `${gateway.resource}/`],
    ['the resource on another port', () => gateway.resource.replace(/:\d+\//, ':1/')],
    ['an unknown tenant', () => tenantResource(gateway, 'nobody')],
    ['the authorization server itself', () => gateway.baseUrl],
    ['not a URL', 'mcp'],
  ])('redirects with invalid_target for %s', async (_, resource) => {
    const value = typeof resource === 'function' ? resource() : resource;
    expectErrorRedirect(await get(request({ resource: value })), {
      redirectUri: DEFAULT_REDIRECT_URI,
      error: 'invalid_target',
      state: 'state-123',
      issuer: gateway.config.issuer,
      description: 'the resource is not served by this authorization server',
    });
  });

  it('accepts the resource of a second tenant', async () => {
    const response = await get(request({ resource: tenantResource(gateway, 'acme') }));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Sign in to <strong>Acme</strong>');
  });
});

describe('other request errors go back to the client', () => {
  it.each([
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'only response_type=code is supported'],
    ['no response_type', { response_type: '' }, 'invalid_request', 'the response_type parameter is missing'],
    ['a scope the tenant does not define', { scope: 'mcp admin' }, 'invalid_scope', 'the scope admin is not available for this resource'],
    ['prompt=none combined with login', { prompt: 'none login' }, 'invalid_request', 'prompt=none cannot be combined with other values'],
    ['prompt=none without a signed-in user', { prompt: 'none' }, 'login_required', 'the user is not signed in'],
  ])('redirects for %s', async (_, overrides, error, description) => {
    expectErrorRedirect(await get(request(overrides)), { redirectUri: DEFAULT_REDIRECT_URI, error, state: 'state-123', issuer: gateway.config.issuer, description });
  });

  it('redirects with access_denied when the user denies consent, and the request cannot be replayed', async () => {
    const target = await authorizeWithForms(gateway, request(), { decision: 'deny' });
    expect(target.searchParams.get('error')).toBe('access_denied');
    expect(target.searchParams.get('state')).toBe('state-123');
    expect(target.searchParams.get('iss')).toBe(gateway.config.issuer);
    expect(target.searchParams.get('code')).toBeNull();
  });

  it('issues a code that a token request for the same client and verifier redeems (the control for the cases above)', async () => {
    const target = await authorizeWithForms(gateway, request());
    const code = target.searchParams.get('code') ?? '';
    const response = await redeemCode(gateway, client.client_id, { code, verifier: pkce.verifier, redirectUri: DEFAULT_REDIRECT_URI, state: 'state-123' });
    expect(response.status).toBe(200);
  });
});
