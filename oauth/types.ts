/** The gateway-facing contract of the authorization server: what it is told about tenants, users and clients. */

export interface ScopeDescription {
  name: string;
  description?: string | undefined;
}

/** One MCP resource (RFC 8707 / RFC 9728) — one per tenant. */
export interface ProtectedResource {
  /** The exact resource URL; every token issued for it carries it as its only audience. */
  resource: string;
  tenant: string;
  tenantName: string;
  /** The scope needed to use the resource at all; granted with every authorization for it. */
  baseScope: string;
  /** Every scope a client may request for this resource, the base scope first. */
  scopes: readonly ScopeDescription[];
}

export interface ResourceDirectory {
  /** Every resource; the same array until the resources change, so that callers may cache what they derive from it. */
  all(): readonly ProtectedResource[];
  byResource(resource: string): ProtectedResource | undefined;
  /** The resource assumed when an authorization request names none (clients older than RFC 8707 support). */
  defaultResource(): ProtectedResource;
}

export interface AuthenticatedUser {
  /** Stable subject identifier, the `sub` of every token. */
  sub: string;
  name: string;
}

export interface UserDirectory {
  /** Verifies a local user's password; undefined for an unknown user or a wrong password (indistinguishably). */
  authenticate(username: string, password: string): Promise<AuthenticatedUser | undefined>;
  find(sub: string): Promise<AuthenticatedUser | undefined>;
  isMember(sub: string, tenant: string): Promise<boolean>;
}

/** A confidential client declared in configuration and allowed the `client_credentials` grant for one tenant. */
export interface ServiceClient {
  clientId: string;
  clientSecret: string;
  name: string;
  tenant: string;
  scopes: readonly string[];
}

/** The subset of pino's logger the authorization server uses. */
export interface Logger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** The endpoints of the authorization server that carry abuse limits, and what a limit counts by. */
export type LimitedEndpoint = 'register' | 'authorize' | 'token';
export type LimitDimension = 'ip' | 'client';

/** A request an abuse limit refused: when to retry, and the IETF RateLimit-Policy / RateLimit fields describing it. */
export interface LimitRefusal {
  retryAfterSeconds: number;
  headers: Record<string, string>;
}

/**
 * Counts one request to a limited endpoint against its limit by client address or client id, and says whether the
 * limit refuses it. Resolves undefined when the request is admitted or no such limit is configured.
 */
export type AbuseLimiter = (endpoint: LimitedEndpoint, by: LimitDimension, key: string) => Promise<LimitRefusal | undefined>;
