import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  callMcp,
  expectOAuthError,
  oauthError,
  obtainCode,
  obtainTokens,
  pkcePair,
  redeemCode,
  registerClient,
  tenantResource,
  tokenRequest,
  twoTenantConfig,
  type RegisteredClient,
  type TokenResponse,
} from '../helpers/oauth.js';

/**
 * Bad token requests (OAuth 2.1 §3.2, §4.1.3, §4.3): PKCE, single-use codes, redirect URI and resource binding,
 * client authentication and refresh-token rotation. Every answer, success or error, carries `Cache-Control: no-store`.
 */

let clock = Date.now();
let gateway: TestGateway;
let client: RegisteredClient;
let otherClient: RegisteredClient;

beforeAll(async () => {
  gateway = await startTestGateway(await twoTenantConfig(), { now: () => clock });
  client = await registerClient(gateway);
  otherClient = await registerClient(gateway);
});

afterAll(async () => {
  await gateway?.close();
});

/** An OAuth error answer from /token: the error, and no-store like every token response (RFC 6749 §5.2). */
async function expectTokenError(response: Response, status: number, error: string, description?: string): Promise<void> {
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
  await expectOAuthError(response, status, error, description);
}

async function expectTokens(response: Response): Promise<TokenResponse> {
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
  return (await response.json()) as TokenResponse;
}

/** The MCP endpoint accepts the access token (it answers the JSON-RPC request; no upstream exists yet). */
async function expectAccepted(token: string, resource = gateway.resource): Promise<void> {
  const response = await callMcp(resource, `Bearer ${token}`);
  expect(response.status, await response.clone().text()).toBe(200);
  expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32010);
}

async function expectRevoked(token: string): Promise<void> {
  const response = await callMcp(gateway.resource, `Bearer ${token}`);
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  expect(await response.json()).toEqual({ error: 'invalid_token', error_description: 'the access token was revoked' });
}

const refresh = (refreshToken: string, extra: Record<string, string> = {}, clientId = client.client_id) =>
  tokenRequest(gateway, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });

describe('PKCE at the token endpoint', () => {
  it('refuses a missing code_verifier with invalid_request, and the code still works afterwards', async () => {
    const issued = await obtainCode(gateway, client);
    await expectTokenError(await redeemCode(gateway, client.client_id, issued, { code_verifier: '' }), 400, 'invalid_request', 'PKCE is required: the code_verifier parameter is missing');
    await expectTokens(await redeemCode(gateway, client.client_id, issued));
  });

  it('refuses a malformed code_verifier with invalid_request', async () => {
    const issued = await obtainCode(gateway, client);
    await expectTokenError(await redeemCode(gateway, client.client_id, issued, { code_verifier: 'short' }), 400, 'invalid_request', 'code_verifier must be 43-128 unreserved characters');
  });

  it('refuses a wrong verifier with invalid_grant without burning the code: the right verifier then works once', async () => {
    const issued = await obtainCode(gateway, client);
    await expectTokenError(await redeemCode(gateway, client.client_id, issued, { code_verifier: pkcePair().verifier }), 400, 'invalid_grant', 'PKCE verification failed');
    // The challenge itself is not a verifier either (what a client using "plain" would send).
    const challenge = pkcePair().challenge;
    await expectTokenError(await redeemCode(gateway, client.client_id, issued, { code_verifier: challenge }), 400, 'invalid_grant', 'PKCE verification failed');
    const tokens = await expectTokens(await redeemCode(gateway, client.client_id, issued));
    await expectAccepted(tokens.access_token);
    await expectTokenError(await redeemCode(gateway, client.client_id, issued), 400, 'invalid_grant', 'the authorization code was already used');
  });
});

describe('authorization code replay', () => {
  it('refuses a second redemption and revokes every token the first one issued', async () => {
    const issued = await obtainCode(gateway, client);
    const first = await expectTokens(await redeemCode(gateway, client.client_id, issued));
    await expectAccepted(first.access_token);

    await expectTokenError(await redeemCode(gateway, client.client_id, issued), 400, 'invalid_grant', 'the authorization code was already used');

    await expectRevoked(first.access_token);
    await expectTokenError(await refresh(first.refresh_token!), 400, 'invalid_grant', 'the refresh token was revoked');
  });

  it('also revokes the tokens a refresh already derived from the replayed code', async () => {
    const issued = await obtainCode(gateway, client);
    const first = await expectTokens(await redeemCode(gateway, client.client_id, issued));
    const rotated = await expectTokens(await refresh(first.refresh_token!));
    await expectTokenError(await redeemCode(gateway, client.client_id, issued), 400, 'invalid_grant', 'the authorization code was already used');
    await expectRevoked(rotated.access_token);
    await expectTokenError(await refresh(rotated.refresh_token!), 400, 'invalid_grant', 'the refresh token was revoked');
  });

  it('treats two concurrent redemptions as a replay: at most one token response, and nothing it issued stays usable', async () => {
    // Several rounds, because which request wins, and how far the winner got when the loser arrives, varies.
    for (let round = 0; round < 5; round++) {
      const issued = await obtainCode(gateway, client);
      const responses = await Promise.all([redeemCode(gateway, client.client_id, issued), redeemCode(gateway, client.client_id, issued)]);
      const granted = responses.filter((response) => response.status === 200);
      expect(granted.length, 'token responses to two concurrent redemptions of one code').toBeLessThanOrEqual(1);
      for (const response of responses.filter((candidate) => candidate.status !== 200)) {
        // The loser finds the code spent; a winner overtaken by the replay finds its new grant already revoked.
        const { error, error_description } = await oauthError(response.clone());
        expect(response.status).toBe(400);
        expect(error).toBe('invalid_grant');
        expect(['the authorization code was already used', 'the grant was revoked']).toContain(error_description);
      }
      for (const response of granted) {
        const tokens = await expectTokens(response);
        await expectRevoked(tokens.access_token);
        await expectTokenError(await refresh(tokens.refresh_token!), 400, 'invalid_grant', 'the refresh token was revoked');
      }
    }
  });

  it('refuses an unknown code and an expired one', async () => {
    const issued = await obtainCode(gateway, client);
    await expectTokenError(await redeemCode(gateway, client.client_id, { ...issued, code: `${issued.code}x` }), 400, 'invalid_grant', 'the authorization code is invalid');
    clock += 61_000;
    await expectTokenError(await redeemCode(gateway, client.client_id, issued), 400, 'invalid_grant', 'the authorization code has expired');
  });
});

describe('the code is bound to its client, redirect URI and resource', () => {
  it('refuses the code of another client with invalid_grant without burning it', async () => {
    const issued = await obtainCode(gateway, client);
    await expectTokenError(await redeemCode(gateway, otherClient.client_id, issued), 400, 'invalid_grant', 'the authorization code was issued to another client');
    await expectTokens(await redeemCode(gateway, client.client_id, issued));
  });

  it('does not let another client revoke a grant by replaying its spent code', async () => {
    const issued = await obtainCode(gateway, client);
    const tokens = await expectTokens(await redeemCode(gateway, client.client_id, issued));
    await expectTokenError(await redeemCode(gateway, otherClient.client_id, issued), 400, 'invalid_grant', 'the authorization code was issued to another client');
    await expectAccepted(tokens.access_token);
  });

  it.each([
    ['another redirect_uri', { redirect_uri: 'https://client.example.test/other' }],
    ['no redirect_uri although the authorization request sent one', { redirect_uri: '' }],
    ['the redirect_uri with a trailing slash', { redirect_uri: 'https://client.example.test/callback/' }],
  ])('refuses %s with invalid_grant without burning the code', async (_, extra) => {
    const issued = await obtainCode(gateway, client);
    await expectTokenError(await redeemCode(gateway, client.client_id, issued, extra), 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    await expectTokens(await redeemCode(gateway, client.client_id, issued));
  });

  it('refuses another loopback port than the one the code was sent to', async () => {
    const loopback = await registerClient(gateway, { redirect_uris: ['http://127.0.0.1:3000/callback'] });
    const issued = await obtainCode(gateway, loopback, { redirect_uri: 'http://127.0.0.1:54321/callback' });
    await expectTokenError(await redeemCode(gateway, loopback.client_id, issued, { redirect_uri: 'http://127.0.0.1:3000/callback' }), 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    await expectTokens(await redeemCode(gateway, loopback.client_id, issued));
  });

  it('when the authorization request relied on the only registered redirect_uri, accepts it repeated or omitted, and refuses another', async () => {
    // An empty parameter counts as absent (RFC 6749 §3.1), so this authorization request sends no redirect_uri.
    const repeated = await obtainCode(gateway, client, { redirect_uri: '' });
    await expectTokenError(await redeemCode(gateway, client.client_id, { ...repeated, redirectUri: 'https://client.example.test/other' }), 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    await expectTokens(await redeemCode(gateway, client.client_id, { ...repeated, redirectUri: client.redirect_uris[0]! }));
    const omitted = await obtainCode(gateway, client, { redirect_uri: '' });
    await expectTokens(await redeemCode(gateway, client.client_id, omitted, { redirect_uri: '' }));
  });

  it.each([
    ['the resource of another tenant', () => tenantResource(gateway, 'acme')],
    ['a resource this server does not serve', () => 'https://elsewhere.example.test/mcp'],
  ])('refuses %s with invalid_target without burning the code', async (_, resource) => {
    const issued = await obtainCode(gateway, client, { resource: gateway.resource });
    await expectTokenError(await redeemCode(gateway, client.client_id, issued, { resource: resource() }), 400, 'invalid_target', 'resource does not match the authorization request');
    const tokens = await expectTokens(await redeemCode(gateway, client.client_id, issued, { resource: gateway.resource }));
    await expectAccepted(tokens.access_token);
  });

  it('refuses a refresh for another resource than the grant with invalid_target', async () => {
    const tokens = await obtainTokens(gateway, client, { resource: tenantResource(gateway, 'acme') });
    await expectAccepted(tokens.access_token, tenantResource(gateway, 'acme'));
    await expectTokenError(await refresh(tokens.refresh_token!, { resource: gateway.resource }), 400, 'invalid_target', 'resource does not match the grant');
    await expectTokens(await refresh(tokens.refresh_token!, { resource: tenantResource(gateway, 'acme') }));
  });
});

describe('client authentication at the token endpoint', () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  async function expectInvalidClient(response: Response, description: string): Promise<void> {
    expect(response.headers.get('www-authenticate')).toBe(`Basic realm="${gateway.config.issuer}"`);
    await expectTokenError(response, 401, 'invalid_client', description);
  }

  it('answers 401 invalid_client with a challenge for an unknown client', async () => {
    const issued = await obtainCode(gateway, client);
    await expectInvalidClient(await redeemCode(gateway, 'no-such-client', issued), 'the client is not registered');
    await expectInvalidClient(await tokenRequest(gateway, { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier }, { authorization: basic('no-such-client', 'secret') }), 'the client is not registered');
  });

  it('answers 401 invalid_client when no client is named at all', async () => {
    const issued = await obtainCode(gateway, client);
    await expectInvalidClient(await redeemCode(gateway, client.client_id, issued, { client_id: '' }), 'client authentication is required');
  });

  it('answers 401 invalid_client for a wrong secret, a missing one, or the wrong method', async () => {
    const confidential = await registerClient(gateway, { token_endpoint_auth_method: 'client_secret_basic' });
    const secret = confidential.client_secret!;
    const fields = { grant_type: 'refresh_token', refresh_token: 'anything' };
    await expectInvalidClient(await tokenRequest(gateway, fields, { authorization: basic(confidential.client_id, `${secret}x`) }), 'the client credentials are invalid');
    await expectInvalidClient(await tokenRequest(gateway, { ...fields, client_id: confidential.client_id }), 'the client must authenticate with client_secret_basic');
    await expectInvalidClient(await tokenRequest(gateway, { ...fields, client_id: confidential.client_id, client_secret: secret }), 'the client must authenticate with client_secret_basic');
    // The right credentials get past client authentication to the grant itself.
    await expectTokenError(await tokenRequest(gateway, fields, { authorization: basic(confidential.client_id, secret) }), 400, 'invalid_grant', 'the refresh token is invalid');
  });

  it('refuses two authentication methods at once and a client_id that contradicts the header', async () => {
    const confidential = await registerClient(gateway, { token_endpoint_auth_method: 'client_secret_basic' });
    const authorization = basic(confidential.client_id, confidential.client_secret!);
    const fields = { grant_type: 'refresh_token', refresh_token: 'anything' };
    await expectTokenError(await tokenRequest(gateway, { ...fields, client_secret: confidential.client_secret! }, { authorization }), 400, 'invalid_request', 'use only one client authentication method');
    await expectTokenError(await tokenRequest(gateway, { ...fields, client_id: client.client_id }, { authorization }), 400, 'invalid_request', 'client_id does not match the Authorization header');
  });
});

describe('refresh token rotation and reuse', () => {
  it('refuses a reused refresh token after the grace period and revokes the whole family', async () => {
    const first = await obtainTokens(gateway, client);
    const second = await expectTokens(await refresh(first.refresh_token!));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    await expectAccepted(second.access_token);

    clock += 11_000;
    await expectTokenError(await refresh(first.refresh_token!), 400, 'invalid_grant', 'the refresh token was already used');

    await expectTokenError(await refresh(second.refresh_token!), 400, 'invalid_grant', 'the refresh token was revoked');
    await expectRevoked(second.access_token);
    await expectRevoked(first.access_token);
  });

  it('refuses a reuse within the grace period but keeps the family alive (two concurrent refreshes)', async () => {
    const first = await obtainTokens(gateway, client);
    const second = await expectTokens(await refresh(first.refresh_token!));
    clock += 9_000;
    await expectTokenError(await refresh(first.refresh_token!), 400, 'invalid_grant', 'the refresh token was already used');
    await expectAccepted(second.access_token);
    await expectTokens(await refresh(second.refresh_token!));
  });

  it("refuses another client's refresh token without revoking it", async () => {
    const tokens = await obtainTokens(gateway, client);
    await expectTokenError(await refresh(tokens.refresh_token!, {}, otherClient.client_id), 400, 'invalid_grant', 'the refresh token is invalid');
    await expectTokens(await refresh(tokens.refresh_token!));
  });

  it('refuses a refresh that widens the scope', async () => {
    const tokens = await obtainTokens(gateway, client);
    await expectTokenError(await refresh(tokens.refresh_token!, { scope: 'mcp offline_access' }), 400, 'invalid_scope', 'the requested scope exceeds the original grant');
  });
});

describe('malformed token requests', () => {
  it('refuses a repeated grant_type', async () => {
    const issued = await obtainCode(gateway, client);
    const response = await tokenRequest(gateway, [
      ['grant_type', 'authorization_code'],
      ['grant_type', 'authorization_code'],
      ['code', issued.code],
      ['code_verifier', issued.verifier],
      ['redirect_uri', issued.redirectUri],
      ['client_id', client.client_id],
    ]);
    await expectTokenError(response, 400, 'invalid_request', 'the grant_type parameter is repeated');
    await expectTokens(await redeemCode(gateway, client.client_id, issued));
  });

  it.each(['code', 'code_verifier', 'client_id'])('refuses a repeated %s', async (name) => {
    const issued = await obtainCode(gateway, client);
    const fields: Array<[string, string]> = [
      ['grant_type', 'authorization_code'],
      ['code', issued.code],
      ['code_verifier', issued.verifier],
      ['redirect_uri', issued.redirectUri],
      ['client_id', client.client_id],
    ];
    const repeated = fields.find(([field]) => field === name)!;
    await expectTokenError(await tokenRequest(gateway, [...fields, repeated]), 400, 'invalid_request', `the ${name} parameter is repeated`);
  });

  it('refuses JSON instead of a form', async () => {
    const response = await fetch(`${gateway.baseUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', code: 'x', client_id: client.client_id }),
    });
    await expectTokenError(response, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
  });

  it('refuses an empty body', async () => {
    await expectTokenError(await tokenRequest(gateway, {}), 400, 'invalid_request', 'the grant_type parameter is missing');
  });

  it('refuses an unsupported grant type', async () => {
    await expectTokenError(await tokenRequest(gateway, { grant_type: 'password', username: 'demo', password: 'demo', client_id: client.client_id }), 400, 'unsupported_grant_type', 'the grant type password is not supported');
    await expectTokenError(await tokenRequest(gateway, { grant_type: 'implicit', client_id: client.client_id }), 400, 'unsupported_grant_type', 'the grant type implicit is not supported');
  });

  it('refuses the client_credentials grant to a registered client', async () => {
    await expectTokenError(await tokenRequest(gateway, { grant_type: 'client_credentials', client_id: client.client_id }), 400, 'unauthorized_client', 'the client may not use the client_credentials grant');
  });
});
