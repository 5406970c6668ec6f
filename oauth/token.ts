import type { Context } from 'hono';
import { Hono } from 'hono';
import { findResource, grantedScopes } from './authorize.js';
import { authenticateClient } from './client-auth.js';
import type { Client } from './clients.js';
import { ENDPOINTS, enforceLimit, type ServerContext } from './context.js';
import { base64url, sha256, timingSafeEqual, utf8 } from './crypto.js';
import { OAuthError } from './errors.js';
import type { IssuedTokens } from './grants.js';
import { noStore, readForm, type Params } from './http.js';

const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** The token endpoint (OAuth 2.1 §3.2): authorization_code, refresh_token and client_credentials grants. */
export function tokenEndpoint(ctx: ServerContext): Hono {
  const app = new Hono();
  app.post(ENDPOINTS.token, async (c) => {
    await enforceLimit(c, ctx, 'token', 'ip');
    const params = await readForm(c);
    const grantType = params.require('grant_type');
    const client = await authenticateClient(c, ctx, params);
    // Only a client that proved its identity is counted as itself: a public client's id is anyone's to send.
    if (client.metadata.token_endpoint_auth_method !== 'none') await enforceLimit(c, ctx, 'token', 'client', client.clientId);
    let tokens: IssuedTokens;
    switch (grantType) {
      case 'authorization_code':
        tokens = await authorizationCodeGrant(ctx, client, params);
        break;
      case 'refresh_token':
        tokens = await refreshTokenGrant(ctx, client, params);
        break;
      case 'client_credentials':
        tokens = await clientCredentialsGrant(ctx, client, params);
        break;
      default:
        throw new OAuthError('unsupported_grant_type', `the grant type ${grantType} is not supported`);
    }
    return tokenResponse(c, ctx, tokens);
  });
  return app;
}

async function authorizationCodeGrant(ctx: ServerContext, client: Client, params: Params): Promise<IssuedTokens> {
  const code = params.require('code');
  const verifier = params.get('code_verifier');
  if (verifier === undefined) throw new OAuthError('invalid_request', 'PKCE is required: the code_verifier parameter is missing');
  if (!CODE_VERIFIER.test(verifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43-128 unreserved characters');
  const redirectUri = params.get('redirect_uri');
  const resource = params.get('resource');
  const challenge = base64url(await sha256(verifier));

  const { grant, familyId } = await ctx.grants.redeemCode(code, client.clientId, (grant) => {
    // Required when the authorization request sent it; when it relied on the only registered URI, optional.
    if (redirectUri === undefined ? grant.redirectUriSent : redirectUri !== grant.redirectUri) {
      throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    }
    if (!timingSafeEqual(utf8(challenge), utf8(grant.codeChallenge))) throw new OAuthError('invalid_grant', 'PKCE verification failed');
    if (resource !== undefined && resource !== grant.resource) throw new OAuthError('invalid_target', 'resource does not match the authorization request');
  });
  return ctx.grants.startFamily(familyId, {
    clientId: client.clientId,
    sub: grant.sub,
    tenant: grant.tenant,
    resource: grant.resource,
    scope: grant.scope,
    refresh: client.metadata.grant_types.includes('refresh_token'),
  });
}

async function refreshTokenGrant(ctx: ServerContext, client: Client, params: Params): Promise<IssuedTokens> {
  if (!client.metadata.grant_types.includes('refresh_token')) throw new OAuthError('unauthorized_client', 'the client may not use refresh tokens');
  const refreshToken = params.require('refresh_token');
  const requestedScope = params.get('scope');
  const resource = params.get('resource');
  const current = await ctx.grants.refreshTokenFamily(refreshToken);
  if (resource !== undefined && current !== undefined && resource !== current.family.resource) {
    throw new OAuthError('invalid_target', 'resource does not match the grant');
  }
  // A user removed from the tenant since the login keeps nothing: the whole grant goes.
  if (current !== undefined && !current.family.revoked && !(await ctx.users.isMember(current.family.sub, current.family.tenant))) {
    await ctx.grants.revokeFamily(current.familyId);
    throw new OAuthError('invalid_grant', 'the user no longer has access to this resource');
  }
  return ctx.grants.rotate(refreshToken, client.clientId, (familyScope) => {
    if (requestedScope === undefined) return familyScope;
    // RFC 6749 §6: a refresh may narrow the scope, never widen it.
    const granted = familyScope.split(' ');
    const narrowed = requestedScope.split(' ').filter(Boolean);
    if (narrowed.length === 0 || !narrowed.every((scope) => granted.includes(scope))) {
      throw new OAuthError('invalid_scope', 'the requested scope exceeds the original grant');
    }
    return [...new Set(narrowed)].join(' ');
  });
}

async function clientCredentialsGrant(ctx: ServerContext, client: Client, params: Params): Promise<IssuedTokens> {
  if (client.kind !== 'service' || client.tenant === undefined) {
    throw new OAuthError('unauthorized_client', 'the client may not use the client_credentials grant');
  }
  const resource = params.get('resource') === undefined ? ctx.resources.all().find((candidate) => candidate.tenant === client.tenant) : findResource(ctx, params.get('resource'));
  if (!resource || resource.tenant !== client.tenant) throw new OAuthError('invalid_target', "the resource is not the client's tenant");
  const scopes = grantedScopes(resource, params.get('scope'), { offlineAccess: false });
  const allowed = new Set([resource.baseScope, ...(client.allowedScopes ?? [])]);
  const refused = scopes.find((scope) => !allowed.has(scope));
  if (refused !== undefined) throw new OAuthError('invalid_scope', `the client may not request the scope ${refused}`);
  const { token, claims } = await ctx.accessTokens.issue({ sub: client.clientId, clientId: client.clientId, resource: resource.resource, tenant: resource.tenant, scope: scopes.join(' ') });
  return { accessToken: token, claims };
}

/** RFC 6749 §5.1. */
function tokenResponse(c: Context, ctx: ServerContext, tokens: IssuedTokens): Response {
  noStore(c);
  return c.json({
    access_token: tokens.accessToken,
    token_type: 'Bearer',
    expires_in: ctx.accessTokens.ttlSeconds,
    scope: tokens.claims.scope,
    ...(tokens.refreshToken !== undefined && { refresh_token: tokens.refreshToken }),
  });
}
