import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  authorizeUrl,
  expectErrorPage,
  expectOAuthError,
  pkcePair,
  postRegistration,
  registerClient,
  tokenRequest,
  twoTenantConfig,
  type RegisteredClient,
} from '../helpers/oauth.js';

/**
 * Dynamic client registration (RFC 7591) with bad metadata, its management protocol (RFC 7592) without the
 * registration access token, and the per-address registration rate limit.
 */

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway(await twoTenantConfig());
});

afterAll(async () => {
  await gateway?.close();
});

const valid = { client_name: 'Registration test', redirect_uris: ['https://client.example.test/callback'], token_endpoint_auth_method: 'none' };

async function expectRegistrationError(response: Response, error: string, description: string | RegExp): Promise<void> {
  expect(response.headers.get('cache-control')).toBe('no-store');
  await expectOAuthError(response, 400, error, description);
}

describe('redirect URIs at registration', () => {
  it.each([
    ['a fragment', 'https://client.example.test/callback#frag', 'redirect_uri must not contain a fragment'],
    ['an empty fragment', 'https://client.example.test/callback#', 'redirect_uri must not contain a fragment'],
    ['http on a non-loopback host', 'http://client.example.test/callback', 'http redirect_uri is only allowed on a loopback host'],
    ['http on a private address', 'http://192.168.1.10/callback', 'http redirect_uri is only allowed on a loopback host'],
    ['a javascript: URI', 'javascript:alert(document.domain)', 'the javascript: scheme is not allowed in redirect_uri'],
    ['a JavaScript: URI in mixed case', 'JavaScript:alert(1)', 'the javascript: scheme is not allowed in redirect_uri'],
    ['a data: URI', 'data:text/html,<script>alert(1)</script>', 'the data: scheme is not allowed in redirect_uri'],
    ['a file: URI', 'file:///etc/passwd', 'the file: scheme is not allowed in redirect_uri'],
    ['a custom scheme without a dot', 'myapp://callback', 'a private-use redirect_uri scheme must be in reverse-domain form, e.g. com.example.app:'],
    ['a relative URI', '/callback', 'redirect_uri is not an absolute URI'],
    ['credentials', 'https://user:pass@client.example.test/callback', 'redirect_uri must not contain credentials'],
  ])('refuses %s with invalid_redirect_uri', async (_, uri, description) => {
    await expectRegistrationError(await postRegistration(gateway, { ...valid, redirect_uris: [uri] }), 'invalid_redirect_uri', description);
  });

  it('refuses a bad redirect URI beside a good one', async () => {
    const response = await postRegistration(gateway, { ...valid, redirect_uris: ['https://client.example.test/callback', 'javascript:alert(1)'] });
    await expectRegistrationError(response, 'invalid_redirect_uri', 'the javascript: scheme is not allowed in redirect_uri');
  });

  it.each([
    ['missing', {}],
    ['empty', { redirect_uris: [] }],
    ['a string instead of an array', { redirect_uris: 'https://client.example.test/callback' }],
    ['an array holding a number', { redirect_uris: [42] }],
  ])('refuses redirect_uris %s with invalid_redirect_uri naming the field', async (_, patch) => {
    const { redirect_uris: _dropped, ...rest } = valid;
    await expectRegistrationError(await postRegistration(gateway, { ...rest, ...patch }), 'invalid_redirect_uri', /^redirect_uris(\.\d+)?: /);
  });

  it('accepts a private-use scheme in reverse-domain form, and calls the client native', async () => {
    const response = await postRegistration(gateway, { ...valid, redirect_uris: ['com.example.app:/callback'] });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ redirect_uris: ['com.example.app:/callback'], application_type: 'native' });
  });

  it.each(['http://127.0.0.1/callback', 'http://127.0.0.1:8080/callback', 'http://localhost:8080/callback', 'http://[::1]:8080/callback'])(
    'accepts the loopback redirect %s and echoes application_type native, whatever the client claimed',
    async (uri) => {
      const response = await postRegistration(gateway, { ...valid, redirect_uris: [uri], application_type: 'web' });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ redirect_uris: [uri], application_type: 'native' });
    },
  );

  it('calls an https-only client web by default', async () => {
    expect((await registerClient(gateway, valid)).application_type).toBe('web');
  });
});

describe('other client metadata at registration', () => {
  it.each([
    ['an unknown token_endpoint_auth_method', { token_endpoint_auth_method: 'private_key_jwt' }, /^token_endpoint_auth_method: /],
    ['client_secret_jwt', { token_endpoint_auth_method: 'client_secret_jwt' }, /^token_endpoint_auth_method: /],
    ['grant_types with client_credentials', { grant_types: ['client_credentials'] }, /^grant_types\.0: /],
    ['grant_types with implicit', { grant_types: ['authorization_code', 'implicit'] }, /^grant_types\.1: /],
    ['grant_types with password', { grant_types: ['password'] }, /^grant_types\.0: /],
    ['empty grant_types', { grant_types: [] }, /^grant_types: /],
    ['refresh_token without authorization_code', { grant_types: ['refresh_token'] }, 'grant_types: refresh_token requires authorization_code'],
    ['response_types token', { response_types: ['token'] }, /^response_types\.0: /],
    ['response_types code token', { response_types: ['code', 'token'] }, /^response_types\.1: /],
    ['an http logo_uri', { logo_uri: 'http://client.example.test/logo.png' }, /^logo_uri: /],
    ['a javascript: client_uri', { client_uri: 'javascript:alert(1)' }, /^client_uri: /],
    ['an empty client_name', { client_name: '' }, /^client_name: /],
    ['a client_name of 201 characters', { client_name: 'x'.repeat(201) }, /^client_name: /],
    ['an unknown application_type', { application_type: 'browser' }, /^application_type: /],
  ])('refuses %s with invalid_client_metadata', async (_, patch, description) => {
    await expectRegistrationError(await postRegistration(gateway, { ...valid, ...patch }), 'invalid_client_metadata', description);
  });

  it.each([
    ['a body that is not JSON', '{"redirect_uris": [', 'application/json', 'the request body is not valid JSON'],
    ['a JSON array', JSON.stringify([valid]), 'application/json', 'the request body must be a JSON object'],
    ['JSON null', 'null', 'application/json', 'the request body must be a JSON object'],
    ['a JSON string', '"hello"', 'application/json', 'the request body must be a JSON object'],
    ['a form', new URLSearchParams({ redirect_uris: 'https://client.example.test/callback' }).toString(), 'application/x-www-form-urlencoded', 'the request body must be application/json'],
    ['JSON labelled text/plain', JSON.stringify(valid), 'text/plain', 'the request body must be application/json'],
    ['an empty body', '', 'application/json', 'the request body is not valid JSON'],
  ])('refuses %s with invalid_client_metadata', async (_, body, contentType, description) => {
    await expectRegistrationError(await postRegistration(gateway, body, { 'content-type': contentType }), 'invalid_client_metadata', description);
  });

  it('ignores unknown metadata fields: 201, and they are not echoed', async () => {
    const response = await postRegistration(gateway, { ...valid, is_admin: true, tenant: 'acme', jwks_uri: 'https://client.example.test/jwks', 'x-custom': { nested: 1 } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    for (const field of ['is_admin', 'tenant', 'jwks_uri', 'x-custom']) expect(body).not.toHaveProperty(field);
    expect(body).toMatchObject({ client_name: 'Registration test', redirect_uris: valid.redirect_uris, token_endpoint_auth_method: 'none' });
  });

  it('ignores a client_id or client_secret the client chose itself', async () => {
    const response = await postRegistration(gateway, { ...valid, token_endpoint_auth_method: 'client_secret_basic', client_id: 'chosen-id', client_secret: 'chosen-secret-chosen-secret-chosen' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { client_id: string; client_secret: string };
    expect(body.client_id).not.toBe('chosen-id');
    expect(body.client_secret).not.toBe('chosen-secret-chosen-secret-chosen');
    const chosen = await tokenRequest(gateway, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'chosen-id', client_secret: 'chosen-secret-chosen-secret-chosen' });
    await expectOAuthError(chosen, 401, 'invalid_client', 'the client is not registered');
  });

  it('gives a public client no secret and a confidential one a secret', async () => {
    const publicClient = await registerClient(gateway, valid);
    expect(publicClient).not.toHaveProperty('client_secret');
    const confidential = await registerClient(gateway, { ...valid, token_endpoint_auth_method: 'client_secret_post' });
    expect(confidential.client_secret).toMatch(/^[\w-]{43}$/);
  });
});

describe('client configuration endpoint (RFC 7592)', () => {
  let client: RegisteredClient;
  let other: RegisteredClient;

  beforeAll(async () => {
    client = await registerClient(gateway, valid);
    other = await registerClient(gateway, valid);
  });

  const manage = (method: string, uri: string, token: string | undefined, body?: unknown) =>
    fetch(uri, {
      method,
      headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  async function expectInvalidToken(response: Response): Promise<void> {
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    await expectOAuthError(response, 401, 'invalid_token', 'the registration access token is invalid');
  }

  it('hands out a registration URI under /register with a registration access token', () => {
    expect(client.registration_client_uri).toBe(`${gateway.baseUrl}/register/${client.client_id}`);
    expect(client.registration_access_token).toMatch(/^[\w-]{43}$/);
  });

  it.each(['GET', 'PUT', 'DELETE'])('refuses %s without the registration access token', async (method) => {
    const body = method === 'PUT' ? { ...valid, client_id: client.client_id } : undefined;
    await expectInvalidToken(await manage(method, client.registration_client_uri, undefined, body));
    await expectInvalidToken(await manage(method, client.registration_client_uri, `${client.registration_access_token}x`, body));
    await expectInvalidToken(await manage(method, client.registration_client_uri, other.registration_access_token, body));
    const basic = await fetch(client.registration_client_uri, { method, headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:x`).toString('base64')}` } });
    await expectInvalidToken(basic);
  });

  it('refuses a registration access token for an unknown client', async () => {
    await expectInvalidToken(await manage('GET', `${gateway.baseUrl}/register/no-such-client`, client.registration_access_token));
  });

  it('reads the client with its token (echoed, RFC 7592 §3), without the secret', async () => {
    const confidential = await registerClient(gateway, { ...valid, token_endpoint_auth_method: 'client_secret_basic' });
    const response = await manage('GET', confidential.registration_client_uri, confidential.registration_access_token);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ client_id: confidential.client_id, redirect_uris: valid.redirect_uris });
    expect(body).not.toHaveProperty('client_secret');
    expect(body.registration_access_token).toBe(confidential.registration_access_token);
  });

  it('changes the redirect URIs with PUT: the old one is then refused at /authorize, the new one admitted', async () => {
    const moved = await registerClient(gateway, valid);
    const response = await manage('PUT', moved.registration_client_uri, moved.registration_access_token, { ...valid, client_id: moved.client_id, redirect_uris: ['https://client.example.test/moved'] });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ client_id: moved.client_id, redirect_uris: ['https://client.example.test/moved'] });

    const authorize = (redirectUri: string) =>
      fetch(authorizeUrl(gateway, { response_type: 'code', client_id: moved.client_id, redirect_uri: redirectUri, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }), { redirect: 'manual' });
    await expectErrorPage(await authorize('https://client.example.test/callback'), 400, 'invalid_request', 'the redirect_uri is not registered for this client');
    const admitted = await authorize('https://client.example.test/moved');
    expect(admitted.status).toBe(200);
    expect(await admitted.text()).toContain('name="username"');
  });

  it('refuses a PUT with bad metadata, another client_id, a chosen secret, or a switch to a confidential client', async () => {
    const uri = client.registration_client_uri;
    const token = client.registration_access_token;
    await expectOAuthError(await manage('PUT', uri, token, { ...valid, client_id: client.client_id, redirect_uris: ['javascript:alert(1)'] }), 400, 'invalid_redirect_uri', 'the javascript: scheme is not allowed in redirect_uri');
    await expectOAuthError(await manage('PUT', uri, token, { ...valid, client_id: other.client_id }), 400, 'invalid_request', 'client_id must match the client being updated');
    await expectOAuthError(await manage('PUT', uri, token, { ...valid }), 400, 'invalid_request', 'client_id must match the client being updated');
    await expectOAuthError(await manage('PUT', uri, token, { ...valid, client_id: client.client_id, client_secret: 'mine' }), 400, 'invalid_request', 'client_secret does not match the current secret; it cannot be chosen by the client');
    await expectOAuthError(
      await manage('PUT', uri, token, { ...valid, client_id: client.client_id, token_endpoint_auth_method: 'client_secret_basic' }),
      400,
      'invalid_client_metadata',
      'token_endpoint_auth_method cannot change between public and confidential',
    );
    // Nothing changed.
    const current = await manage('GET', uri, token);
    expect(await current.json()).toMatchObject({ redirect_uris: valid.redirect_uris, token_endpoint_auth_method: 'none' });
  });

  it('accepts a PUT that repeats the current client_secret (RFC 7592 §2.2) and keeps that secret', async () => {
    const confidential = await registerClient(gateway, { ...valid, token_endpoint_auth_method: 'client_secret_basic' });
    const { client_secret, registration_access_token, registration_client_uri, client_id } = confidential;
    const response = await manage('PUT', registration_client_uri, registration_access_token, { ...valid, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'], client_id, client_secret, client_name: 'Renamed' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ client_id, client_name: 'Renamed', registration_access_token });
    const basic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
    await expectOAuthError(await tokenRequest(gateway, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic }), 400, 'invalid_grant');
  });

  it('deletes the client with DELETE: it is then unknown at /token, /authorize and /register', async () => {
    const doomed = await registerClient(gateway, { ...valid, token_endpoint_auth_method: 'client_secret_basic' });
    const basic = `Basic ${Buffer.from(`${doomed.client_id}:${doomed.client_secret}`).toString('base64')}`;
    // Before: the credentials are good (the grant is what fails).
    await expectOAuthError(await tokenRequest(gateway, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic }), 400, 'invalid_grant');

    const deleted = await manage('DELETE', doomed.registration_client_uri, doomed.registration_access_token);
    expect(deleted.status).toBe(204);

    const token = await tokenRequest(gateway, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic });
    expect(token.headers.get('www-authenticate')).toBe(`Basic realm="${gateway.config.issuer}"`);
    await expectOAuthError(token, 401, 'invalid_client', 'the client is not registered');
    const page = await fetch(authorizeUrl(gateway, { response_type: 'code', client_id: doomed.client_id, redirect_uri: valid.redirect_uris[0]!, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }), { redirect: 'manual' });
    await expectErrorPage(page, 400, 'invalid_client', 'the client is not registered');
    await expectInvalidToken(await manage('GET', doomed.registration_client_uri, doomed.registration_access_token));
    await expectInvalidToken(await manage('DELETE', doomed.registration_client_uri, doomed.registration_access_token));
  });
});

describe('registration rate limit per address', () => {
  // The clock stands still unless the test moves it.
  let clock = Date.now();
  let limited: TestGateway;

  beforeAll(async () => {
    limited = await startTestGateway({ rateLimits: { register: { perIp: { perMinute: 3 } } } }, { now: () => clock });
  });

  afterAll(async () => {
    await limited?.close();
  });

  it('answers 429 with Retry-After and the RateLimit fields past rateLimits.register.perIp, counting refused registrations too', async () => {
    for (let i = 0; i < 2; i++) expect((await postRegistration(limited, valid)).status).toBe(201);
    expect((await postRegistration(limited, { ...valid, redirect_uris: [] })).status).toBe(400);

    // A bucket of 3 a minute: the burst of 3 is spent, the next token comes in 20 s.
    for (const body of [valid, { ...valid, redirect_uris: [] }]) {
      const response = await postRegistration(limited, body);
      expect(response.headers.get('retry-after')).toBe('20');
      expect(response.headers.get('ratelimit-policy')).toBe('"register-ip";q=3;w=60');
      expect(response.headers.get('ratelimit')).toBe('"register-ip";r=0;t=20');
      await expectOAuthError(response, 429, 'temporarily_unavailable', 'too many requests; try again later');
    }

    clock += 20_000;
    expect((await postRegistration(limited, valid)).status).toBe(201);
    expect((await postRegistration(limited, valid)).status).toBe(429);
  });

  it('refuses registration with 403 when it is disabled, and does not advertise the endpoint', async () => {
    const closed = await startTestGateway({ registration: { enabled: false } });
    try {
      await expectOAuthError(await postRegistration(closed, valid), 403, 'access_denied', 'dynamic client registration is disabled');
      const metadata = (await (await fetch(`${closed.baseUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(metadata).not.toHaveProperty('registration_endpoint');
    } finally {
      await closed.close();
    }
  });
});
