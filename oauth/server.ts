import type { Context } from 'hono';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { AccessTokens, generateSigningKey, type AccessTokenClaims, type SigningKeyMaterial } from './access-tokens.js';
import { authorizationEndpoint } from './authorize.js';
import { BrowserSessions, generateCookieKey, type CookieKeyMaterial } from './browser-session.js';
import type { MetadataFetch } from './client-metadata-document.js';
import { ClientRegistry, type Client } from './clients.js';
import { ENDPOINTS, type ServerContext } from './context.js';
import { OAuthError, oauthErrorResponse } from './errors.js';
import { corsForBrowsers } from './http.js';
import { Grants } from './grants.js';
import { introspectionEndpoint } from './introspect.js';
import { IssuedBefore } from './issued-before.js';
import { deriveEncryptionKey, RotatingKeys } from './keys.js';
import { discoveryEndpoints, protectedResourceMetadataUrl } from './metadata.js';
import { registrationEndpoint } from './register.js';
import { revocationEndpoint } from './revoke.js';
import type { OAuthStorage } from './storage.js';
import { tokenEndpoint } from './token.js';
import type { AbuseLimiter, Logger, ResourceDirectory, ServiceClient, UserDirectory } from './types.js';

export interface AuthorizationServerOptions {
  /** The issuer identifier, reused verbatim everywhere (RFC 8414 §2, RFC 9207). */
  issuer: string;
  /** The public base URL the endpoints are reached at. */
  baseUrl: string;
  storage: OAuthStorage;
  resources: ResourceDirectory;
  users: UserDirectory;
  serviceClients: readonly ServiceClient[];
  /** Secret that encrypts the shared signing and cookie keys in storage; the same on every replica. */
  encryptionKey: string;
  tokens: { accessTokenTtl: number; refreshTokenIdleTtl: number; refreshTokenAbsoluteTtl: number; signingKeyRotation: number };
  registration: { enabled: boolean };
  /** Abuse limits of registration, authorization and token requests, per client address and client id. */
  limits: AbuseLimiter;
  /** Client ID metadata documents; omitted means unsupported. */
  metadataDocuments?: { fetch: MetadataFetch; timeoutMs?: number; maxBytes?: number; cacheMaxSeconds?: number };
  /** The address of the client that sent a request, for rate limits. */
  clientIp: (c: Context) => string | undefined;
  logger: Logger;
  now?: () => number;
}

export interface AuthorizationServer {
  /** Hono app with every endpoint; mount it at the root of the gateway. */
  app: Hono;
  /** Verifies an access token for one resource; throws `OAuthError('invalid_token')`. */
  verifyAccessToken(token: string, resource: string): Promise<AccessTokenClaims>;
  /** The absolute URL of a resource's protected resource metadata, for `WWW-Authenticate`. */
  resourceMetadataUrl(resource: string): string;
  /** Voids every token issued to a client until now: its access tokens are refused, its refresh tokens too. */
  revokeClient(clientId: string): Promise<void>;
  /** Voids every token issued for a user until now. */
  revokeSubject(sub: string): Promise<void>;
  /** A client: configured, registered (RFC 7591) or a metadata document already fetched; undefined if unknown. */
  findClient(clientId: string): Promise<Client | undefined>;
  /** The ids of the clients registered with RFC 7591, newest last. */
  registeredClients(): Promise<string[]>;
}

const SESSION_TTL_SECONDS = 8 * 3600;
const CODE_TTL_SECONDS = 60;
const REFRESH_GRACE_SECONDS = 10;

/**
 * The OAuth 2.1 authorization server of Portcullis as a self-contained Hono app. It knows tenants only as
 * protected resources and users only through the directory it is given.
 */
export async function createAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const now = options.now ?? Date.now;
  const { storage, tokens } = options;
  const encryptionKey = await deriveEncryptionKey(options.encryptionKey);
  const signingKeys = new RotatingKeys<SigningKeyMaterial>({
    storage,
    name: 'keys:signing',
    encryptionKey,
    rotateAfterSeconds: tokens.signingKeyRotation,
    // A retired key stays in the JWKS until every token it signed has expired.
    retainSeconds: tokens.accessTokenTtl + 60,
    generate: generateSigningKey,
    now,
  });
  const cookieKeys = new RotatingKeys<CookieKeyMaterial>({
    storage,
    name: 'keys:cookie',
    encryptionKey,
    rotateAfterSeconds: 7 * 86400,
    retainSeconds: SESSION_TTL_SECONDS,
    generate: generateCookieKey,
    now,
  });
  const issuedBefore = new IssuedBefore({ storage, ttlSeconds: tokens.refreshTokenAbsoluteTtl, now });
  const accessTokens = new AccessTokens({ issuer: options.issuer, ttlSeconds: tokens.accessTokenTtl, keys: signingKeys, storage, issuedBefore, now });
  const ctx: ServerContext = {
    issuer: options.issuer,
    baseUrl: options.baseUrl,
    storage,
    now,
    logger: options.logger,
    resources: options.resources,
    users: options.users,
    clients: new ClientRegistry({
      storage,
      now,
      serviceClients: options.serviceClients,
      ...(options.metadataDocuments !== undefined && { metadataDocuments: options.metadataDocuments }),
    }),
    accessTokens,
    grants: new Grants({
      storage,
      accessTokens,
      issuedBefore,
      now,
      codeTtlSeconds: CODE_TTL_SECONDS,
      refreshIdleSeconds: tokens.refreshTokenIdleTtl,
      refreshAbsoluteSeconds: tokens.refreshTokenAbsoluteTtl,
      refreshGraceSeconds: REFRESH_GRACE_SECONDS,
    }),
    sessions: new BrowserSessions({ issuer: options.issuer, keys: cookieKeys, ttlSeconds: SESSION_TTL_SECONDS, now }),
    registration: options.registration,
    limits: options.limits,
    clientIp: options.clientIp,
  };

  const app = new Hono();
  // Browser-based MCP clients call these cross-origin; none of them uses cookies, so any origin may.
  const apiCors = corsForBrowsers(cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'MCP-Protocol-Version'],
    exposeHeaders: ['WWW-Authenticate', 'Retry-After', 'RateLimit-Policy', 'RateLimit'],
    maxAge: 86400,
  }));
  for (const path of ['/.well-known/*', ENDPOINTS.token, ENDPOINTS.registration, `${ENDPOINTS.registration}/*`, ENDPOINTS.revocation, ENDPOINTS.introspection, ENDPOINTS.jwks]) {
    app.use(path, apiCors);
  }
  app.route('/', discoveryEndpoints(ctx));
  app.route('/', authorizationEndpoint(ctx));
  app.route('/', tokenEndpoint(ctx));
  app.route('/', registrationEndpoint(ctx));
  app.route('/', revocationEndpoint(ctx));
  app.route('/', introspectionEndpoint(ctx));
  app.onError((error, c) => {
    if (error instanceof OAuthError) return oauthErrorResponse(c, error);
    options.logger.error({ err: error, path: c.req.path }, 'unexpected error in the authorization server');
    return oauthErrorResponse(c, new OAuthError('server_error', 'the server could not complete the request'));
  });

  return {
    app,
    verifyAccessToken: (token, resource) => accessTokens.verify(token, resource),
    revokeClient: async (clientId) => void (await issuedBefore.revokeClient(clientId)),
    revokeSubject: async (sub) => void (await issuedBefore.revokeSubject(sub)),
    findClient: (clientId) => ctx.clients.find(clientId),
    registeredClients: () => ctx.clients.registered(),
    resourceMetadataUrl: protectedResourceMetadataUrl,
  };
}
