import type { Context } from 'hono';
import type { AccessTokens } from './access-tokens.js';
import type { BrowserSessions } from './browser-session.js';
import type { ClientRegistry } from './clients.js';
import type { Grants } from './grants.js';
import type { OAuthStorage } from './storage.js';
import type { Logger, ResourceDirectory, UserDirectory } from './types.js';

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
  registration: { enabled: boolean; perIpPerMinute: number };
  clientIp: (c: Context) => string | undefined;
}
