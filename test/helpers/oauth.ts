import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { demoPasswordHash } from './gateway.js';

/**
 * OAuth flows against a running gateway driven with plain `fetch`: registration, the authorization request with
 * its login and consent forms (posted with the gateway's cookie, like a browser would), and the token endpoint.
 * A real browser is only needed where a test is about the browser itself.
 */

/** Where a gateway is reached; `TestGateway` satisfies it. */
export interface GatewayUrls {
  baseUrl: string;
  resource: string;
}

/**
 * A gateway configuration with two tenants, `default` (resource `<base>/mcp`) and `acme` (`<base>/t/acme/mcp`),
 * user demo/demo a member of both, and a registration rate limit high enough for a test file's registrations.
 */
export async function twoTenantConfig(extra: Partial<ConfigInput> = {}): Promise<Partial<ConfigInput>> {
  return {
    tenants: [
      { id: 'default', name: 'Default tenant' },
      { id: 'acme', name: 'Acme' },
    ],
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default', 'acme'] }],
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    ...extra,
  };
}

/** The MCP resource of a tenant other than the default one. */
export function tenantResource(gateway: GatewayUrls, tenant: string): string {
  return `${gateway.baseUrl}/t/${tenant}/mcp`;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A fresh PKCE pair (RFC 7636 §4.1-4.2): a 43-character verifier and its S256 challenge. */
export function pkcePair(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The client information response of RFC 7591 §3.2.1, as far as the tests read it. */
export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  registration_access_token: string;
  registration_client_uri: string;
  redirect_uris: string[];
  [field: string]: unknown;
}

export const DEFAULT_REDIRECT_URI = 'https://client.example.test/callback';

/** POSTs JSON to /register and returns the raw response. */
export function postRegistration(gateway: GatewayUrls, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * Registers a client (RFC 7591); by default a public client with the authorization_code and refresh_token grants
 * and one https redirect URI (never served: redirects are read, not followed).
 */
export async function registerClient(gateway: GatewayUrls, metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const response = await postRegistration(gateway, {
    client_name: 'Security test client',
    redirect_uris: [DEFAULT_REDIRECT_URI],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    ...metadata,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as RegisteredClient;
}

/** The cookies a gateway set, sent back on later requests like a browser would (per gateway, by name). */
export class CookieJar {
  readonly #cookies = new Map<string, string>();
  /** Every Set-Cookie line received, for tests of the attributes. */
  readonly received: string[] = [];

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      this.received.push(line);
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      if (/;\s*max-age=0\b/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(eq + 1).trim());
    }
  }

  get header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get names(): string[] {
    return [...this.#cookies.keys()];
  }
}

/** `fetch` that never follows redirects and keeps the cookie jar up to date. */
export async function browserFetch(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (jar.header) headers.set('cookie', jar.header);
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(response);
  return response;
}

/** POSTs an `application/x-www-form-urlencoded` body; pairs allow a field to be repeated. */
export function postForm(url: string, fields: Record<string, string> | Array<[string, string]>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

/** The hidden fields and action of the (first) form on a login or consent page. */
export interface PageForm {
  action: string;
  requestId: string;
  csrfToken: string;
}

export function readForm(html: string): PageForm {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
  const csrfToken = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
  if (action === undefined || requestId === undefined || csrfToken === undefined) throw new Error(`not a login or consent page:\n${html.slice(0, 500)}`);
  return { action: unescapeHtml(action), requestId: unescapeHtml(requestId), csrfToken: unescapeHtml(csrfToken) };
}

function unescapeHtml(value: string): string {
  return value.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
}

/** The authorization endpoint URL with the given query parameters; pairs allow a parameter to be repeated. */
export function authorizeUrl(gateway: GatewayUrls, params: Record<string, string> | Array<[string, string]>): string {
  return `${gateway.baseUrl}/authorize?${new URLSearchParams(params).toString()}`;
}

export interface SignInOptions {
  username?: string;
  password?: string;
  decision?: 'allow' | 'deny';
  /** Reuse a browser's cookies (e.g. to stay signed in); a fresh jar by default. */
  jar?: CookieJar;
}

/**
 * Runs an authorization request to its end like a person at a browser: GET /authorize, post the login form, post
 * the consent form. Returns where the gateway finally redirected (the client's redirect URI with `code` or `error`).
 * Fails the test when a step answers anything but a redirect or the expected page.
 */
export async function authorizeWithForms(gateway: GatewayUrls, params: Record<string, string>, options: SignInOptions = {}): Promise<URL> {
  const jar = options.jar ?? new CookieJar();
  let response = await browserFetch(jar, authorizeUrl(gateway, params));
  for (let step = 0; step < 3; step++) {
    if (response.status === 302 || response.status === 303) return new URL(response.headers.get('location') ?? '');
    const html = await response.text();
    expect(response.status, html).toBe(200);
    const form = readForm(html);
    const fields: Record<string, string> = { request_id: form.requestId, csrf_token: form.csrfToken };
    if (html.includes('name="username"')) {
      fields['username'] = options.username ?? 'demo';
      fields['password'] = options.password ?? 'demo';
    } else {
      fields['decision'] = options.decision ?? 'allow';
    }
    response = await browserFetch(jar, form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
  throw new Error(`the authorization request did not end in a redirect (last status ${response.status})`);
}

/** A code obtained for a client, with what the token request must repeat. */
export interface IssuedCode {
  code: string;
  verifier: string;
  redirectUri: string;
  state: string;
}

/**
 * Obtains an authorization code for `client` as user demo (or `options.username`), with PKCE S256 and a state.
 * `params` adds or overrides authorization request parameters (e.g. `resource`, `scope`, `redirect_uri`).
 */
export async function obtainCode(gateway: GatewayUrls, client: { client_id: string; redirect_uris: string[] }, params: Record<string, string> = {}, options: SignInOptions = {}): Promise<IssuedCode> {
  const pkce = pkcePair();
  const state = randomBytes(8).toString('base64url');
  const redirectUri = params['redirect_uri'] ?? client.redirect_uris[0]!;
  const target = await authorizeWithForms(
    gateway,
    { response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, code_challenge: pkce.challenge, code_challenge_method: 'S256', state, ...params },
    options,
  );
  const code = target.searchParams.get('code');
  if (code === null) throw new Error(`no code in the redirect: ${target.href}`);
  expect(target.searchParams.get('state')).toBe(state);
  return { code, verifier: pkce.verifier, redirectUri, state };
}

/** POSTs a form to /token. */
export function tokenRequest(gateway: GatewayUrls, fields: Record<string, string> | Array<[string, string]>, headers: Record<string, string> = {}): Promise<Response> {
  return postForm(`${gateway.baseUrl}/token`, fields, headers);
}

/** Redeems a code at /token as a public client; `extra` adds or overrides fields (an empty string removes one). */
export function redeemCode(gateway: GatewayUrls, clientId: string, issued: IssuedCode, extra: Record<string, string> = {}): Promise<Response> {
  const fields: Record<string, string> = {
    grant_type: 'authorization_code',
    code: issued.code,
    redirect_uri: issued.redirectUri,
    code_verifier: issued.verifier,
    client_id: clientId,
    ...extra,
  };
  return tokenRequest(gateway, Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== '')));
}

/** The successful token response of RFC 6749 §5.1. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** Obtains tokens for a public client through the whole code flow. */
export async function obtainTokens(gateway: GatewayUrls, client: { client_id: string; redirect_uris: string[] }, params: Record<string, string> = {}, options: SignInOptions = {}): Promise<TokenResponse> {
  const issued = await obtainCode(gateway, client, params, options);
  const response = await redeemCode(gateway, client.client_id, issued);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as TokenResponse;
}

/** POSTs a JSON-RPC `tools/list` request to an MCP endpoint with the given Authorization header (none if undefined). */
export function callMcp(resource: string, authorization: string | undefined, init: { query?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(resource + (init.query ?? ''), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(authorization !== undefined && { authorization }),
      ...init.headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
}

/** Reads an OAuth error response (RFC 6749 §5.2) and checks it is JSON. */
export async function oauthError(response: Response): Promise<{ error: string; error_description?: string }> {
  const text = await response.text();
  expectNoInternals(response.status, text);
  expect(response.headers.get('content-type') ?? '', text).toMatch(/^application\/json/);
  return JSON.parse(text) as { error: string; error_description?: string };
}

/** Asserts a response is the JSON OAuth error given (status, error and, when given, the description). */
export async function expectOAuthError(response: Response, status: number, error: string, description?: string | RegExp): Promise<void> {
  const body = await oauthError(response);
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  if (typeof description === 'string') expect(body.error_description).toBe(description);
  else if (description !== undefined) expect(body.error_description).toMatch(description);
}

/**
 * Asserts the gateway answered with its HTML error page (never a redirect: RFC 6749 §4.1.2.1) showing the given
 * error code and description.
 */
export async function expectErrorPage(response: Response, status: number, error: string, description?: string): Promise<string> {
  const html = await response.text();
  expectNoInternals(response.status, html);
  expect(response.headers.get('location'), 'the error page must not redirect').toBeNull();
  expect(response.status, html).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(html).toContain(`Error code: <code>${error}</code>`);
  if (description !== undefined) expect(html).toContain(`role="alert">${escapeHtml(description)}</p>`);
  return html;
}

function escapeHtml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/**
 * Asserts a redirect back to the client carries the error, the state and the issuer (RFC 6749 §4.1.2.1,
 * RFC 9207 §2) — on the registered redirect URI exactly.
 */
export function expectErrorRedirect(response: Response, expected: { redirectUri: string; error: string; state?: string; issuer: string; description?: string }): URL {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(expected.redirectUri);
  expect(location.searchParams.get('error')).toBe(expected.error);
  expect(location.searchParams.get('iss')).toBe(expected.issuer);
  expect(location.searchParams.get('state')).toBe(expected.state ?? null);
  expect(location.searchParams.get('code')).toBeNull();
  if (expected.description !== undefined) expect(location.searchParams.get('error_description')).toBe(expected.description);
  return location;
}

/** Fails when a response body leaks internals: a stack frame, a source path or a module path. */
export function expectNoInternals(status: number, body: string): void {
  expect(status, body).not.toBe(500);
  expect(body).not.toMatch(/\n\s+at |\bat [\w.<>]+ \(|file:\/\/|node:internal|node_modules|\/work\/|\.ts:\d+/);
}
