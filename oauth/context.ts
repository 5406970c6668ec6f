import type { Context } from 'hono';
import type { AccessTokens } from './access-tokens.js';
import type { BrowserSessions } from './browser-session.js';
import type { ClientRegistry } from './clients.js';
import type { Grants } from './grants.js';
import type { OAuthStorage } from './storage.js';
import { OAuthError } from './errors.js';
import type { AbuseLimiter, LimitDimension, LimitedEndpoint, Logger, ResourceDirectory, UserDirectory } from './types.js';

/** Paths of the endpoints, relative to the public base URL. */
export const ENDPOINTS = {
  authorization: '/authorize',
  login: '/authorize/login',
  consent: '/authorize/consent',
  token: '/token',
  registration: '/register',
  revocation: '/revoke',
  introspection: '/introspect',
  jwks: '/jwks',
} as const;

/** Everything an endpoint needs, built once by `createAuthorizationServer`. */
export interface ServerContext {
  issuer: string;
  /** Public base URL; endpoint URLs are this plus a path from ENDPOINTS. */
  baseUrl: string;
  storage: OAuthStorage;
  now: () => number;
  logger: Logger;
  resources: ResourceDirectory;
  users: UserDirectory;
  clients: ClientRegistry;
  accessTokens: AccessTokens;
  grants: Grants;
  sessions: BrowserSessions;
  registration: { enabled: boolean };
  limits: AbuseLimiter;
  clientIp: (c: Context) => string | undefined;
}

/**
 * Counts a request against an endpoint's abuse limit by client address (`ip`) or by client id, and refuses it with
 * 429, `Retry-After` and the IETF `RateLimit-Policy` / `RateLimit` fields when the limit is spent.
 */
export async function enforceLimit(c: Context, ctx: ServerContext, endpoint: LimitedEndpoint, by: LimitDimension, clientId?: string): Promise<void> {
  const key = by === 'ip' ? (ctx.clientIp(c) ?? 'unknown') : clientId!;
  const refusal = await ctx.limits(endpoint, by, key);
  if (refusal === undefined) return;
  ctx.logger.warn({ endpoint, by, key }, 'an abuse limit refused a request');
  throw new OAuthError('temporarily_unavailable', 'too many requests; try again later', {
    status: 429,
    headers: { 'Retry-After': String(refusal.retryAfterSeconds), ...refusal.headers },
  });
}
