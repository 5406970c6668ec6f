import type { MiddlewareHandler } from 'hono';
import { fromBase64url, sha256, timingSafeEqual } from '../../oauth/crypto.js';
import type { Config } from '../config/schema.js';

/** Who an admin request comes from: a global admin, or the admin of some tenants. */
export interface Admin {
  name: string;
  global: boolean;
  tenants: ReadonlySet<string>;
}

export interface AdminVariables {
  admin: Admin;
}

const BEARER = /^Bearer ([\x21-\x7E]+)$/;

function refuse(status: 401 | 403, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...(status === 401 && { 'www-authenticate': `Bearer realm="portcullis-admin", error="${error}"` }) },
  });
}

/**
 * The admin API's authentication: a bearer token whose SHA-256 is one of `admin.tokens` (compared in constant time,
 * against every configured hash). Without any configured token the whole API is refused.
 */
export function adminAuth(tokens: Config['admin']['tokens']): MiddlewareHandler<{ Variables: AdminVariables }> {
  const known = tokens.map((token) => ({ token, hash: fromBase64url(token.tokenHash) }));
  return async function admin(c, next) {
    if (known.length === 0) return refuse(403, 'access_denied', 'the admin API is disabled: no admin token is configured (admin.tokens)');
    const match = BEARER.exec(c.req.header('authorization') ?? '');
    if (!match) return refuse(401, 'invalid_token', 'an admin token is required');
    const presented = await sha256(match[1]!);
    let found: (typeof known)[number] | undefined;
    for (const candidate of known) if (timingSafeEqual(presented, candidate.hash)) found ??= candidate;
    if (!found) return refuse(401, 'invalid_token', 'the admin token is not valid');
    const global = found.token.tenants.includes('*');
    c.set('admin', { name: found.token.name, global, tenants: new Set(found.token.tenants.filter((tenant) => tenant !== '*')) });
    await next();
  };
}

/** A refusal for an admin who may not act here. */
export function forbidden(description: string): Response {
  return refuse(403, 'forbidden', description);
}
