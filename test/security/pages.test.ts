import { createHash } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { demoPasswordHash, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  authorizeUrl,
  browserFetch,
  CookieJar,
  DEFAULT_REDIRECT_URI,
  expectErrorPage,
  pkcePair,
  readForm,
  registerClient,
  tenantResource,
  type RegisteredClient,
} from '../helpers/oauth.js';

/**
 * The login, consent and error pages: anti-framing and content security headers, the session cookie's attributes
 * and issuer-bound name, login CSRF, and tenant membership at sign-in.
 */

let gateway: TestGateway;
let client: RegisteredClient;

beforeAll(async () => {
  const passwordHash = await demoPasswordHash();
  gateway = await startTestGateway({
    tenants: [
      { id: 'default', name: 'Default tenant' },
      { id: 'acme', name: 'Acme' },
    ],
    // demo may use only the default tenant and alice only acme (both with the password "demo").
    users: [
      { username: 'demo', name: 'Demo user', passwordHash, tenants: ['default'] },
      { username: 'alice', name: 'Alice', passwordHash, tenants: ['acme'] },
    ],
  });
  client = await registerClient(gateway);
});

afterAll(async () => {
  await gateway?.close();
});

function request(params: Record<string, string> = {}, at: TestGateway = gateway, of: RegisteredClient = client): string {
  return authorizeUrl(at, {
    response_type: 'code',
    client_id: of.client_id,
    redirect_uri: DEFAULT_REDIRECT_URI,
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    state: 'page-state',
    ...params,
  });
}

const cookieName = (issuer: string) => `portcullis-${createHash('sha256').update(issuer).digest('base64url').slice(0, 10)}`;

/** Opens the login page in a fresh "browser" (cookie jar). */
async function openLogin(params: Record<string, string> = {}, jar = new CookieJar()) {
  const response = await browserFetch(jar, request(params));
  const html = await response.text();
  expect(response.status, html).toBe(200);
  expect(html).toContain('name="username"');
  return { jar, response, html, form: readForm(html) };
}

function postPage(jar: CookieJar | undefined, url: string, fields: Record<string, string>): Promise<Response> {
  const init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
  return jar ? browserFetch(jar, url, init) : fetch(url, { ...init, redirect: 'manual' });
}

const login = (jar: CookieJar | undefined, form: { requestId: string; csrfToken: string }, username = 'demo', password = 'demo') =>
  postPage(jar, `${gateway.baseUrl}/authorize/login`, { request_id: form.requestId, csrf_token: form.csrfToken, username, password });

const consent = (jar: CookieJar | undefined, form: { requestId: string; csrfToken: string }, decision = 'allow') =>
  postPage(jar, `${gateway.baseUrl}/authorize/consent`, { request_id: form.requestId, csrf_token: form.csrfToken, decision });

function expectPageHeaders(response: Response): void {
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  const csp = response.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|script-src/);
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('cache-control')).toBe('no-store');
}

describe('security headers of the pages', () => {
  it('the login page cannot be framed and loads nothing from elsewhere', async () => {
    expectPageHeaders((await openLogin()).response);
  });

  it('the consent page cannot be framed', async () => {
    const { jar, form } = await openLogin();
    const response = await login(jar, form);
    const html = await response.text();
    expect(html).toContain('name="decision" value="allow"');
    expectPageHeaders(response);
  });

  it('the error page cannot be framed', async () => {
    const response = await fetch(request({ client_id: 'no-such-client' }), { redirect: 'manual' });
    expectPageHeaders(response);
    await expectErrorPage(response, 400, 'invalid_client');
  });

  it('the login page with an error (wrong password) cannot be framed either', async () => {
    const { jar, form } = await openLogin();
    const response = await login(jar, form, 'demo', 'wrong');
    expectPageHeaders(response);
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('role="alert">Incorrect username or password.</p>');
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Lax, host-wide, and named after a hash of the issuer', async () => {
    const { jar } = await openLogin();
    expect(jar.received).toHaveLength(1);
    const [cookie] = jar.received;
    const attributes = cookie!.split(';').map((part) => part.trim());
    expect(attributes[0]).toMatch(new RegExp(`^${cookieName(gateway.config.issuer)}=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
    expect(attributes).toContain('HttpOnly');
    expect(attributes).toContain('SameSite=Lax');
    expect(attributes).toContain('Path=/');
    expect(attributes).toContain('Max-Age=28800');
    // An http issuer (loopback development) cannot set Secure cookies; an https one gets __Host- and Secure.
    expect(attributes).not.toContain('Secure');
  });

  it('is named differently by two gateways on the same host, so their sessions never mix', async () => {
    const other = await startTestGateway({}, {});
    try {
      const otherClient = await registerClient(other);
      const jar = new CookieJar();
      // Sign in at this gateway: the jar now holds a signed-in session.
      const { form } = await openLogin({}, jar);
      expect((await login(jar, form)).status).toBe(200);
      // The other gateway on another port of 127.0.0.1 receives that cookie too (as a browser would send it) …
      const response = await browserFetch(jar, request({}, other, otherClient));
      expect(jar.names).toEqual([cookieName(gateway.config.issuer), cookieName(other.config.issuer)]);
      expect(cookieName(gateway.config.issuer)).not.toBe(cookieName(other.config.issuer));
      // … and ignores it: the user must sign in there.
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('name="username"');
    } finally {
      await other.close();
    }
  });
});

describe('login CSRF', () => {
  const FORGED = 'the form could not be verified; start again from the application';

  it('refuses the login form without the cookie, with a wrong or missing csrf_token, or from another browser', async () => {
    const { jar, form } = await openLogin();
    await expectErrorPage(await login(undefined, form), 403, 'invalid_request', FORGED);
    await expectErrorPage(await login(jar, { ...form, csrfToken: `${form.csrfToken}x` }), 403, 'invalid_request', FORGED);
    await expectErrorPage(await login(jar, { ...form, csrfToken: '' }), 403, 'invalid_request', FORGED);
    const { jar: otherBrowser, form: otherForm } = await openLogin();
    await expectErrorPage(await login(otherBrowser, form), 403, 'invalid_request', FORGED);
    await expectErrorPage(await login(jar, { requestId: form.requestId, csrfToken: otherForm.csrfToken }), 403, 'invalid_request', FORGED);

    // None of that spent the request: the genuine form still signs in.
    const response = await login(jar, form);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('name="decision" value="allow"');
  });

  it('refuses the consent form without the cookie or with a wrong csrf_token, then accepts the genuine one once', async () => {
    const { jar, form } = await openLogin();
    const consentForm = readForm(await (await login(jar, form)).text());
    await expectErrorPage(await consent(undefined, consentForm), 403, 'invalid_request', FORGED);
    await expectErrorPage(await consent(jar, { ...consentForm, csrfToken: 'guess' }), 403, 'invalid_request', FORGED);

    const allowed = await consent(jar, consentForm);
    expect(allowed.status).toBe(303);
    expect(new URL(allowed.headers.get('location') ?? '').searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    await expectErrorPage(await consent(jar, consentForm), 400, 'invalid_request', 'this sign-in request has expired; start again from the application');
  });

  it('refuses an unknown request_id', async () => {
    const { jar, form } = await openLogin();
    await expectErrorPage(await login(jar, { ...form, requestId: 'forged' }), 400, 'invalid_request', 'this sign-in request has expired; start again from the application');
  });

  it('does not accept a consent form from a browser that is not signed in', async () => {
    const { jar, form } = await openLogin();
    const response = await consent(jar, form);
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('role="alert">Please sign in again.</p>');
  });
});

describe('tenant membership at sign-in', () => {
  it("refuses a user who is not a member of the resource's tenant, and signs in one who is", async () => {
    const { jar, form } = await openLogin({ resource: tenantResource(gateway, 'acme') });
    const refused = await login(jar, form, 'demo', 'demo');
    expect(refused.status).toBe(403);
    expectPageHeaders(refused);
    const html = await refused.text();
    expect(html).toContain('role="alert">This account has no access to Acme.</p>');
    expect(html).toContain('name="username"');
    expect(html).not.toContain('name="decision"');

    const admitted = await login(jar, readForm(html), 'alice', 'demo');
    expect(admitted.status).toBe(200);
    expect(await admitted.text()).toContain('Authorize Security test client');
  });

  it('does not carry a session of one tenant over to a tenant the user is not a member of', async () => {
    const fresh = await registerClient(gateway);
    const jar = new CookieJar();
    const form = readForm(await (await browserFetch(jar, request({}, gateway, fresh))).text());
    expect((await login(jar, form)).status).toBe(200);
    // Signed in as demo: the default tenant goes straight to consent …
    const again = await browserFetch(jar, request({}, gateway, fresh));
    expect(await again.text()).toContain('name="decision"');
    // … but acme asks for a sign-in.
    const acme = await browserFetch(jar, request({ resource: tenantResource(gateway, 'acme') }, gateway, fresh));
    expect(acme.status).toBe(200);
    expect(await acme.text()).toContain('name="username"');
  });

  it('gives the same answer for an unknown user and a wrong password', async () => {
    for (const [username, password] of [['nobody', 'demo'], ['demo', 'nope']] as const) {
      const { jar, form } = await openLogin();
      const response = await login(jar, form, username, password);
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('role="alert">Incorrect username or password.</p>');
    }
  });
});

describe('in a real browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('refuses to render the login page in a frame of another site', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const messages: string[] = [];
      page.on('console', (message) => messages.push(message.text()));
      const framed = request();
      // The control frame (/healthz, which sends no anti-framing headers) shows that framing works at all.
      await page.setContent(`<iframe name="login" src="${framed}"></iframe><iframe name="control" src="${gateway.baseUrl}/healthz"></iframe>`, { waitUntil: 'load' });
      const control = page.frame({ name: 'control' });
      expect(await control?.evaluate(() => document.body.innerText)).toContain('"status":"ok"');
      const login = page.frame({ name: 'login' });
      expect(login).not.toBeNull();
      const content = await login!.evaluate(() => document.documentElement.outerHTML).catch((error: unknown) => `evaluate failed: ${String(error)}`);
      await expect.poll(() => messages.join('\n'), { timeout: 10_000 }).toContain(`violates the following Content Security Policy directive: "frame-ancestors 'none'"`);
      expect(login!.url()).toBe('chrome-error://chromewebdata/');
      expect(content).not.toContain('name="username"');
    } finally {
      await context.close();
    }
  });

  it('keeps the session cookie away from scripts', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(request());
      await page.getByLabel('Username').waitFor();
      const cookies = await context.cookies(gateway.baseUrl);
      expect(cookies.map((cookie) => [cookie.name, cookie.httpOnly, cookie.sameSite])).toEqual([[cookieName(gateway.config.issuer), true, 'Lax']]);
      expect(await page.evaluate(() => document.cookie)).toBe('');
    } finally {
      await context.close();
    }
  });
});
