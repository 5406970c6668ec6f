import { base64url, sha256, utf8 } from './crypto.js';
import { OAuthError } from './errors.js';
import type { OAuthStorage } from './storage.js';

/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP authorization 2025-11-25):
 * a `client_id` that is an https URL names a JSON document holding the client's metadata, fetched and cached here.
 * The network side (and with it the SSRF policy) is a `MetadataFetch` the runtime supplies.
 */

/** What a `MetadataFetch` returns. `body` is the decoded UTF-8 body of a 2xx response, empty for any other status. */
export interface MetadataResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * Fetches an https URL: GET, `Accept: application/json`, no redirects followed (a 3xx is returned as is), body
 * capped at `maxBytes` (throw when exceeded), aborted after `timeoutMs`. Implementations enforce the SSRF policy on
 * the address actually connected to, and throw a `MetadataFetchError` naming the reason.
 */
export type MetadataFetch = (url: URL, limits: { timeoutMs: number; maxBytes: number }) => Promise<MetadataResponse>;

/** Why a `MetadataFetch` failed; `message` and `cause` are for operators (they may name resolved addresses). */
export type MetadataFetchFailure = 'refused' | 'timeout' | 'too_large' | 'network';

/** The error a `MetadataFetch` throws. */
export class MetadataFetchError extends Error {
  readonly reason: MetadataFetchFailure;

  constructor(reason: MetadataFetchFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataFetchError';
    this.reason = reason;
  }
}

export interface ClientMetadataResolverOptions<T> {
  fetch: MetadataFetch;
  storage: OAuthStorage;
  /**
   * Turns the document (already checked for `client_id`, `redirect_uris` and the absence of shared secrets) into the
   * caller's client type. Throws `OAuthError('invalid_client_metadata', …)` on bad metadata. The result is cached,
   * so it must be JSON-serialisable.
   */
  validate: (document: unknown) => T;
  /** Milliseconds since the epoch; used when a response carries no usable `Date`. */
  now?: () => number;
  /** Default 5000. */
  timeoutMs?: number;
  /** Default 5120: the draft suggests authorization servers limit documents to 5 kilobytes. */
  maxBytes?: number;
  /** Cache lifetime when the response carries no caching headers. Default 300. */
  cacheDefaultSeconds?: number;
  /** Upper bound on any cache lifetime. Default 3600. */
  cacheMaxSeconds?: number;
}

/** Token endpoint authentication methods built on a shared secret, which a metadata document must not use. */
const SHARED_SECRET_METHODS: ReadonlySet<string> = new Set([
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
]);

/**
 * Whether `clientId` is a client identifier URL (draft-ietf-oauth-client-id-metadata-document, "Client Identifier"):
 * an https URL with a path component other than "/", no single- or double-dot path segments, no fragment, no
 * username or password. A query is allowed (the draft says SHOULD NOT, not MUST NOT). The string must also be its
 * own canonical (WHATWG URL) serialisation, so one document has one identifier; this is what refuses dot segments
 * (the parser removes them, percent-encoded or not), default ports, upper-case hosts, alternative IP forms and
 * stray whitespace.
 */
export function isClientIdMetadataUrl(clientId: string): boolean {
  if (!URL.canParse(clientId)) return false;
  const url = new URL(clientId);
  if (url.protocol !== 'https:') return false;
  if (url.username !== '' || url.password !== '') return false;
  if (clientId.includes('#')) return false;
  if (url.pathname === '/') return false;
  return url.href === clientId;
}

/**
 * Returns a function resolving a client identifier URL to its validated metadata: from the cache when fresh, else
 * fetched, checked (draft-ietf-oauth-client-id-metadata-document, "Client Metadata") and cached per its HTTP
 * caching headers (RFC 9111 §4.2.1), bounded by `cacheMaxSeconds`. Every failure is `OAuthError('invalid_client')`
 * with a public description and status 400; the precise reason (for the log, never the wire) is the error's `cause`.
 * Storage errors propagate unchanged: they are the server's failure, not the client's.
 */
export function createClientMetadataResolver<T>(
  options: ClientMetadataResolverOptions<T>,
): (clientId: string) => Promise<T> {
  const { fetch, storage, validate } = options;
  const now = options.now ?? Date.now;
  const timeoutMs = positiveInteger(options.timeoutMs ?? 5000, 'timeoutMs');
  const maxBytes = positiveInteger(options.maxBytes ?? 5120, 'maxBytes');
  const cacheDefaultSeconds = nonNegativeInteger(options.cacheDefaultSeconds ?? 300, 'cacheDefaultSeconds');
  const cacheMaxSeconds = nonNegativeInteger(options.cacheMaxSeconds ?? 3600, 'cacheMaxSeconds');
  // Concurrent authorization requests for one client share a single fetch.
  const inFlight = new Map<string, Promise<T>>();

  async function fetchAndCache(clientId: string, key: string): Promise<T> {
    const response = await retrieve(clientId);
    const metadata = parseDocument(clientId, response);
    const lifetime = Math.min(freshnessLifetime(response.headers, now(), cacheDefaultSeconds), cacheMaxSeconds);
    if (lifetime > 0) await storage.set<CachedMetadata<T>>(key, { metadata }, lifetime);
    return metadata;
  }

  async function retrieve(clientId: string): Promise<MetadataResponse> {
    let response: MetadataResponse;
    try {
      response = await fetch(new URL(clientId), { timeoutMs, maxBytes });
    } catch (error) {
      throw fetchFailure(error);
    }
    if (response.status >= 300 && response.status < 400) {
      const description = 'client metadata document could not be retrieved: redirects are not followed';
      throw invalidClient(description, response.status);
    }
    if (response.status !== 200) {
      const description = `client metadata document could not be retrieved: HTTP status ${response.status}`;
      throw invalidClient(description, response.status);
    }
    // A backstop for fetch implementations that do not enforce the cap themselves.
    if (utf8(response.body).byteLength > maxBytes) {
      throw invalidClient('client metadata document exceeds the size limit', `body exceeds ${maxBytes} bytes`);
    }
    return response;
  }

  function parseDocument(clientId: string, response: MetadataResponse): T {
    const contentType = response.headers.get('content-type');
    if (contentType === null || !isJsonMediaType(contentType)) {
      const description = 'client metadata document is invalid: Content-Type must be application/json';
      throw invalidClient(description, contentType);
    }
    let document: unknown;
    try {
      document = JSON.parse(response.body);
    } catch (error) {
      throw invalidClient('client metadata document is invalid: malformed JSON', error);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw invalidClient('client metadata document is invalid: not a JSON object', document);
    }
    const fields = document as Record<string, unknown>;
    // Simple string comparison (the draft, after RFC 3986 §6.2.1): a document speaks only for the URL serving it.
    if (fields['client_id'] !== clientId) {
      const description = 'client metadata document is invalid: client_id does not match its URL';
      throw invalidClient(description, fields['client_id']);
    }
    const redirectUris = fields['redirect_uris'];
    const redirectUrisValid =
      Array.isArray(redirectUris) && redirectUris.length > 0 && redirectUris.every((uri) => typeof uri === 'string');
    if (!redirectUrisValid) {
      const description = 'client metadata document is invalid: redirect_uris must be a non-empty array of strings';
      throw invalidClient(description, redirectUris);
    }
    // A document is public, so (per the draft) it can carry no secret and name no method that relies on one.
    if (Object.hasOwn(fields, 'client_secret') || Object.hasOwn(fields, 'client_secret_expires_at')) {
      const description = 'client metadata document is invalid: it must not contain a client secret';
      throw invalidClient(description, 'client_secret');
    }
    const authMethod = fields['token_endpoint_auth_method'];
    if (typeof authMethod === 'string' && SHARED_SECRET_METHODS.has(authMethod)) {
      const description = 'client metadata document is invalid: token_endpoint_auth_method must not use a shared secret';
      throw invalidClient(description, authMethod);
    }
    try {
      return validate(document);
    } catch (error) {
      const detail = error instanceof OAuthError ? `: ${error.description}` : '';
      throw invalidClient(`client metadata document is invalid${detail}`, error);
    }
  }

  return async function resolveClientMetadata(clientId: string): Promise<T> {
    if (!isClientIdMetadataUrl(clientId)) {
      throw invalidClient('client_id is not a valid client metadata document URL', clientId);
    }
    const key = await cacheKey(clientId);
    const cached = await storage.get<CachedMetadata<T>>(key);
    if (cached !== undefined) return cached.metadata;

    const pending = inFlight.get(key);
    if (pending !== undefined) return pending;
    const resolution = fetchAndCache(clientId, key).finally(() => inFlight.delete(key));
    inFlight.set(key, resolution);
    return resolution;
  };
}

interface CachedMetadata<T> {
  metadata: T;
}

/** `cimd:` + base64url(SHA-256(url)): bounded key length whatever the URL. */
async function cacheKey(clientId: string): Promise<string> {
  return `cimd:${base64url(await sha256(clientId))}`;
}

function fetchFailure(error: unknown): OAuthError {
  const reason = error instanceof MetadataFetchError ? error.reason : 'network';
  if (reason === 'too_large') return invalidClient('client metadata document exceeds the size limit', error);
  if (reason === 'timeout') return invalidClient('client metadata document could not be retrieved in time', error);
  // Refused and unreachable read the same, so the error is no oracle for what an internal name resolves to.
  return invalidClient('client metadata document could not be retrieved', error);
}

function invalidClient(description: string, cause: unknown): OAuthError {
  const error = new OAuthError('invalid_client', description, { status: 400 });
  error.cause = cause;
  return error;
}

/** `application/json` or any `application/*+json` (RFC 6839 §3.1), parameters ignored. */
function isJsonMediaType(contentType: string): boolean {
  const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return essence === 'application/json' || (essence.startsWith('application/') && essence.endsWith('+json'));
}

/**
 * Seconds the response may be served from cache (RFC 9111 §4.2.1, §5.2.2), as a private cache: `no-store` and
 * `no-cache` mean not at all, `max-age` wins over `Expires` (relative to the response's `Date`), `s-maxage` is
 * ignored, and `Age` is deducted. Invalid values count as already stale (§4.2.1).
 */
function freshnessLifetime(headers: Headers, nowMs: number, defaultSeconds: number): number {
  const cacheControl = parseCacheControl(headers.get('cache-control') ?? '');
  if (cacheControl.has('no-store') || cacheControl.has('no-cache')) return 0;

  let lifetime: number;
  if (cacheControl.has('max-age')) {
    lifetime = parseDeltaSeconds(cacheControl.get('max-age')) ?? 0;
  } else if (headers.has('expires')) {
    const expires = Date.parse(headers.get('expires') ?? '');
    const date = Date.parse(headers.get('date') ?? '');
    lifetime = Number.isNaN(expires) ? 0 : Math.floor((expires - (Number.isNaN(date) ? nowMs : date)) / 1000);
  } else {
    lifetime = defaultSeconds;
  }
  const age = parseDeltaSeconds(headers.get('age') ?? undefined) ?? 0;
  return Math.max(0, lifetime - age);
}

/** Directive names lower-cased; the first occurrence of a directive wins (RFC 9111 §4.2.1). */
function parseCacheControl(value: string): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const part of value.split(',')) {
    const separator = part.indexOf('=');
    const name = (separator === -1 ? part : part.slice(0, separator)).trim().toLowerCase();
    if (name === '' || directives.has(name)) continue;
    let argument = separator === -1 ? undefined : part.slice(separator + 1).trim();
    if (argument !== undefined && argument.length >= 2 && argument.startsWith('"') && argument.endsWith('"')) {
      argument = argument.slice(1, -1);
    }
    directives.set(name, argument);
  }
  return directives;
}

function parseDeltaSeconds(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer`);
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return value;
}
