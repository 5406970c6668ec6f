import { Hono } from 'hono';
import { authenticateClient } from './client-auth.js';
import { ENDPOINTS, type ServerContext } from './context.js';
import { noStore, readForm } from './http.js';

/**
 * Token revocation (RFC 7009). A refresh token revokes its whole family, access tokens included; an access
 * token is denied until it expires. Unknown tokens and other clients' tokens are answered 200 all the same
 * (§2.2), so the endpoint reveals nothing.
 */
export function revocationEndpoint(ctx: ServerContext): Hono {
  const app = new Hono();
  app.post(ENDPOINTS.revocation, async (c) => {
    const params = await readForm(c);
    const client = await authenticateClient(c, ctx, params);
    const token = params.require('token');
    // token_type_hint only orders the lookups (§2.1); both kinds are tried.
    const refresh = await ctx.grants.refreshTokenFamily(token);
    if (refresh) {
      if (refresh.family.clientId === client.clientId) await ctx.grants.revokeFamily(refresh.familyId);
    } else {
      const claims = await ctx.accessTokens.decode(token);
      if (claims && claims.client_id === client.clientId) await ctx.accessTokens.revoke(claims.jti, claims.exp);
    }
    noStore(c);
    return c.body(null, 200);
  });
  return app;
}
