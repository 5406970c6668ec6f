import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createTestCertificate } from '../helpers/tls.js';

// Test 5 of the issue: a client shaped like Claude. Claude identifies itself with a Client ID Metadata Document
// (an https URL as client_id), asks for `mcp offline_access` with `prompt=consent`, and refreshes. The document is
// served over https on loopback with a certificate made for this run, which only this gateway trusts. A second,
// confidential Claude-shaped client registers with DCR and authenticates with client_secret_post.

const DOCUMENT_PATH = '/oauth/mcp-oauth-client-metadata';

let documentServer: Server;
let documentOrigin: string;
let documentUrl: string;
let redirectUri: string;
const documentRequests: Array<{ path: string; accept: string | undefined }> = [];
let gateway: TestGateway;
let browser: Browser;

beforeAll(async () => {
  const { cert, key } = createTestCertificate();
  documentServer = createServer({ cert, key }, (req, res) => {
    documentRequests.push({ path: req.url ?? '', accept: req.headers.accept });
    if (req.url !== DOCUMENT_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = JSON.stringify({
      client_id: documentUrl,
      client_name: 'Claude',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => documentServer.listen(0, '127.0.0.1', resolve));
  documentOrigin = `https://127.0.0.1:${(documentServer.address() as AddressInfo).port}`;
  documentUrl = documentOrigin + DOCUMENT_PATH;
  // Claude's callback path, on the document's own origin; the browser's visit there is intercepted, nothing serves it.
  redirectUri = `${documentOrigin}/api/mcp/auth_callback`;
  [gateway, browser] = await Promise.all([
    startTestGateway({ clientMetadataDocuments: { allowLoopback: true } }, { clientMetadataCa: cert }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  documentServer?.closeAllConnections();
  await Promise.all([
    browser?.close(),
    gateway?.close(),
    documentServer && new Promise((resolve) => documentServer.close(resolve)),
  ]);
});

/** What a person sees on the consent page. */
interface ConsentView {
  heading: string;
  clientIdLabel: string;
  clientId: string;
  scopes: string[];
}

interface BrowserRun {
  /** The gateway's pages the person was shown, in order. */
  pages: Array<'login' | 'consent'>;
  /** Every navigation within the gateway, as `METHOD /path`. */
  navigations: string[];
  consent?: ConsentView;
  /** Where the gateway finally sent the browser. */
  redirect: URL;
}

const PAGE_SELECTOR = 'input[name="username"], button[value="allow"]';

/**
 * Like `authorizeInBrowser`, but in a browser context the caller keeps (so the gateway's session cookie survives
 * between authorizations), and reporting which pages were shown and what the consent page said.
 *
 * The redirect back to the client is taken from the browser's request for it, which is reported for redirects too.
 * (A route would not see it: Chromium follows a redirect in its network stack, before any route.) The browser then
 * fails to load the callback, whose https certificate it does not trust, so the request itself is never sent.
 */
async function authorizeIn(context: BrowserContext, authorizationUrl: string): Promise<BrowserRun> {
  const page = await context.newPage();
  try {
    const gatewayOrigin = new URL(authorizationUrl).origin;
    const navigations: string[] = [];
    const redirected = new Promise<URL>((resolve) => {
      page.on('request', (request) => {
        if (!request.isNavigationRequest() || request.frame() !== page.mainFrame()) return;
        const url = new URL(request.url());
        if (url.origin === gatewayOrigin) navigations.push(`${request.method()} ${url.pathname}`);
        else resolve(url);
      });
    });
    const pages: BrowserRun['pages'] = [];
    let consent: ConsentView | undefined;

    const pageShown = (selector: string) => page.waitForSelector(selector).then(() => undefined);
    // When the gateway redirects straight away, goto fails on the callback; that failure is expected only then.
    const opened = page.goto(authorizationUrl).then(
      () => pageShown(PAGE_SELECTOR),
      (error: unknown) => Promise.race([redirected, new Promise<never>((_, reject) => setTimeout(() => reject(error), 2000))]),
    );
    let shown = await Promise.race([redirected, opened]);
    if (shown === undefined && (await page.locator('input[name="username"]').count())) {
      pages.push('login');
      await page.getByLabel('Username').fill('demo');
      await page.getByLabel('Password').fill('demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      shown = await Promise.race([redirected, pageShown('button[value="allow"]')]);
    }
    if (shown === undefined) {
      pages.push('consent');
      consent = {
        heading: (await page.getByRole('heading', { level: 1 }).textContent()) ?? '',
        clientIdLabel: (await page.locator('dl.details dt').first().textContent()) ?? '',
        clientId: (await page.locator('dl.details dd code').first().textContent()) ?? '',
        scopes: await page.locator('ul.scopes code').allTextContents(),
      };
      await page.getByRole('button', { name: 'Allow' }).click();
      shown = await redirected;
    }
    return { pages, navigations, redirect: shown, ...(consent !== undefined && { consent }) };
  } finally {
    await page.close();
  }
}

/** A PKCE pair (RFC 7636 §4.1, §4.2) with S256. */
function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

interface ClaudeClient {
  clientId: string;
  /** The label the consent page gives the client_id. */
  clientIdLabel: 'Client metadata URL' | 'Client ID';
  /** Adds the client's authentication to a token request's form. */
  authenticate(form: URLSearchParams): void;
}

interface Authorized {
  code: string;
  verifier: string;
  run: BrowserRun;
}

/** Sends the browser through one authorization request the way Claude builds it, and checks the response. */
async function authorize(context: BrowserContext, client: ClaudeClient, options: { prompt?: 'consent' }): Promise<Authorized> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const url = new URL(`${gateway.baseUrl}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    scope: 'mcp offline_access',
    resource: gateway.resource,
    ...(options.prompt !== undefined && { prompt: options.prompt }),
  }).toString();
  const run = await authorizeIn(context, url.href);
  expect(run.redirect.origin + run.redirect.pathname).toBe(redirectUri);
  expect([...run.redirect.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
  expect(run.redirect.searchParams.get('state')).toBe(state);
  expect(run.redirect.searchParams.get('iss')).toBe(gateway.baseUrl);
  return { code: run.redirect.searchParams.get('code')!, verifier, run };
}

async function postToken(form: URLSearchParams, headers: Record<string, string> = {}): Promise<{ status: number; cacheControl: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${gateway.baseUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form,
  });
  return { status: response.status, cacheControl: response.headers.get('cache-control'), body: (await response.json()) as Record<string, unknown> };
}

async function redeem(client: ClaudeClient, { code, verifier }: Authorized) {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, resource: gateway.resource });
  client.authenticate(form);
  return postToken(form);
}

function expectTokenResponse(response: Awaited<ReturnType<typeof postToken>>, client: ClaudeClient): { accessToken: string; refreshToken: string } {
  expect(response).toEqual({
    status: 200,
    cacheControl: 'no-store',
    body: {
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'mcp offline_access',
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{32,}$/),
    },
  });
  const accessToken = response.body['access_token'] as string;
  expect(decodeJwt(accessToken)).toMatchObject({
    iss: gateway.baseUrl,
    aud: gateway.resource,
    sub: 'local:demo',
    client_id: client.clientId,
    tenant: 'default',
    scope: 'mcp offline_access',
  });
  return { accessToken, refreshToken: response.body['refresh_token'] as string };
}

/** An MCP initialize with the token: the gateway lets it through to the MCP endpoint, which has no upstream yet. */
async function expectMcpAccepts(accessToken: string): Promise<void> {
  const response = await fetch(gateway.resource, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'claude-ai', version: '0.1.0' } },
    }),
  });
  expect(response.status).toBe(200);
  await expect(response.json()).resolves.toEqual({
    jsonrpc: '2.0',
    id: 1,
    error: { code: -32010, message: 'no upstream MCP server is configured for tenant default' },
  });
}

/**
 * The whole Claude flow for one client, in one browser context: consent on `prompt=consent` (twice, the second
 * time after consent was remembered), code, tokens, refresh with rotation, and a remembered consent skipping the
 * page when `prompt=consent` is not sent.
 */
async function claudeFlow(client: ClaudeClient, checkClientAuthentication: (refreshToken: string) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    const expectedConsent: ConsentView = {
      heading: 'Authorize Claude',
      clientIdLabel: client.clientIdLabel,
      clientId: client.clientId,
      scopes: ['mcp', 'offline_access'],
    };

    // First authorization: sign in, consent, code.
    const first = await authorize(context, client, { prompt: 'consent' });
    expect(first.run.pages).toEqual(['login', 'consent']);
    expect(first.run.consent).toEqual(expectedConsent);

    const tokens = expectTokenResponse(await redeem(client, first), client);
    await expectMcpAccepts(tokens.accessToken);

    // The refresh request must authenticate the client the way it registered; a failed attempt spends nothing.
    await checkClientAuthentication(tokens.refreshToken);

    const refreshForm = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, resource: gateway.resource });
    client.authenticate(refreshForm);
    const refreshed = expectTokenResponse(await postToken(refreshForm), client);
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    await expectMcpAccepts(refreshed.accessToken);

    const replayForm = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
    client.authenticate(replayForm);
    await expect(postToken(replayForm)).resolves.toEqual({
      status: 400,
      cacheControl: 'no-store',
      body: { error: 'invalid_grant', error_description: 'the refresh token was already used' },
    });

    // prompt=consent again, already signed in and with consent remembered: the consent page is still shown.
    const second = await authorize(context, client, { prompt: 'consent' });
    expect(second.run.pages).toEqual(['consent']);
    expect(second.run.consent).toEqual(expectedConsent);
    expectTokenResponse(await redeem(client, second), client);

    // Without prompt=consent, the remembered consent lets the gateway redirect straight back: no page at all.
    const third = await authorize(context, client, {});
    expect(third.run.pages).toEqual([]);
    expect(third.run.navigations).toEqual(['GET /authorize']);
    expectTokenResponse(await redeem(client, third), client);
  } finally {
    await context.close();
  }
}

describe('a Claude-shaped client', () => {
  it('finds client ID metadata document support in the authorization server metadata', async () => {
    const response = await fetch(`${gateway.baseUrl}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toMatchObject({
      issuer: gateway.baseUrl,
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: expect.arrayContaining(['none', 'client_secret_post']),
      scopes_supported: expect.arrayContaining(['mcp', 'offline_access']),
      prompt_values_supported: expect.arrayContaining(['consent']),
    });
  });

  it('with a client ID metadata document: consent on every prompt=consent, code, tokens, refresh', async () => {
    documentRequests.length = 0;
    const client: ClaudeClient = {
      clientId: documentUrl,
      clientIdLabel: 'Client metadata URL',
      authenticate: (form) => form.set('client_id', documentUrl),
    };
    await claudeFlow(client, async (refreshToken) => {
      // A metadata-document client is public: a secret it could not have registered is refused.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: documentUrl, client_secret: 'not-a-secret-of-this-client' });
      await expect(postToken(form)).resolves.toMatchObject({
        status: 401,
        body: { error: 'invalid_client', error_description: 'the client must authenticate with none' },
      });
    });
    // The gateway fetched the document (once: it caches it) from the https URL that is the client_id.
    expect(documentRequests).toEqual([{ path: DOCUMENT_PATH, accept: 'application/json' }]);
  });

  it('registered with DCR as a confidential client (client_secret_post): the same flow, the secret in the body', async () => {
    const registration = await fetch(`${gateway.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Claude',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        scope: 'mcp offline_access',
      }),
    });
    expect(registration.status).toBe(201);
    const registered = (await registration.json()) as Record<string, unknown>;
    expect(registered).toMatchObject({
      client_id: expect.any(String),
      client_secret: expect.any(String),
      client_secret_expires_at: 0,
      client_name: 'Claude',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const clientId = registered['client_id'] as string;
    const clientSecret = registered['client_secret'] as string;
    const client: ClaudeClient = {
      clientId,
      clientIdLabel: 'Client ID',
      authenticate: (form) => {
        form.set('client_id', clientId);
        form.set('client_secret', clientSecret);
      },
    };

    await claudeFlow(client, async (refreshToken) => {
      const base = { grant_type: 'refresh_token', refresh_token: refreshToken };
      const invalidClient = (description: string) => ({
        status: 401,
        cacheControl: 'no-store',
        body: { error: 'invalid_client', error_description: description },
      });
      // No secret at all.
      await expect(postToken(new URLSearchParams({ ...base, client_id: clientId }))).resolves.toEqual(
        invalidClient('the client must authenticate with client_secret_post'),
      );
      // The right secret, but in the Authorization header instead of the body.
      const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
      await expect(postToken(new URLSearchParams(base), { authorization: basic })).resolves.toEqual(
        invalidClient('the client must authenticate with client_secret_post'),
      );
      // A wrong secret in the body.
      await expect(postToken(new URLSearchParams({ ...base, client_id: clientId, client_secret: `${clientSecret}x` }))).resolves.toEqual(
        invalidClient('the client credentials are invalid'),
      );
    });
  });
});
