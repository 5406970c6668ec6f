import { Hono } from 'hono';
import { authenticateClient, invalidClient } from './client-auth.js';
import { ENDPOINTS, type ServerContext } from './context.js';
import { noStore, readForm } from './http.js';

/**
 * Token introspection (RFC 7662) for authenticated clients only: public clients cannot authenticate, so they
 * get 401. A client learns about its own tokens; every other token is `{"active": false}` (§2.2).
 */
export function introspectionEndpoint(ctx: ServerContext): Hono {
  const app = new Hono();
  app.post(ENDPOINTS.introspection, async (c) => {
    const params = await readForm(c);
    const client = await authenticateClient(c, ctx, params);
    if (client.metadata.token_endpoint_auth_method === 'none') throw invalidClient(ctx, 'introspection requires client authentication');
    const token = params.require('token');
    noStore(c);
    const nowSeconds = Math.floor(ctx.now() / 1000);

    const claims = await ctx.accessTokens.decode(token);
    if (claims) {
      const active = claims.client_id === client.clientId && claims.exp > nowSeconds && !(await ctx.accessTokens.isRevoked(claims.jti));
      if (!active) return c.json({ active: false });
      const { iss, sub, aud, client_id, scope, tenant, iat, exp, jti } = claims;
      return c.json({ active: true, token_type: 'Bearer', iss, sub, aud, client_id, scope, tenant, iat, exp, jti });
    }

    const refresh = await ctx.grants.refreshTokenFamily(token);
    if (!refresh || refresh.spent || refresh.family.revoked || refresh.family.clientId !== client.clientId) return c.json({ active: false });
    const { family } = refresh;
    // No token_type: RFC 6749 §7.1 types describe access tokens only.
    return c.json({
      active: true,
      iss: ctx.issuer,
      sub: family.sub,
      aud: family.resource,
      client_id: family.clientId,
      scope: family.scope,
      tenant: family.tenant,
      iat: Math.floor(family.createdAt / 1000),
      exp: refresh.expiresAt,
    });
  });
  return app;
}
