import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser, launchBrowser } from '../helpers/browser.js';
import { demoPasswordHash, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * The gateway driven end to end by oauth4webapi, a client that enforces the RFCs strictly: discovery with issuer
 * validation (RFC 8414, OIDC Discovery, RFC 9728), registration (RFC 7591), the authorization code grant with
 * PKCE, RFC 8707 resources and RFC 9207 `iss`, refresh rotation, revocation (RFC 7009), introspection (RFC 7662)
 * and client_credentials; every access token is checked as an RFC 9068 JWT with jose against the published JWKS.
 */

// The gateway listens on plain http on loopback; oauth4webapi refuses http unless told this is on purpose.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

// The gateway's clock: real time plus an offset the tests move forward (the refresh grace period).
let clockOffset = 0;
const now = () => Date.now() + clockOffset;

const PUBLIC_REDIRECT = 'http://127.0.0.1/callback';
const WEB_REDIRECT = 'https://app.example.test/oauth/callback';
const REPORTING_CLIENT = 'svc-reporting';
const ACME_SERVICE_CLIENT = 'svc-acme';

let gateway: TestGateway;
let browser: Browser;
let as: oauth.AuthorizationServer;
let jwks: ReturnType<typeof createRemoteJWKSet>;
let acmeResource: string;
let reportingSecret: string;
let acmeServiceSecret: string;
let publicClient: oauth.Client;
let webClient: oauth.Client;
let webClientSecret: string;

beforeAll(async () => {
  reportingSecret = randomBytes(32).toString('base64url');
  acmeServiceSecret = randomBytes(32).toString('base64url');
  [gateway, browser] = await Promise.all([
    startTestGateway(
      {
        tenants: [
          { id: 'default', name: 'Default tenant', scopes: [{ name: 'files:read', description: 'Read files' }] },
          { id: 'acme', name: 'Acme Corp' },
        ],
        users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default', 'acme'] }],
        clients: [
          { clientId: REPORTING_CLIENT, clientSecret: reportingSecret, name: 'Reporting job', tenant: 'default', scopes: ['files:read'] },
          { clientId: ACME_SERVICE_CLIENT, clientSecret: acmeServiceSecret, tenant: 'acme' },
        ],
      },
      { now },
    ),
    launchBrowser(),
  ]);
  acmeResource = `${gateway.baseUrl}/t/acme/mcp`;
  const issuer = new URL(gateway.baseUrl);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  jwks = createRemoteJWKSet(new URL(as.jwks_uri!));

  publicClient = await register({
    client_name: 'Strict public client',
    redirect_uris: [PUBLIC_REDIRECT],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  webClient = await register({
    client_name: 'Strict web client',
    redirect_uris: [WEB_REDIRECT],
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  webClientSecret = webClient.client_secret as string;
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function register(metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>>): Promise<oauth.OmitSymbolProperties<oauth.Client>> {
  return oauth.dynamicClientRegistrationRequest(as, metadata, insecure).then(oauth.processDynamicClientRegistrationResponse);
}

interface Flow {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  redirectUri: string;
  resource: string;
  scope?: string;
}

/**
 * Runs the authorization code grant with PKCE like a strict client would, a person signing in and consenting;
 * the access token must validate as an RFC 9068 JWT for the requested resource.
 */
async function authorizationCodeFlow(flow: Flow): Promise<{ tokens: oauth.TokenEndpointResponse; callback: URL }> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: flow.client.client_id,
    redirect_uri: flow.redirectUri,
    response_type: 'code',
    scope: flow.scope ?? 'offline_access',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    resource: flow.resource,
  }).toString();
  const callback = new URL(await authorizeInBrowser(browser, url.href));
  const params = oauth.validateAuthResponse(as, flow.client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, flow.client, flow.auth, params, flow.redirectUri, codeVerifier, {
    additionalParameters: { resource: flow.resource },
    ...insecure,
  });
  const tokens = await oauth.processAuthorizationCodeResponse(as, flow.client, response);
  await validateAccessToken(tokens.access_token, flow.resource);
  return { tokens, callback };
}

const publicFlow = (resource = gateway.resource) => ({ client: publicClient, auth: oauth.None(), redirectUri: PUBLIC_REDIRECT, resource });
const webFlow = (resource = gateway.resource) => ({ client: webClient, auth: oauth.ClientSecretBasic(webClientSecret), redirectUri: WEB_REDIRECT, resource });

/** Refreshes; the new access token must validate as an RFC 9068 JWT for the flow's resource. */
async function refresh(flow: Flow, refreshToken: string): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.refreshTokenGrantRequest(as, flow.client, flow.auth, refreshToken, insecure);
  const tokens = await oauth.processRefreshTokenResponse(as, flow.client, response);
  await validateAccessToken(tokens.access_token, flow.resource);
  return tokens;
}

async function introspect(token: string): Promise<oauth.IntrospectionResponse> {
  const response = await oauth.introspectionRequest(as, webClient, oauth.ClientSecretBasic(webClientSecret), token, insecure);
  return oauth.processIntrospectionResponse(as, webClient, response);
}

async function revoke(flow: Flow, token: string): Promise<undefined> {
  return oauth.processRevocationResponse(await oauth.revocationRequest(as, flow.client, flow.auth, token, insecure));
}

/** Validates an access token as an RFC 9068 JWT against the gateway's published keys (§4), for one audience. */
async function validateAccessToken(token: string, audience: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    typ: 'at+jwt',
    issuer: as.issuer,
    audience,
    algorithms: ['ES256'],
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
    currentDate: new Date(now()),
  });
  expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
  return payload;
}

interface McpReply {
  status: number;
  wwwAuthenticate: string | null;
  body: unknown;
}

/** A JSON-RPC ping to an MCP endpoint with a bearer token. */
async function callMcp(resource: string, accessToken: string): Promise<McpReply> {
  const response = await fetch(resource, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
  });
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: await response.json() };
}

/** The token got past the bearer check: the endpoint answers the JSON-RPC request itself. */
function expectAccepted(reply: McpReply): void {
  expect(reply.status).toBe(200);
  expect(reply.wwwAuthenticate).toBeNull();
  expect(reply.body).toMatchObject({ jsonrpc: '2.0', id: 7 });
}

function expectInvalidToken(reply: McpReply, resource: string, description: string): void {
  const metadataUrl = `${gateway.baseUrl}/.well-known/oauth-protected-resource${new URL(resource).pathname}`;
  expect(reply).toEqual({
    status: 401,
    wwwAuthenticate: `Bearer resource_metadata="${metadataUrl}", scope="mcp", error="invalid_token", error_description="${description}"`,
    body: { error: 'invalid_token', error_description: description },
  });
}

interface Failure {
  status: number;
  error: string;
  error_description: string | undefined;
  /** The raw WWW-Authenticate header, when the server sent one. */
  wwwAuthenticate?: string | null;
  challenges?: oauth.WWWAuthenticateChallenge[];
}

/** How an oauth4webapi call failed with an OAuth error response; anything else fails the test. */
async function failure(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      return { status: error.status, error: error.error, error_description: error.error_description, wwwAuthenticate: error.response.headers.get('www-authenticate') };
    }
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      const body = (await error.response.json()) as { error: string; error_description?: string };
      return {
        status: error.status,
        error: body.error,
        error_description: body.error_description,
        wwwAuthenticate: error.response.headers.get('www-authenticate'),
        challenges: error.cause,
      };
    }
    throw error;
  }
  throw new Error('expected an OAuth error response, but the call succeeded');
}

// ---------------------------------------------------------------------------------------------------------------

describe('discovery', () => {
  it('serves RFC 8414 metadata whose issuer is exactly the URL it was discovered from', async () => {
    const issuer = new URL(gateway.baseUrl);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    expect(response.url).toBe(`${gateway.baseUrl}/.well-known/oauth-authorization-server`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    const metadata = await oauth.processDiscoveryResponse(issuer, response);

    const base = gateway.baseUrl;
    expect(metadata.issuer).toBe(base);
    expect(metadata.issuer).toBe(gateway.config.issuer);
    expect(metadata).toMatchObject({
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      registration_endpoint: `${base}/register`,
      revocation_endpoint: `${base}/revoke`,
      introspection_endpoint: `${base}/introspect`,
      jwks_uri: `${base}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      authorization_response_iss_parameter_supported: true,
    });
    expect([...metadata.scopes_supported!].sort()).toEqual(['files:read', 'mcp', 'offline_access']);
  });

  it('is rejected by a client that expected another issuer', async () => {
    const elsewhere = new URL(gateway.baseUrl.replace('127.0.0.1', 'localhost'));
    const response = await oauth.discoveryRequest(new URL(gateway.baseUrl), { algorithm: 'oauth2', ...insecure });
    const error = await oauth.processDiscoveryResponse(elsewhere, response).then(
      () => undefined,
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(oauth.OperationProcessingError);
    expect((error as oauth.OperationProcessingError).code).toBe(oauth.JSON_ATTRIBUTE_COMPARISON);
  });

  it('serves the same document for OpenID Connect discovery', async () => {
    const issuer = new URL(gateway.baseUrl);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure });
    expect(response.url).toBe(`${gateway.baseUrl}/.well-known/openid-configuration`);
    const oidc = await oauth.processDiscoveryResponse(issuer, response);
    expect(oidc).toEqual(as);
    expect(oidc.issuer).toBe(gateway.baseUrl);
  });

  it('serves protected resource metadata (RFC 9728) at the path-inserted and the root well-known URL', async () => {
    const expected = {
      resource: gateway.resource,
      authorization_servers: [as.issuer],
      scopes_supported: ['mcp', 'files:read'],
      bearer_methods_supported: ['header'],
      resource_name: 'Default tenant',
    };
    const resource = new URL(gateway.resource);
    const inserted = await oauth.resourceDiscoveryRequest(resource, insecure);
    expect(inserted.url).toBe(`${gateway.baseUrl}/.well-known/oauth-protected-resource/mcp`);
    expect(await oauth.processResourceDiscoveryResponse(resource, inserted)).toEqual(expected);

    const root = await fetch(`${gateway.baseUrl}/.well-known/oauth-protected-resource`);
    expect(await oauth.processResourceDiscoveryResponse(resource, root)).toEqual(expected);

    const acme = new URL(acmeResource);
    const acmeResponse = await oauth.resourceDiscoveryRequest(acme, insecure);
    expect(acmeResponse.url).toBe(`${gateway.baseUrl}/.well-known/oauth-protected-resource/t/acme/mcp`);
    expect(await oauth.processResourceDiscoveryResponse(acme, acmeResponse)).toEqual({
      resource: acmeResource,
      authorization_servers: [as.issuer],
      scopes_supported: ['mcp'],
      bearer_methods_supported: ['header'],
      resource_name: 'Acme Corp',
    });
  });

  it('points an unauthenticated MCP request at the resource metadata', async () => {
    const response = await fetch(gateway.resource, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${gateway.baseUrl}/.well-known/oauth-protected-resource/mcp", scope="mcp"`);
  });
});

describe('dynamic client registration (RFC 7591)', () => {
  it('registers a public client that authenticates with none', async () => {
    const client = await register({
      client_name: 'Another public client',
      redirect_uris: [PUBLIC_REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(client).toEqual({
      client_id: expect.stringMatching(/^[\w-]{22}$/),
      client_id_issued_at: expect.any(Number),
      registration_access_token: expect.any(String),
      registration_client_uri: `${gateway.baseUrl}/register/${client.client_id}`,
      client_name: 'Another public client',
      redirect_uris: [PUBLIC_REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
    });
    expect(Math.abs((client.client_id_issued_at as number) - Math.floor(now() / 1000))).toBeLessThanOrEqual(5);
  });

  it('registers a confidential client that authenticates with client_secret_basic', async () => {
    const client = await register({
      client_name: 'Another web client',
      redirect_uris: [WEB_REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(client).toEqual({
      client_id: expect.stringMatching(/^[\w-]{22}$/),
      client_id_issued_at: expect.any(Number),
      client_secret: expect.stringMatching(/^[\w-]{43}$/),
      client_secret_expires_at: 0,
      registration_access_token: expect.any(String),
      registration_client_uri: `${gateway.baseUrl}/register/${client.client_id}`,
      client_name: 'Another web client',
      redirect_uris: [WEB_REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'web',
    });
  });
});

describe('authorization code grant with PKCE', () => {
  it('issues audience-bound tokens to a confidential client (client_secret_basic)', async () => {
    const { tokens, callback } = await authorizationCodeFlow({ ...webFlow(), scope: 'files:read offline_access' });
    // RFC 9207: the response names its issuer; validateAuthResponse already compared it with the metadata.
    expect(callback.origin + callback.pathname).toBe(WEB_REDIRECT);
    expect(callback.searchParams.get('iss')).toBe(gateway.baseUrl);
    expect(tokens).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 900,
      scope: 'mcp files:read offline_access',
      refresh_token: expect.any(String),
    });

    const claims = await validateAccessToken(tokens.access_token, gateway.resource);
    expect(claims).toEqual({
      iss: gateway.baseUrl,
      sub: 'local:demo',
      aud: gateway.resource,
      client_id: webClient.client_id,
      scope: 'mcp files:read offline_access',
      tenant: 'default',
      iat: expect.any(Number),
      exp: (claims.iat ?? 0) + 900,
      jti: expect.any(String),
    });
    expectAccepted(await callMcp(gateway.resource, tokens.access_token));
    expectInvalidToken(await callMcp(acmeResource, tokens.access_token), acmeResource, 'the access token is invalid or expired');
  });

  it('issues tokens to a public client (none) that validate as RFC 9068 JWTs', async () => {
    const { tokens } = await authorizationCodeFlow(publicFlow());
    expect(tokens).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 900,
      scope: 'mcp offline_access',
      refresh_token: expect.any(String),
    });
    const claims = await validateAccessToken(tokens.access_token, gateway.resource);
    expect(claims).toMatchObject({ sub: 'local:demo', aud: gateway.resource, client_id: publicClient.client_id, tenant: 'default' });
    expectAccepted(await callMcp(gateway.resource, tokens.access_token));
  });

  it("binds the token to the requested tenant's resource (RFC 8707)", async () => {
    const flow = publicFlow(acmeResource);
    const { tokens } = await authorizationCodeFlow(flow);
    expect(tokens.scope).toBe('mcp offline_access');
    const claims = await validateAccessToken(tokens.access_token, acmeResource);
    expect(claims).toMatchObject({ aud: acmeResource, tenant: 'acme', client_id: publicClient.client_id });
    await expect(validateAccessToken(tokens.access_token, gateway.resource)).rejects.toThrow('unexpected "aud" claim value');

    expectAccepted(await callMcp(acmeResource, tokens.access_token));
    expectInvalidToken(await callMcp(gateway.resource, tokens.access_token), gateway.resource, 'the access token is invalid or expired');

    // A refresh keeps the audience, and cannot be redirected to another tenant's resource.
    const refreshed = await refresh(flow, tokens.refresh_token!);
    expect(await validateAccessToken(refreshed.access_token, acmeResource)).toMatchObject({ aud: acmeResource, tenant: 'acme' });
    const response = await oauth.refreshTokenGrantRequest(as, flow.client, flow.auth, refreshed.refresh_token!, {
      additionalParameters: { resource: gateway.resource },
      ...insecure,
    });
    expect(await failure(oauth.processRefreshTokenResponse(as, flow.client, response))).toEqual({
      status: 400,
      error: 'invalid_target',
      error_description: 'resource does not match the grant',
      wwwAuthenticate: null,
    });
  });

  it('makes a strict client refuse an authorization response from another issuer', async () => {
    const forged = new URL(`${PUBLIC_REDIRECT}?code=abc&state=xyz&iss=${encodeURIComponent('https://evil.example')}`);
    expect(() => oauth.validateAuthResponse(as, publicClient, forged, 'xyz')).toThrow('unexpected "iss" (issuer) response parameter value');
  });
});

describe('refresh token rotation', () => {
  it('rotates on every refresh and revokes the whole family when a spent token is reused after the grace period', async () => {
    const flow = publicFlow();
    const { tokens: first } = await authorizationCodeFlow(flow);
    const second = await refresh(flow, first.refresh_token!);
    const third = await refresh(flow, second.refresh_token!);
    const refreshTokens = [first.refresh_token, second.refresh_token, third.refresh_token];
    expect(new Set(refreshTokens).size).toBe(3);
    expect(second.scope).toBe('mcp offline_access');
    await validateAccessToken(third.access_token, gateway.resource);
    expectAccepted(await callMcp(gateway.resource, third.access_token));
    clockOffset += 11_000;

    expect(await failure(refresh(flow, first.refresh_token!))).toEqual({
      status: 400,
      error: 'invalid_grant',
      error_description: 'the refresh token was already used',
      wwwAuthenticate: null,
    });

    // The reuse looks like theft: the latest refresh token and access token of the family are dead too.
    expect(await failure(refresh(flow, third.refresh_token!))).toEqual({
      status: 400,
      error: 'invalid_grant',
      error_description: 'the refresh token was revoked',
      wwwAuthenticate: null,
    });
    expectInvalidToken(await callMcp(gateway.resource, third.access_token), gateway.resource, 'the access token was revoked');
  });

  it('revokes the family as seen by introspection', async () => {
    const flow = webFlow();
    const { tokens: first } = await authorizationCodeFlow(flow);
    const second = await refresh(flow, first.refresh_token!);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await introspect(second.access_token)).toMatchObject({ active: true });
    const refreshInfo = await introspect(second.refresh_token!);
    expect(refreshInfo).toMatchObject({ active: true, client_id: flow.client.client_id });
    expect(refreshInfo.token_type).toBeUndefined();
    expect(refreshInfo.exp).toBeGreaterThan(Math.floor(Date.now() / 1000) + 13 * 86_400);
    clockOffset += 11_000;

    expect((await failure(refresh(flow, first.refresh_token!))).error).toBe('invalid_grant');
    expect(await introspect(second.access_token)).toEqual({ active: false });
    expect(await introspect(second.refresh_token!)).toEqual({ active: false });
    expectInvalidToken(await callMcp(gateway.resource, second.access_token), gateway.resource, 'the access token was revoked');
  });

  it('lets exactly one of two concurrent refreshes win and keeps the family alive', async () => {
    const flow = publicFlow();
    const { tokens } = await authorizationCodeFlow(flow);
    const results = await Promise.allSettled([refresh(flow, tokens.refresh_token!), refresh(flow, tokens.refresh_token!)]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(await failure(Promise.reject(lost[0]!.reason))).toEqual({
      status: 400,
      error: 'invalid_grant',
      error_description: 'the refresh token was already used',
      wwwAuthenticate: null,
    });

    const winner = won[0]!.value;
    expectAccepted(await callMcp(gateway.resource, winner.access_token));
    const next = await refresh(flow, winner.refresh_token!);
    expect(next.refresh_token).toEqual(expect.any(String));
    expectAccepted(await callMcp(gateway.resource, next.access_token));
    expectAccepted(await callMcp(gateway.resource, tokens.access_token));
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes an access token: the MCP endpoint then refuses it with invalid_token', async () => {
    const flow = webFlow();
    const { tokens } = await authorizationCodeFlow(flow);
    expectAccepted(await callMcp(gateway.resource, tokens.access_token));
    expect(await revoke(flow, tokens.access_token)).toBeUndefined();
    const reply = await callMcp(gateway.resource, tokens.access_token);
    expect(reply.wwwAuthenticate).toContain('error="invalid_token"');
    expectInvalidToken(reply, gateway.resource, 'the access token was revoked');
  });

  it('revokes a refresh token: refreshing with it then fails with invalid_grant', async () => {
    const flow = publicFlow();
    const { tokens } = await authorizationCodeFlow(flow);
    expect(await revoke(flow, tokens.refresh_token!)).toBeUndefined();
    expect(await failure(refresh(flow, tokens.refresh_token!))).toEqual({
      status: 400,
      error: 'invalid_grant',
      error_description: 'the refresh token was revoked',
      wwwAuthenticate: null,
    });
    // The grant is gone as a whole, so the access token issued with it goes too.
    expectInvalidToken(await callMcp(gateway.resource, tokens.access_token), gateway.resource, 'the access token was revoked');
  });
});

describe('introspection (RFC 7662)', () => {
  it('describes an active token to the confidential client that holds it, and reports it inactive once revoked', async () => {
    const flow = webFlow();
    const { tokens } = await authorizationCodeFlow({ ...flow, scope: 'files:read offline_access' });
    const claims = await validateAccessToken(tokens.access_token, gateway.resource);
    expect(await introspect(tokens.access_token)).toEqual({
      active: true,
      token_type: 'Bearer',
      iss: gateway.baseUrl,
      sub: 'local:demo',
      aud: gateway.resource,
      client_id: webClient.client_id,
      scope: 'mcp files:read offline_access',
      tenant: 'default',
      iat: claims.iat,
      exp: claims.exp,
      jti: claims.jti,
    });
    expect(claims.exp! - Math.floor(now() / 1000)).toBeGreaterThan(800);

    await revoke(flow, tokens.access_token);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it("reports another client's active token as inactive", async () => {
    const { tokens } = await authorizationCodeFlow(publicFlow());
    expectAccepted(await callMcp(gateway.resource, tokens.access_token));
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it('refuses a public client with 401 invalid_client', async () => {
    const { tokens } = await authorizationCodeFlow(publicFlow());
    const response = await oauth.introspectionRequest(as, publicClient, oauth.None(), tokens.access_token, insecure);
    expect(await failure(oauth.processIntrospectionResponse(as, publicClient, response))).toEqual({
      status: 401,
      error: 'invalid_client',
      error_description: 'introspection requires client authentication',
      wwwAuthenticate: `Basic realm="${gateway.baseUrl}"`,
      challenges: [{ scheme: 'basic', parameters: { realm: gateway.baseUrl } }],
    });
  });
});

describe('client_credentials grant', () => {
  const reporting = (): oauth.Client => ({ client_id: REPORTING_CLIENT });

  async function clientCredentials(client: oauth.Client, secret: string, parameters: Record<string, string>): Promise<oauth.TokenEndpointResponse> {
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), parameters, insecure);
    return oauth.processClientCredentialsResponse(as, client, response);
  }

  it("issues the service client a token for its own tenant's resource, with itself as the subject", async () => {
    const tokens = await clientCredentials(reporting(), reportingSecret, { resource: gateway.resource, scope: 'files:read' });
    expect(tokens).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 900, scope: 'mcp files:read' });
    const claims = await validateAccessToken(tokens.access_token, gateway.resource);
    expect(claims).toMatchObject({ aud: gateway.resource, sub: REPORTING_CLIENT, client_id: REPORTING_CLIENT, tenant: 'default', scope: 'mcp files:read' });
    expectAccepted(await callMcp(gateway.resource, tokens.access_token));
    expectInvalidToken(await callMcp(acmeResource, tokens.access_token), acmeResource, 'the access token is invalid or expired');
  });

  it("binds another tenant's service client to that tenant's resource", async () => {
    const tokens = await clientCredentials({ client_id: ACME_SERVICE_CLIENT }, acmeServiceSecret, {});
    expect(tokens.scope).toBe('mcp');
    const claims = await validateAccessToken(tokens.access_token, acmeResource);
    expect(claims).toMatchObject({ aud: acmeResource, sub: ACME_SERVICE_CLIENT, tenant: 'acme' });
    expectAccepted(await callMcp(acmeResource, tokens.access_token));
    expectInvalidToken(await callMcp(gateway.resource, tokens.access_token), gateway.resource, 'the access token is invalid or expired');
  });

  it("refuses another tenant's resource with invalid_target", async () => {
    expect(await failure(clientCredentials(reporting(), reportingSecret, { resource: acmeResource }))).toEqual({
      status: 400,
      error: 'invalid_target',
      error_description: "the resource is not the client's tenant",
      wwwAuthenticate: null,
    });
  });

  it('refuses a dynamically registered client with unauthorized_client', async () => {
    expect(await failure(clientCredentials(webClient, webClientSecret, { resource: gateway.resource }))).toEqual({
      status: 400,
      error: 'unauthorized_client',
      error_description: 'the client may not use the client_credentials grant',
      wwwAuthenticate: null,
    });
  });

  it('refuses a wrong secret with 401 invalid_client and a Basic challenge', async () => {
    expect(await failure(clientCredentials(reporting(), randomBytes(32).toString('base64url'), { resource: gateway.resource }))).toEqual({
      status: 401,
      error: 'invalid_client',
      error_description: 'the client credentials are invalid',
      wwwAuthenticate: `Basic realm="${gateway.baseUrl}"`,
      challenges: [{ scheme: 'basic', parameters: { realm: gateway.baseUrl } }],
    });
  });
});
