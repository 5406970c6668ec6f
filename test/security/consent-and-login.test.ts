import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authorizeUrl, authorizeWithForms, browserFetch, CookieJar, pkcePair, postForm, readForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({ rateLimits: { register: { perIp: { perMinute: 1000 } } } });
});
afterAll(async () => {
  await gateway?.close();
});

function request(client: RegisteredClient, redirectUri = client.redirect_uris[0]!): Record<string, string> {
  return { response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', state: 's' };
}

describe('remembered consent', () => {
  it('is reused for a confidential client, and the code after the login form comes with 303 (RFC 9700 §4.12)', async () => {
    const client = await registerClient(gateway, { token_endpoint_auth_method: 'client_secret_basic' });
    expect((await authorizeWithForms(gateway, request(client))).searchParams.get('code')).toBeTruthy();
    // A new browser: sign in again, but no consent page.
    const jar = new CookieJar();
    const login = await browserFetch(jar, authorizeUrl(gateway, request(client)));
    const form = readForm(await login.text());
    const signedIn = await browserFetch(jar, form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request_id: form.requestId, csrf_token: form.csrfToken, username: 'demo', password: 'demo' }).toString(),
    });
    expect(signedIn.status).toBe(303);
    expect(new URL(signedIn.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    // And a signed-in browser goes straight back with a code.
    const again = await browserFetch(jar, authorizeUrl(gateway, request(client)));
    expect(again.status).toBe(302);
  });

  it('is not reused for a public client on a loopback redirect, which any local app could claim (RFC 8252 §8.6)', async () => {
    const client = await registerClient(gateway, { redirect_uris: ['http://127.0.0.1/callback'] });
    const jar = new CookieJar();
    expect((await authorizeWithForms(gateway, request(client), { jar })).searchParams.get('code')).toBeTruthy();
    const impostor = await browserFetch(jar, authorizeUrl(gateway, request(client, 'http://127.0.0.1:47001/callback')));
    expect(impostor.status).toBe(200);
    expect(await impostor.text()).toContain('value="allow"');
    const silent = await browserFetch(jar, authorizeUrl(gateway, { ...request(client), prompt: 'none' }));
    expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('consent_required');
  });
});

describe('sign-in throttling', () => {
  // A gateway of its own: the failures below lock user demo out of this one for the rest of the window.
  let throttled: TestGateway;
  beforeAll(async () => {
    throttled = await startTestGateway({ rateLimits: { register: { perIp: { perMinute: 1000 } } } });
  });
  afterAll(async () => {
    await throttled?.close();
  });

  it('stops checking passwords for a username after 10 failures in a window, even for the right password', async () => {
    const client = await registerClient(throttled);
    const attempt = async (password: string) => {
      const jar = new CookieJar();
      const form = readForm(await (await browserFetch(jar, authorizeUrl(throttled, request(client)))).text());
      return browserFetch(jar, form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ request_id: form.requestId, csrf_token: form.csrfToken, username: 'demo', password }).toString(),
      });
    };
    for (let i = 0; i < 10; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401);
    const blocked = await attempt('demo');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.text()).toContain('Too many failed sign-in attempts');
  });
});

describe('paths under an MCP endpoint', () => {
  it.each([
    ['POST', '/mcp/'],
    ['POST', '/mcp/x'],
    ['GET', '/mcp/anything'],
    ['OPTIONS', '/mcp/'],
    ['POST', '/t/acme/mcp/'],
  ])('%s %s is 404, not an error', async (method, path) => {
    const response = await fetch(`${gateway.baseUrl}${path}`, { method, headers: { origin: 'https://app.example.com' } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
  });
});

it('refuses a form posted twice concurrently: only one consent issues a code', async () => {
  const client = await registerClient(gateway, { token_endpoint_auth_method: 'client_secret_basic', client_name: 'Twice' });
  const jar = new CookieJar();
  const login = readForm(await (await browserFetch(jar, authorizeUrl(gateway, request(client)))).text());
  const consentPage = await browserFetch(jar, login.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request_id: login.requestId, csrf_token: login.csrfToken, username: 'demo', password: 'demo' }).toString(),
  });
  const consent = readForm(await consentPage.text());
  const fields = { request_id: consent.requestId, csrf_token: consent.csrfToken, decision: 'allow' };
  const responses = await Promise.all([0, 1].map(() => postForm(consent.action, fields, { cookie: jar.header })));
  expect(responses.map((response) => response.status).sort()).toEqual([303, 400]);
});
