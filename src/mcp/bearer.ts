import type { MiddlewareHandler } from 'hono';
import type { AccessTokenClaims } from '../../oauth/access-tokens.js';
import { OAuthError } from '../../oauth/errors.js';
import type { Tenant } from '../tenancy/resources.js';

export interface BearerOptions {
  verify: (token: string, resource: string) => Promise<AccessTokenClaims>;
  resourceMetadataUrl: (resource: string) => string;
}

export interface BearerVariables {
  tenant: Tenant;
  auth: AccessTokenClaims;
}

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * A `WWW-Authenticate` challenge of this resource (RFC 6750 §3, RFC 9728 §5.1): where its metadata is, the scopes
 * to ask for, and the error if there is one.
 */
export function bearerChallenge(resourceMetadataUrl: string, scope: string, error?: OAuthError): string {
  return [
    `Bearer resource_metadata="${resourceMetadataUrl}"`,
    `scope="${scope}"`,
    ...(error ? [`error="${error.code}"`, `error_description="${error.description.replace(/["\\]/g, '')}"`] : []),
  ].join(', ');
}

/**
 * The resource server's bearer check (RFC 6750, RFC 9068 §4, MCP authorization §2.6): a JWT for exactly this
 * tenant's resource, sent in the Authorization header only. Failures answer 401 with `WWW-Authenticate`
 * pointing at the resource's metadata (RFC 9728 §5.1); a token without the base scope answers 403.
 */
export function bearerAuth(options: BearerOptions): MiddlewareHandler<{ Variables: BearerVariables }> {
  return async function bearer(c, next) {
    const tenant = c.get('tenant');
    const { resource, baseScope } = tenant.resource;
    const refuse = (error: OAuthError | undefined, status: 400 | 401 | 403) => {
      c.header('WWW-Authenticate', bearerChallenge(options.resourceMetadataUrl(resource), baseScope, error));
      c.header('Cache-Control', 'no-store');
      return error
        ? c.json({ error: error.code, error_description: error.description }, status)
        : c.json({ error: 'invalid_request', error_description: 'an access token is required' }, status);
    };

    if (new URL(c.req.url).searchParams.has('access_token')) {
      return refuse(new OAuthError('invalid_request', 'access tokens are accepted only in the Authorization header'), 400);
    }
    const header = c.req.header('authorization');
    if (header === undefined || !/^Bearer\s/i.test(header)) return refuse(undefined, 401);
    const match = BEARER.exec(header.trim());
    if (!match) return refuse(new OAuthError('invalid_token', 'the access token is malformed'), 401);
    let claims: AccessTokenClaims;
    try {
      claims = await options.verify(match[1]!, resource);
    } catch (error) {
      if (error instanceof OAuthError) return refuse(error, 401);
      throw error;
    }
    if (claims.tenant !== tenant.config.id) {
      return refuse(new OAuthError('invalid_token', 'the access token belongs to another tenant'), 401);
    }
    if (!claims.scope.split(' ').includes(baseScope)) {
      return refuse(new OAuthError('insufficient_scope', `the ${baseScope} scope is required`), 403);
    }
    c.set('auth', claims);
    await next();
  };
}
