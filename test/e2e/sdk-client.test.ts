import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserOAuthProvider, launchBrowser, REDIRECT_URL } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Test 1 of the issue: the official MCP SDK client (1.32) against a real gateway, with a real browser for the
// user's part. Everything the SDK does on the wire goes through `recordingFetch`, so the test sees the discovery
// order the SDK actually follows.

interface Exchange {
  method: string;
  path: string;
  status: number;
  bearer: string | undefined;
  body: string | undefined;
  wwwAuthenticate: string | null;
}

/** A fetch that records every exchange (method, path, status, bearer token, body, challenge) and otherwise is fetch. */
function recordingFetch(log: Exchange[]): FetchLike {
  return async (url, init) => {
    const response = await fetch(url, init);
    const headers = new Headers(init?.headers);
    const bearer = /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1];
    log.push({
      method: init?.method ?? 'GET',
      path: new URL(url).pathname,
      status: response.status,
      bearer,
      body: typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : undefined,
      wwwAuthenticate: response.headers.get('www-authenticate'),
    });
    return response;
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

let gateway: TestGateway;
let browser: Browser;

beforeAll(async () => {
  [gateway, browser] = await Promise.all([startTestGateway(), launchBrowser()]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), gateway?.close()]);
});

describe('the MCP SDK client', () => {
  it('discovers, registers, authorizes in a browser, calls /mcp with the token and rotates its refresh token', async () => {
    const log: Exchange[] = [];
    const fetchFn = recordingFetch(log);
    const provider = new BrowserOAuthProvider(browser);
    const mcpUrl = new URL(gateway.resource);

    // 1. The first connection is refused with 401; the SDK discovers, registers and sends the user to authorize.
    const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchFn });
    const unauthorized = await rejection(new Client({ name: 'sdk-e2e', version: '1.0.0' }).connect(first));
    expect(unauthorized).toBeInstanceOf(UnauthorizedError);

    expect(log.map(({ method, path, status }) => `${method} ${path} ${status}`)).toEqual([
      'POST /mcp 401',
      'GET /.well-known/oauth-protected-resource/mcp 200',
      'GET /.well-known/oauth-authorization-server 200',
      'POST /register 201',
    ]);
    expect(log[0]?.wwwAuthenticate).toBe(`Bearer resource_metadata="${gateway.baseUrl}/.well-known/oauth-protected-resource/mcp", scope="mcp"`);
    const registration = JSON.parse(log[3]!.body!) as Record<string, unknown>;
    // The scope comes from the 401's WWW-Authenticate challenge (SEP-835).
    expect(registration).toMatchObject({ redirect_uris: [REDIRECT_URL], token_endpoint_auth_method: 'none', scope: 'mcp' });

    const clientInformation = provider.clientInformation();
    const clientId = clientInformation?.client_id;
    expect(clientId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(clientInformation).not.toHaveProperty('client_secret');

    expect(provider.authorizationUrls).toHaveLength(1);
    const authorizationUrl = provider.authorizationUrls[0]!;
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${gateway.baseUrl}/authorize`);
    expect(Object.fromEntries(authorizationUrl.searchParams)).toEqual({
      response_type: 'code',
      client_id: clientId,
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
      redirect_uri: REDIRECT_URL,
      state: provider.states[0],
      scope: 'mcp',
      resource: gateway.resource,
    });

    // 2. The browser came back to the redirect URI with a code, the state, and the issuer (RFC 9207).
    const callback = provider.callbacks[0]!;
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URL);
    expect([...callback.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(callback.searchParams.get('state')).toBe(provider.states[0]);
    expect(callback.searchParams.get('iss')).toBe(gateway.baseUrl);
    const code = callback.searchParams.get('code')!;

    // 3. The code is exchanged at the token endpoint.
    log.length = 0;
    await first.finishAuth(code);
    expect(log.map(({ method, path, status }) => `${method} ${path} ${status}`)).toContain('POST /token 200');
    const tokenRequest = new URLSearchParams(log.find((exchange) => exchange.path === '/token')!.body);
    expect(Object.fromEntries(tokenRequest)).toEqual({
      grant_type: 'authorization_code',
      code,
      code_verifier: provider.codeVerifier(),
      redirect_uri: REDIRECT_URL,
      client_id: clientId,
      resource: gateway.resource,
    });

    const tokens = provider.tokens()!;
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'mcp', refresh_token: expect.any(String) });
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: gateway.baseUrl,
      aud: gateway.resource,
      sub: 'local:demo',
      client_id: clientId,
      tenant: 'default',
      jti: expect.any(String),
    });
    expect(String(claims.scope).split(' ')).toContain('mcp');
    expect(claims.exp! - claims.iat!).toBe(900);

    // 4. With the token, the request reaches the MCP endpoint, whose JSON-RPC error reaches the client as an McpError.
    log.length = 0;
    const connected = await rejection(
      new Client({ name: 'sdk-e2e', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchFn })),
    );
    expect(connected).toBeInstanceOf(McpError);
    expect(connected).toMatchObject({ code: -32010, message: 'MCP error -32010: no upstream MCP server is configured for tenant default' });
    expect(log).toEqual([expect.objectContaining({ method: 'POST', path: '/mcp', status: 200, bearer: tokens.access_token })]);

    // 5. auth() with a stored refresh token refreshes (the SDK refreshes whenever one is stored, expired or not).
    log.length = 0;
    await expect(auth(provider, { serverUrl: mcpUrl, fetchFn })).resolves.toBe('AUTHORIZED');
    const refreshExchange = log.find((exchange) => exchange.path === '/token');
    expect(refreshExchange?.status).toBe(200);
    expect(Object.fromEntries(new URLSearchParams(refreshExchange!.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: clientId,
      resource: gateway.resource,
    });
    const refreshed = provider.tokens()!;
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: gateway.resource, client_id: clientId, tenant: 'default', scope: 'mcp' });

    // The refreshed token is accepted at /mcp as well.
    log.length = 0;
    const again = await rejection(
      new Client({ name: 'sdk-e2e', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchFn })),
    );
    expect(again).toMatchObject({ code: -32010 });
    expect(log).toEqual([expect.objectContaining({ path: '/mcp', status: 200, bearer: refreshed.access_token })]);

    // 6. The old refresh token was spent by the rotation.
    const replay = await fetch(`${gateway.baseUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId! }),
    });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('cache-control')).toBe('no-store');
    await expect(replay.json()).resolves.toEqual({ error: 'invalid_grant', error_description: 'the refresh token was already used' });
  });
});
