import type { Context } from 'hono';
import { Hono } from 'hono';
import { parseClientMetadata, type RegisteredClient } from './clients.js';
import { ENDPOINTS, enforceLimit, type ServerContext } from './context.js';
import { secretsEqual, tokenHash } from './crypto.js';
import { OAuthError } from './errors.js';
import { noStore, readJsonObject } from './http.js';

/**
 * Dynamic client registration (RFC 7591) and its management protocol (RFC 7592). Registered clients get the
 * authorization_code and refresh_token grants only; client_credentials clients come from configuration.
 */
export function registrationEndpoint(ctx: ServerContext): Hono {
  const app = new Hono();

  app.post(ENDPOINTS.registration, async (c) => {
    if (!ctx.registration.enabled) throw new OAuthError('access_denied', 'dynamic client registration is disabled', { status: 403 });
    await enforceLimit(c, ctx, 'register', 'ip');
    const metadata = parseClientMetadata(await readJsonObject(c, 'invalid_client_metadata'));
    const { record, secret, registrationToken } = await ctx.clients.register(metadata);
    ctx.logger.info({ client_id: record.clientId, client_name: metadata.client_name }, 'client registered');
    noStore(c);
    return c.json({ ...clientInformation(ctx, record, secret), registration_access_token: registrationToken }, 201);
  });

  const managed = `${ENDPOINTS.registration}/:clientId`;
  app.get(managed, async (c) => {
    const { record, token } = await authorizeManagement(c, ctx);
    noStore(c);
    return c.json({ ...clientInformation(ctx, record), registration_access_token: token });
  });

  app.put(managed, async (c) => {
    const { record, token } = await authorizeManagement(c, ctx);
    const body = await readJsonObject(c, 'invalid_client_metadata');
    // RFC 7592 §2.2: the request carries the client_id, and a secret only to confirm the current one.
    if (body.client_id !== record.clientId) throw new OAuthError('invalid_request', 'client_id must match the client being updated');
    if (body.client_secret !== undefined) {
      const current = typeof body.client_secret === 'string' && record.secretHash !== undefined && (await secretsEqual(await tokenHash(body.client_secret), record.secretHash));
      if (!current) throw new OAuthError('invalid_request', 'client_secret does not match the current secret; it cannot be chosen by the client');
    }
    const metadata = parseClientMetadata(body);
    if ((metadata.token_endpoint_auth_method === 'none') !== (record.secretHash === undefined)) {
      throw new OAuthError('invalid_client_metadata', 'token_endpoint_auth_method cannot change between public and confidential');
    }
    const updated: RegisteredClient = { ...record, metadata };
    await ctx.clients.update(updated);
    noStore(c);
    return c.json({ ...clientInformation(ctx, updated), registration_access_token: token });
  });

  app.delete(managed, async (c) => {
    const { record } = await authorizeManagement(c, ctx);
    await ctx.clients.remove(record.clientId);
    ctx.logger.info({ client_id: record.clientId }, 'client deleted');
    noStore(c);
    return c.body(null, 204);
  });

  return app;
}

/** The client information response (RFC 7591 §3.2.1, RFC 7592 §3). The secret is shown only at registration. */
function clientInformation(ctx: ServerContext, record: RegisteredClient, secret?: string) {
  return {
    client_id: record.clientId,
    client_id_issued_at: record.issuedAt,
    ...(secret !== undefined && { client_secret: secret, client_secret_expires_at: 0 }),
    registration_client_uri: `${ctx.baseUrl}${ENDPOINTS.registration}/${encodeURIComponent(record.clientId)}`,
    ...record.metadata,
  };
}

/** RFC 7592 §3: the registration access token is a bearer token for one client; anything else is a 401. */
async function authorizeManagement(c: Context, ctx: ServerContext): Promise<{ record: RegisteredClient; token: string }> {
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(c.req.header('authorization') ?? '');
  const record = match ? await ctx.clients.forRegistrationToken(c.req.param('clientId') ?? '', match[1]!) : undefined;
  if (!record) {
    throw new OAuthError('invalid_token', 'the registration access token is invalid', {
      status: 401,
      headers: { 'WWW-Authenticate': `Bearer error="invalid_token"` },
    });
  }
  return { record, token: match![1]! };
}
