import type { Context } from 'hono';
import { Hono } from 'hono';
import { ENDPOINTS, type ServerContext } from './context.js';
import type { ProtectedResource } from './types.js';

const AS_WELL_KNOWN = '/.well-known/oauth-authorization-server';
const OIDC_WELL_KNOWN = '/.well-known/openid-configuration';
const PRM_WELL_KNOWN = '/.well-known/oauth-protected-resource';

// The scopes of a list of resources, kept while the directory hands out that same list (it rebuilds it on a change).
const scopesOf = new WeakMap<readonly ProtectedResource[], string[]>();

function supportedScopes(resources: readonly ProtectedResource[]): string[] {
  let scopes = scopesOf.get(resources);
  if (!scopes) {
    const names = new Set<string>();
    for (const resource of resources) for (const scope of resource.scopes) names.add(scope.name);
    names.add('offline_access');
    scopes = [...names];
    scopesOf.set(resources, scopes);
  }
  return scopes;
}

/** Authorization server metadata (RFC 8414 §2), also served as OpenID Connect discovery. */
export function authorizationServerMetadata(ctx: ServerContext): Record<string, unknown> {
  const url = (path: string) => ctx.baseUrl + path;
  const scopes = supportedScopes(ctx.resources.all());
  const authMethods = ['none', 'client_secret_basic', 'client_secret_post'];
  return {
    issuer: ctx.issuer,
    authorization_endpoint: url(ENDPOINTS.authorization),
    token_endpoint: url(ENDPOINTS.token),
    ...(ctx.registration.enabled && { registration_endpoint: url(ENDPOINTS.registration) }),
    revocation_endpoint: url(ENDPOINTS.revocation),
    introspection_endpoint: url(ENDPOINTS.introspection),
    jwks_uri: url(ENDPOINTS.jwks),
    scopes_supported: scopes,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    client_id_metadata_document_supported: ctx.clients.metadataDocumentsSupported,
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent'],
    // Required by OpenID Connect Discovery 1.0 §3 so OIDC discovery clients accept the document.
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  };
}

/** Protected resource metadata (RFC 9728 §2) of one MCP resource. */
export function protectedResourceMetadata(ctx: ServerContext, resource: ProtectedResource): Record<string, unknown> {
  return {
    resource: resource.resource,
    authorization_servers: [ctx.issuer],
    scopes_supported: resource.scopes.map((scope) => scope.name),
    bearer_methods_supported: ['header'],
    resource_name: resource.tenantName,
  };
}

/** The path-inserted well-known URL of a resource's metadata (RFC 9728 §3.1). */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${PRM_WELL_KNOWN}${url.pathname === '/' ? '' : url.pathname}`;
}

/**
 * The discovery routes. Well-known URLs are inserted before the path of the issuer or resource (RFC 8414 §3.1,
 * RFC 9728 §3.1), so with a public base URL that has a path they arrive here with that path still on them;
 * OIDC's appended form (`<issuer>/.well-known/openid-configuration`) and the root forms are served too.
 */
export function discoveryEndpoints(ctx: ServerContext): Hono {
  const app = new Hono();
  const issuerPath = stripSlash(new URL(ctx.issuer).pathname);
  const serveMetadata = (c: Context) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(authorizationServerMetadata(ctx));
  };
  for (const path of new Set([AS_WELL_KNOWN + issuerPath, OIDC_WELL_KNOWN + issuerPath, OIDC_WELL_KNOWN])) app.get(path, serveMetadata);

  const origin = new URL(ctx.baseUrl).origin;
  // Before the wildcard route: Hono's `<path>/*` also matches `<path>` itself.
  app.get(PRM_WELL_KNOWN, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(protectedResourceMetadata(ctx, ctx.resources.defaultResource()));
  });
  app.get(`${PRM_WELL_KNOWN}/*`, (c) => {
    const resource = ctx.resources.byResource(origin + new URL(c.req.url).pathname.slice(PRM_WELL_KNOWN.length));
    if (!resource) return c.json({ error: 'not_found', error_description: 'no protected resource at this path' }, 404);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(protectedResourceMetadata(ctx, resource));
  });

  app.get(ENDPOINTS.jwks, async (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(await ctx.accessTokens.jwks());
  });
  return app;
}

function stripSlash(path: string): string {
  return path === '/' ? '' : path;
}
