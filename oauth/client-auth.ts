import type { Context } from 'hono';
import type { Client } from './clients.js';
import type { ServerContext } from './context.js';
import { OAuthError } from './errors.js';
import type { Params } from './http.js';

/** RFC 6749 §5.2: a failed client authentication is a 401 carrying a challenge for the Basic scheme. */
export function invalidClient(ctx: ServerContext, description: string): OAuthError {
  return new OAuthError('invalid_client', description, { status: 401, headers: { 'WWW-Authenticate': `Basic realm="${ctx.issuer}"` } });
}

function basicCredentials(c: Context, ctx: ServerContext): { id: string; secret: string } | undefined {
  const header = c.req.header('authorization');
  if (header === undefined) return undefined;
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match) throw malformedBasic(ctx);
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(match[1]!), (char) => char.charCodeAt(0)));
  } catch {
    throw malformedBasic(ctx);
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) throw malformedBasic(ctx);
  // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
  try {
    return { id: decodeFormComponent(decoded.slice(0, colon)), secret: decodeFormComponent(decoded.slice(colon + 1)) };
  } catch {
    throw malformedBasic(ctx);
  }
}

function malformedBasic(ctx: ServerContext): OAuthError {
  return invalidClient(ctx, 'the Authorization header is not valid Basic credentials');
}

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * Authenticates the client of a token, revocation or introspection request by the method it registered
 * (RFC 6749 §2.3, RFC 7591 §2): `client_secret_basic`, `client_secret_post`, or `none` for public clients,
 * which only identify themselves. Using more than one method is an error (RFC 6749 §2.3).
 */
export async function authenticateClient(c: Context, ctx: ServerContext, params: Params): Promise<Client> {
  const basic = basicCredentials(c, ctx);
  const postedId = params.get('client_id');
  const postedSecret = params.get('client_secret');
  if (basic && postedSecret !== undefined) throw new OAuthError('invalid_request', 'use only one client authentication method');
  if (basic && postedId !== undefined && postedId !== basic.id) throw new OAuthError('invalid_request', 'client_id does not match the Authorization header');
  const clientId = basic?.id ?? postedId;
  if (clientId === undefined) throw invalidClient(ctx, 'client authentication is required');

  let client: Client | undefined;
  try {
    client = await ctx.clients.find(clientId);
  } catch (error) {
    if (error instanceof OAuthError) throw invalidClient(ctx, error.description);
    throw error;
  }
  if (!client) throw invalidClient(ctx, 'the client is not registered');

  const method = client.metadata.token_endpoint_auth_method;
  const used = basic ? 'client_secret_basic' : postedSecret !== undefined ? 'client_secret_post' : 'none';
  // A service client accepts both secret methods: it was configured, not registered with one.
  const accepted = client.kind === 'service' ? used !== 'none' : used === method;
  if (!accepted) throw invalidClient(ctx, `the client must authenticate with ${method}`);
  if (used !== 'none' && !(await ctx.clients.secretMatches(client, basic?.secret ?? postedSecret ?? ''))) {
    throw invalidClient(ctx, 'the client credentials are invalid');
  }
  return client;
}
