import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  authorizeUrl,
  browserFetch,
  CookieJar,
  expectErrorPage,
  expectNoInternals,
  expectOAuthError,
  pkcePair,
  readForm,
  registerClient,
  twoTenantConfig,
  type RegisteredClient,
} from '../helpers/oauth.js';

/**
 * Hostile request bodies at every endpoint that reads one: too large (16 KiB is the limit), malformed, of the wrong
 * media type, with repeated parameters, or empty. Each gets an exact OAuth error (an error page on the browser
 * endpoints); none is a 500 and none leaks a stack trace or a file path.
 */

const LIMIT = 16 * 1024;
let gateway: TestGateway;
let client: RegisteredClient;
const service = { clientId: 'svc-bodies', clientSecret: randomBytes(32).toString('base64url'), tenant: 'default' };

beforeAll(async () => {
  gateway = await startTestGateway(await twoTenantConfig({ clients: [service] }));
  client = await registerClient(gateway);
});

afterAll(async () => {
  await gateway?.close();
});

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/** The JSON endpoints and the media type each reads. */
const apiEndpoints: Array<[string, string]> = [
  ['/token', FORM],
  ['/register', JSON_TYPE],
  ['/revoke', FORM],
  ['/introspect', FORM],
];

function post(path: string, body: BodyInit, contentType: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.baseUrl}${path}`, {
    method: 'POST',
    headers: { ...(contentType !== undefined && { 'content-type': contentType }), ...headers },
    body,
    redirect: 'manual',
    // Needed by fetch for a streamed body.
    ...(body instanceof ReadableStream && { duplex: 'half' }),
  } as RequestInit);
}

/** A body of exactly `bytes` bytes in the endpoint's media type. */
function bodyOf(contentType: string, bytes: number): string {
  if (contentType === JSON_TYPE) {
    const prefix = '{"redirect_uris":["https://client.example.test/callback"],"token_endpoint_auth_method":"none","client_name":"';
    return `${prefix}${'x'.repeat(bytes - prefix.length - 2)}"}`;
  }
  const prefix = 'grant_type=client_credentials&padding=';
  return `${prefix}${'x'.repeat(bytes - prefix.length)}`;
}

/** A streamed body without Content-Length, sent in chunks of 1 KiB. */
function streamed(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + 1024));
      offset += 1024;
    },
  });
}

async function expectNoStore(response: Response): Promise<void> {
  expect(response.headers.get('cache-control')).toBe('no-store');
}

describe('oversized bodies', () => {
  it.each(apiEndpoints)('refuses a body over 16 KiB at %s with 413 invalid_request (by Content-Length)', async (path, contentType) => {
    const response = await post(path, bodyOf(contentType, LIMIT + 1), contentType);
    await expectNoStore(response);
    await expectOAuthError(response, 413, 'invalid_request', 'the request body is too large');
  });

  it.each(apiEndpoints)('refuses a streamed body over 16 KiB at %s with 413 invalid_request (no Content-Length)', async (path, contentType) => {
    const response = await post(path, streamed(bodyOf(contentType, 4 * LIMIT)), contentType);
    await expectOAuthError(response, 413, 'invalid_request', 'the request body is too large');
  });

  it('refuses a declared Content-Length over 16 KiB at /token before the body arrives', async () => {
    // The client announces 16 KiB + 1 but sends only a few bytes and waits: the answer must not wait for the rest.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${gateway.baseUrl}/token`, { method: 'POST', headers: { 'content-type': FORM, 'content-length': String(LIMIT + 1) } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write('grant_type=');
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toEqual({ error: 'invalid_request', error_description: 'the request body is too large' });
  });

  it('reads a body of exactly 16 KiB', async () => {
    const token = await post('/token', bodyOf(FORM, LIMIT), FORM);
    await expectOAuthError(token, 401, 'invalid_client', 'client authentication is required');
    const registration = await post('/register', bodyOf(JSON_TYPE, LIMIT), JSON_TYPE);
    expect(registration.status).toBe(400);
    // 16 KiB of client_name is too long a name, but it was read and parsed, not refused for its size.
    expect(((await registration.json()) as { error_description: string }).error_description).toMatch(/^client_name: /);
  });

  it.each([
    ['the authorization endpoint', '/authorize'],
    ['the login form', '/authorize/login'],
    ['the consent form', '/authorize/consent'],
  ])('refuses a body over 16 KiB at %s with the 413 error page', async (_, path) => {
    const response = await post(path, `request_id=${'x'.repeat(LIMIT)}`, FORM);
    await expectErrorPage(response, 413, 'invalid_request', 'the request body is too large');
  });
});

describe('malformed bodies', () => {
  it.each(apiEndpoints.filter(([, type]) => type === FORM).map(([path]) => path))('refuses a body that is not UTF-8 at %s', async (path) => {
    const response = await post(path, new Uint8Array([0x67, 0x72, 0x61, 0x6e, 0x74, 0x3d, 0xff, 0xfe, 0xc3]), FORM);
    await expectOAuthError(response, 400, 'invalid_request', 'the request body is not valid UTF-8');
  });

  it('refuses a JSON body that is not UTF-8 at /register', async () => {
    const response = await post('/register', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), JSON_TYPE);
    await expectOAuthError(response, 400, 'invalid_request', 'the request body is not valid UTF-8');
  });

  it.each([
    ['stray percent signs', '%%%&=&&==%zz', 400, 'invalid_request', 'the grant_type parameter is missing'],
    ['a lone key', 'grant_type', 400, 'invalid_request', 'the grant_type parameter is missing'],
    ['an invalid percent-encoding', 'grant_type=%E0%A4%A&client_id=%', 401, 'invalid_client', 'the client is not registered'],
    ['NUL characters', 'grant_type=%00&client_id=%00', 401, 'invalid_client', 'the client is not registered'],
  ])('answers a form with %s with an exact OAuth error', async (_, body, status, error, description) => {
    const response = await post('/token', body, FORM);
    await expectNoStore(response);
    await expectOAuthError(response, status, error, description);
  });

  it.each([
    ['truncated JSON', '{"redirect_uris": ["https://client.example.test/cb"'],
    ['a trailing comma', '{"redirect_uris": ["https://client.example.test/cb"],}'],
    ['single quotes', "{'redirect_uris': []}"],
    ['two documents', '{}{}'],
  ])('refuses %s at /register with invalid_client_metadata', async (_, body) => {
    await expectOAuthError(await post('/register', body, JSON_TYPE), 400, 'invalid_client_metadata', 'the request body is not valid JSON');
  });

  it('does not let a __proto__ key supply metadata', async () => {
    const body = '{"__proto__": {"redirect_uris": ["https://client.example.test/cb"], "token_endpoint_auth_method": "none"}}';
    await expectOAuthError(await post('/register', body, JSON_TYPE), 400, 'invalid_redirect_uri', /^redirect_uris: /);
  });

  it('survives deeply nested JSON within the size limit', async () => {
    const depth = 7000;
    const body = `{"redirect_uris":["https://client.example.test/cb"],"token_endpoint_auth_method":"none","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(body.length).toBeLessThanOrEqual(LIMIT);
    const response = await post('/register', body, JSON_TYPE);
    expect(response.status).toBe(201);
    expect(await response.json()).not.toHaveProperty('deep');
  });
});

describe('wrong media types', () => {
  it.each([
    ['/token', JSON_TYPE],
    ['/token', 'text/plain'],
    ['/token', 'multipart/form-data; boundary=x'],
    ['/token', undefined],
    ['/revoke', JSON_TYPE],
    ['/introspect', JSON_TYPE],
  ])('refuses %s with Content-Type %s', async (path, contentType) => {
    const response = await post(path, JSON.stringify({ grant_type: 'client_credentials', token: 'x' }), contentType);
    await expectNoStore(response);
    await expectOAuthError(response, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
  });

  it.each([FORM, 'text/plain', 'application/jsonp', undefined])('refuses /register with Content-Type %s', async (contentType) => {
    const response = await post('/register', JSON.stringify({ redirect_uris: ['https://client.example.test/cb'] }), contentType);
    await expectOAuthError(response, 400, 'invalid_client_metadata', 'the request body must be application/json');
  });

  it('accepts the media types with parameters and in any case', async () => {
    expect((await post('/register', JSON.stringify({ redirect_uris: ['https://client.example.test/cb'], token_endpoint_auth_method: 'none' }), 'Application/JSON; charset=utf-8')).status).toBe(201);
    const token = await post('/token', 'grant_type=client_credentials', 'Application/X-WWW-Form-URLEncoded; charset=UTF-8', { authorization: `Basic ${Buffer.from(`${service.clientId}:${service.clientSecret}`).toString('base64')}` });
    expect(token.status).toBe(200);
  });

  it('refuses a JSON authorization request at the authorization endpoint with the error page', async () => {
    await expectErrorPage(await post('/authorize', JSON.stringify({ client_id: client.client_id }), JSON_TYPE), 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
  });
});

describe('repeated parameters and empty bodies', () => {
  const basic = () => `Basic ${Buffer.from(`${service.clientId}:${service.clientSecret}`).toString('base64')}`;

  it('refuses a repeated token at /revoke and /introspect', async () => {
    for (const path of ['/revoke', '/introspect']) {
      await expectOAuthError(await post(path, 'token=a&token=b', FORM, { authorization: basic() }), 400, 'invalid_request', 'the token parameter is repeated');
    }
  });

  it('refuses a repeated client_secret at /token', async () => {
    const body = `grant_type=client_credentials&client_id=${service.clientId}&client_secret=${service.clientSecret}&client_secret=${service.clientSecret}`;
    await expectOAuthError(await post('/token', body, FORM), 400, 'invalid_request', 'the client_secret parameter is repeated');
  });

  it('refuses a repeated parameter in a POSTed authorization request with the error page', async () => {
    const body = new URLSearchParams([
      ['response_type', 'code'],
      ['client_id', client.client_id],
      ['code_challenge', pkcePair().challenge],
      ['code_challenge_method', 'S256'],
      ['scope', 'mcp'],
      ['scope', 'mcp'],
    ]).toString();
    await expectErrorPage(await post('/authorize', body, FORM), 400, 'invalid_request', 'the scope parameter is repeated');
  });

  it.each([
    ['/token', FORM, 400, 'invalid_request', 'the grant_type parameter is missing'],
    ['/register', JSON_TYPE, 400, 'invalid_client_metadata', 'the request body is not valid JSON'],
    ['/revoke', FORM, 401, 'invalid_client', 'client authentication is required'],
    ['/introspect', FORM, 401, 'invalid_client', 'client authentication is required'],
  ])('answers an empty body at %s', async (path, contentType, status, error, description) => {
    await expectOAuthError(await post(path, '', contentType), status, error, description);
  });

  it('refuses an empty body with valid client credentials at /revoke and /introspect', async () => {
    for (const path of ['/revoke', '/introspect']) {
      await expectOAuthError(await post(path, '', FORM, { authorization: basic() }), 400, 'invalid_request', 'the token parameter is missing');
    }
  });

  it('refuses an empty login form with the error page', async () => {
    await expectErrorPage(await post('/authorize/login', '', FORM), 400, 'invalid_request', 'this sign-in request has expired; start again from the application');
  });
});

describe('malformed client credentials', () => {
  it.each([
    ['a Basic credential that is not base64', 'Basic !!!'],
    ['a Basic credential without a colon', `Basic ${Buffer.from('no-colon').toString('base64')}`],
    ['a Basic credential that is not UTF-8', `Basic ${Buffer.from([0xff, 0x3a, 0xfe]).toString('base64')}`],
    ['a Basic credential with a bad percent-encoding', `Basic ${Buffer.from('%zz:secret').toString('base64')}`],
  ])('refuses %s as a failed client authentication (RFC 6749 §5.2: 401 invalid_client)', async (_, authorization) => {
    for (const path of ['/token', '/revoke', '/introspect']) {
      const response = await post(path, 'grant_type=client_credentials&token=x', FORM, { authorization });
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      await expectOAuthError(response, 401, 'invalid_client', 'the Authorization header is not valid Basic credentials');
    }
  });
});

describe('no internals on the wire', () => {
  it('answers a mixed bag of hostile requests without a 500 or a stack trace', async () => {
    const jar = new CookieJar();
    const page = await browserFetch(jar, authorizeUrl(gateway, { response_type: 'code', client_id: client.client_id, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }));
    const form = readForm(await page.text());
    const requests: Array<() => Promise<Response>> = [
      () => post('/token', 'grant_type=authorization_code&code=%00&code_verifier=x&client_id=%00', FORM),
      () => post('/token', `grant_type=refresh_token&refresh_token=${'\u{1F4A9}'.repeat(100)}&client_id=${client.client_id}`, FORM),
      () => post('/register', JSON.stringify({ redirect_uris: ['https://client.example.test/cb'], contacts: 'not-an-array', grant_types: { length: 1 } }), JSON_TYPE),
      () => post('/register', JSON.stringify({ redirect_uris: [null, {}, []] }), JSON_TYPE),
      () => post('/register', '1e999', JSON_TYPE),
      () => fetch(`${gateway.baseUrl}/register/${'%'.repeat(3)}`, { headers: { authorization: 'Bearer x' } }),
      () => fetch(`${gateway.baseUrl}/authorize?client_id=%E0%A4%A&redirect_uri=%`, { redirect: 'manual' }),
      () => fetch(`${gateway.baseUrl}/authorize?${'a=1&'.repeat(2000)}`, { redirect: 'manual' }),
      () => browserFetch(jar, `${gateway.baseUrl}/authorize/login`, { method: 'POST', headers: { 'content-type': FORM }, body: `request_id=${form.requestId}&csrf_token=${form.csrfToken}&username=${'%00'.repeat(50)}&password=` }),
      () => browserFetch(jar, `${gateway.baseUrl}/authorize/consent`, { method: 'POST', headers: { 'content-type': FORM }, body: `request_id=${form.requestId}&csrf_token=${form.csrfToken}&decision=allow` }),
      () => post('/authorize/consent', `request_id=${form.requestId}&csrf_token=${form.csrfToken}&decision=allow`, FORM, { cookie: 'portcullis-AAAAAAAAAA=a.b.c; x=%zz' }),
      () => fetch(`${gateway.baseUrl}/jwks`, { method: 'POST' }),
      () => fetch(`${gateway.baseUrl}/.well-known/oauth-protected-resource/${'..%2F'.repeat(10)}etc/passwd`),
      () => fetch(`${gateway.baseUrl}/t/${'x'.repeat(300)}/mcp`, { method: 'POST' }),
    ];
    for (const send of requests) {
      const response = await send();
      expectNoInternals(response.status, await response.text());
    }
  });
});
