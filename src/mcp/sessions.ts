import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Context } from 'hono';
import type { AccessTokenClaims } from '../../oauth/access-tokens.js';
import { randomToken } from '../../oauth/crypto.js';
import { OAuthError } from '../../oauth/errors.js';
import { readBody } from '../../oauth/http.js';
import type { Logger } from '../../oauth/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { ToolPins } from '../guard/pins.js';
import type { Metrics } from '../observe/metrics.js';
import { sessionAccess } from '../gate/access.js';
import type { Tenant } from '../tenancy/resources.js';
import type { Bus } from '../store/bus.js';
import type { Store } from '../store/store.js';
import { UpstreamCatalog } from './catalog.js';
import { StoreEventStore } from './event-store.js';
import { ProxySession } from './proxy.js';
import { SessionRelay, type RelayedRequest } from './relay.js';
import type { UpstreamDeps } from './upstream.js';
import { bearerChallenge } from './bearer.js';

/** Who a session belongs to: the same session id with another subject's, client's or tenant's token is unknown. */
interface Binding {
  sub: string;
  clientId: string;
  tenant: string;
}

/** A session as every replica sees it in the store: who it belongs to, and which replica holds it. */
interface SessionRecord extends Binding {
  owner: string;
}

interface LiveSession {
  binding: Binding;
  tenant: Tenant;
  proxy: ProxySession;
  transport: WebStandardStreamableHTTPServerTransport;
  lastUsed: number;
  /** When this replica last wrote the session's record, whose TTL follows the idle timeout. */
  recorded: number;
}

export interface SessionRegistryOptions {
  deps: UpstreamDeps;
  /** The shared store: session records, and each session's SSE events for resumption unless `events` is given. */
  store: Store;
  /**
   * Keeps each session's SSE events for resumption with Last-Event-ID; the shared store by default, so that any
   * replica can serve a resumption. Where every request of a session reaches the one place that holds it (a Durable
   * Object on Workers), that place's memory is enough.
   */
  events?: Store;
  logger: Logger;
  now: () => number;
  /** A session unused this long is closed, with its upstream sessions. */
  idleTimeoutMs?: number;
  /** Most live sessions this process holds. */
  maxSessions?: number;
  /**
   * Connects the replicas sharing the store: with a bus, a request for a session another replica holds is relayed
   * to it. Without one, sessions live and die with this process.
   */
  bus?: Bus;
  /** The interval of SSE keep-alive comments on idle streams, so that proxies do not cut them. */
  keepAliveMs?: number;
  /** The groups of a user, for policy rules that name groups. */
  groupsOf: (sub: string) => readonly string[];
  metrics: Metrics;
  /** Tool-definition pins, shared by the sessions of every tenant. */
  pins: ToolPins;
  /** Validates redacted structured tool results against their output schemas. */
  validator: jsonSchemaValidator;
  /** The URL of a resource's protected resource metadata (RFC 9728), for scope challenges. */
  resourceMetadataUrl: (resource: string) => string;
  /** Names a new session from its initialize request; a random token by default. */
  sessionId?: (request: Request) => string;
}

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const IDLE_SWEEP_INTERVAL_MS = 60_000;
/** Records of other replicas' sessions this replica remembers; the owner stays the judge of whether one still lives. */
const MAX_REMOTE_RECORDS = 10_000;
/** Request headers the owner of a session needs to handle a relayed request the way the SDK transport does. */
const RELAYED_HEADERS = ['accept', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id'];
/**
 * The SSE `retry` field of each stream's priming event (MCP 2025-11-25 basic/transports, resumability): how long a
 * client whose stream dropped (a network cut, a replica that went away) waits before it resumes with Last-Event-ID.
 */
const SSE_RETRY_MS = 1000;

/** Whose sessions an admin revocation ends: a client's, or a user's. */
export type Revoked = { clientId: string; sub?: undefined } | { sub: string; clientId?: undefined };

/** What replicas tell each other's sessions: an admin revoked tokens, or approved tool definitions of a tenant. */
type SessionEvent = { revoked: Revoked } | { toolsApproved: string };
const EVENTS_CHANNEL = 'mcp-session-events';

function recordKey(sessionId: string): string {
  return `mcp-session:${sessionId}`;
}

function rpcError(status: 400 | 403 | 404 | 413 | 503, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'content-type': 'application/json' } });
}

/**
 * The downstream MCP sessions of this process (Streamable HTTP, MCP 2025-11-25 §transports). The SDK's
 * web-standard transport speaks the protocol (JSON or SSE per Accept, the GET stream, DELETE, protocol version
 * header); this registry creates sessions on `initialize`, binds them to the token's subject, client and
 * tenant, and closes idle ones.
 *
 * With a bus, several replicas serve one session without sticky load balancing: the replica that handled
 * `initialize` holds the session and records itself as its owner in the store; any other replica checks the
 * binding against that record and relays the request to the owner ({@link SessionRelay}).
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, LiveSession>();
  readonly #remote = new Map<string, SessionRecord>();
  readonly #relay: SessionRelay | undefined;
  readonly #bus: Bus | undefined;
  readonly #catalog: UpstreamCatalog;
  #unsubscribe: (() => Promise<void>) | undefined;
  #lastSweep = 0;
  readonly #o: Required<Omit<SessionRegistryOptions, 'bus' | 'events'>> & Pick<SessionRegistryOptions, 'events'>;

  constructor(options: SessionRegistryOptions) {
    this.#o = { idleTimeoutMs: 30 * 60_000, maxSessions: 10_000, keepAliveMs: 15_000, sessionId: () => randomToken(), ...options };
    this.#catalog = new UpstreamCatalog(this.#o.now);
    this.#bus = options.bus;
    if (options.bus) {
      this.#relay = new SessionRelay({
        bus: options.bus,
        serve: (request) => this.#serveRelayed(request),
        logger: options.logger,
        silenceMs: 3 * this.#o.keepAliveMs + 5000,
      });
    }
  }

  /** Starts listening for requests other replicas relay to this one, and for revocations and approvals made on them. */
  async start(): Promise<void> {
    await this.#relay?.start();
    this.#unsubscribe = await this.#bus?.subscribe(EVENTS_CHANNEL, (message) => {
      try {
        const event = JSON.parse(message) as SessionEvent;
        if ('revoked' in event) this.#endLocal(event.revoked);
        else this.#notifyLocal(event.toolsApproved);
      } catch (error) {
        this.#o.logger.warn({ err: error }, 'ignored a malformed session event');
      }
    });
  }

  /**
   * Ends the sessions of a client or of a user, whose tokens an admin just revoked, on every replica: this one at
   * once, the others through the bus.
   */
  async endSessionsOf(revoked: Revoked): Promise<void> {
    this.#endLocal(revoked);
    await this.#bus?.publish(EVENTS_CHANNEL, JSON.stringify({ revoked } satisfies SessionEvent));
  }

  /** An admin approved tool definitions of a tenant: its sessions on every replica are told their tool lists changed. */
  async toolsApproved(tenant: string): Promise<void> {
    this.#notifyLocal(tenant);
    await this.#bus?.publish(EVENTS_CHANNEL, JSON.stringify({ toolsApproved: tenant } satisfies SessionEvent));
  }

  #tellListsChanged(session: LiveSession): void {
    void session.proxy.notifyListsChanged().catch((error: unknown) => this.#o.logger.warn({ err: error }, 'telling a session its lists changed failed'));
  }

  #notifyLocal(tenant: string): void {
    for (const session of this.#sessions.values()) {
      if (session.binding.tenant === tenant) this.#tellListsChanged(session);
    }
  }

  #endLocal(revoked: Revoked): void {
    for (const [id, session] of this.#sessions) {
      if (session.binding.clientId === revoked.clientId || session.binding.sub === revoked.sub) void this.#close(id);
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  async handle(c: Context, tenant: Tenant, auth: AccessTokenClaims): Promise<Response> {
    this.#closeIdle();
    const binding: Binding = { sub: auth.sub, clientId: auth.client_id, tenant: tenant.config.id };
    // The token itself stays here: nothing downstream of the gateway may see or forward it.
    const authInfo: AuthInfo = { token: '', clientId: auth.client_id, scopes: auth.scope.split(' '), expiresAt: auth.exp, extra: { sub: auth.sub, tenant: auth.tenant } };
    const sessionId = c.req.header('mcp-session-id');
    if (sessionId === undefined) {
      if (c.req.method !== 'POST') return rpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return this.#initialize(c, tenant, binding, authInfo);
    }
    const session = this.#sessions.get(sessionId);
    if (session) {
      if (!sameBinding(session.binding, binding)) return sessionNotFound();
      this.#touch(sessionId, session);
      const body = c.req.method === 'POST' ? await readMessage(c) : undefined;
      if (body instanceof Response) return body;
      return this.#serveHeld(session, c.req.raw, body, authInfo);
    }
    return this.#relayToOwner(c, sessionId, binding, authInfo);
  }

  /**
   * Serves a request of a session this replica holds. Calls that policy would allow with more scopes are answered
   * 403 insufficient_scope here, before the SDK transport, because the challenge is an HTTP answer.
   */
  async #serveHeld(session: LiveSession, request: Request, body: string | undefined, authInfo: AuthInfo): Promise<Response> {
    if (body === undefined) return session.transport.handleRequest(request, { authInfo });
    let parsedBody: unknown;
    try {
      parsedBody = JSON.parse(body);
    } catch {
      return rpcError(400, -32700, 'Parse error: the body is not valid JSON');
    }
    const missing = await session.proxy.missingScopes(parsedBody, authInfo);
    if (missing.length > 0) return this.#insufficientScope(session.tenant, authInfo.scopes, missing);
    return session.transport.handleRequest(request, { authInfo, parsedBody });
  }

  /** RFC 6750 §3.1 and MCP 2025-11-25 authorization (scope challenges): the scopes held plus the ones missing. */
  #insufficientScope(tenant: Tenant, held: readonly string[], missing: readonly string[]): Response {
    const scope = [...new Set([...held, ...missing])].join(' ');
    const error = new OAuthError('insufficient_scope', `this request needs the scope ${missing.join(' ')}`);
    return new Response(JSON.stringify({ error: error.code, error_description: error.description }), {
      status: 403,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'www-authenticate': bearerChallenge(this.#o.resourceMetadataUrl(tenant.resource.resource), scope, error) },
    });
  }

  /** A request for a session this replica does not hold: the owner named in the store serves it. */
  async #relayToOwner(c: Context, sessionId: string, binding: Binding, authInfo: AuthInfo): Promise<Response> {
    if (!this.#relay) return sessionNotFound();
    const record = this.#remote.get(sessionId) ?? (await this.#o.store.get<SessionRecord>(recordKey(sessionId)));
    if (!record || record.owner === this.#relay.replica || !sameBinding(record, binding)) return sessionNotFound();
    this.#remember(sessionId, record);
    const body = c.req.method === 'POST' ? await readMessage(c) : undefined;
    if (body instanceof Response) return body;
    const headers = RELAYED_HEADERS.flatMap((name): [string, string][] => {
      const value = c.req.header(name);
      return value === undefined ? [] : [[name, value]];
    });
    const response = await this.#relay.forward(record.owner, { sessionId, authInfo, method: c.req.method, url: c.req.url, headers, ...(body !== undefined && { body }) });
    if (response && response.status !== 404) return response;
    // The owner is gone (its sessions went with it) or no longer has the session: the client starts a new one.
    this.#remote.delete(sessionId);
    if (!response) await this.#o.store.delete(recordKey(sessionId));
    return sessionNotFound();
  }

  /** Owner side of a relayed request: the replica that received it has verified the token and the binding. */
  async #serveRelayed(request: RelayedRequest): Promise<Response> {
    const session = this.#sessions.get(request.sessionId);
    const extra = request.authInfo.extra as { sub?: unknown; tenant?: unknown } | undefined;
    const binding = { sub: String(extra?.sub), clientId: request.authInfo.clientId, tenant: String(extra?.tenant) };
    if (!session || !sameBinding(session.binding, binding)) return sessionNotFound();
    this.#touch(request.sessionId, session);
    const raw = new Request(request.url, { method: request.method, headers: request.headers, ...(request.body !== undefined && { body: request.body }) });
    return this.#serveHeld(session, raw, request.body, request.authInfo);
  }

  #remember(sessionId: string, record: SessionRecord): void {
    if (this.#remote.size >= MAX_REMOTE_RECORDS) this.#remote.delete(this.#remote.keys().next().value!);
    this.#remote.set(sessionId, record);
  }

  /** Marks a session used; its record's TTL is renewed a few times per idle timeout, not on every request. */
  #touch(sessionId: string, session: LiveSession): void {
    session.lastUsed = this.#o.now();
    if (!this.#relay || session.lastUsed - session.recorded < this.#o.idleTimeoutMs / 4) return;
    session.recorded = session.lastUsed;
    this.#o.store.set<SessionRecord>(recordKey(sessionId), { ...session.binding, owner: this.#relay.replica }, this.#recordTtl()).catch((error: unknown) => {
      this.#o.logger.warn({ err: error }, 'renewing an MCP session record failed');
    });
  }

  #recordTtl(): number {
    return Math.ceil(this.#o.idleTimeoutMs / 1000);
  }

  /** A POST without a session id must be an initialize request; it opens the session and its upstream sessions. */
  async #initialize(c: Context, tenant: Tenant, binding: Binding, authInfo: AuthInfo): Promise<Response> {
    const text = await readMessage(c);
    if (text instanceof Response) return text;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return rpcError(400, -32700, 'Parse error: the body is not valid JSON');
    }
    const initialize = Array.isArray(body) ? undefined : body;
    if (!isInitializeRequest(initialize)) return rpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    if (this.#sessions.size >= this.#o.maxSessions) return rpcError(503, -32000, 'too many sessions; try again later');

    const sessionId = this.#o.sessionId(c.req.raw);
    // Other replicas learn of the session from its record, so it is written before the client can learn the id.
    if (this.#relay) await this.#o.store.set<SessionRecord>(recordKey(sessionId), { ...binding, owner: this.#relay.replica }, this.#recordTtl());
    const capabilities: ClientCapabilities = initialize.params.capabilities;
    let live: LiveSession | undefined;
    const access = sessionAccess({ tenant: () => live?.tenant ?? tenant, sub: binding.sub, clientId: binding.clientId, groupsOf: this.#o.groupsOf, store: this.#o.store, now: this.#o.now, logger: this.#o.logger, metrics: this.#o.metrics, pins: this.#o.pins, validator: this.#o.validator });
    const proxy = await ProxySession.open(tenant.config.upstreams, capabilities, this.#o.deps, this.#catalog, access, this.#o.logger);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      onsessioninitialized: (id) => {
        const now = this.#o.now();
        live = { binding, tenant, proxy, transport, lastUsed: now, recorded: now };
        this.#sessions.set(id, live);
      },
      onsessionclosed: (id) => this.#close(id),
      eventStore: new StoreEventStore(this.#o.events ?? this.#o.store, { logger: this.#o.logger }),
      retryInterval: SSE_RETRY_MS,
      keepAliveMs: this.#o.keepAliveMs,
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) void this.#close(transport.sessionId);
    };
    await proxy.server.connect(transport);
    const response = await transport.handleRequest(c.req.raw, { parsedBody: initialize, authInfo });
    if (!this.#sessions.has(sessionId)) {
      await proxy.close();
      if (this.#relay) await this.#o.store.delete(recordKey(sessionId));
    }
    return response;
  }

  async #close(id: string): Promise<void> {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    await Promise.all([
      session.proxy.close().catch((error: unknown) => this.#o.logger.warn({ err: error }, 'closing a session failed')),
      this.#relay && this.#o.store.delete(recordKey(id)).catch((error: unknown) => this.#o.logger.warn({ err: error }, 'deleting an MCP session record failed')),
    ]);
  }

  #closeIdle(): void {
    // A sweep walks every session, so it runs at most once a minute rather than on every request.
    if (this.#o.now() - this.#lastSweep < IDLE_SWEEP_INTERVAL_MS) return;
    this.#lastSweep = this.#o.now();
    const cutoff = this.#o.now() - this.#o.idleTimeoutMs;
    for (const [id, session] of this.#sessions) if (session.lastUsed < cutoff) void this.#close(id);
  }

  /**
   * A tenant changed through the admin API. Its live sessions here decide with its new policy from now on, and are
   * told that their lists may have changed (upstreams stay as they were when the session began); the sessions of
   * a deleted tenant end.
   */
  tenantChanged(id: string, after: Tenant | undefined, policyChanged: boolean): void {
    for (const [sessionId, session] of this.#sessions) {
      if (session.binding.tenant !== id) continue;
      if (!after) {
        void this.#close(sessionId);
        continue;
      }
      session.tenant = after;
      if (policyChanged) this.#tellListsChanged(session);
    }
  }

  /** Ends every session this replica holds and stops serving other replicas. */
  async closeAll(): Promise<void> {
    await this.#unsubscribe?.();
    await this.#relay?.stop();
    await Promise.all([...this.#sessions.keys()].map((id) => this.#close(id)));
  }
}

/** The body of a POST, or the error response (JSON-RPC) when it is too large. */
export async function readMessage(c: Context): Promise<string | Response> {
  try {
    return await readBody(c, MAX_MESSAGE_BYTES);
  } catch (error) {
    if (error instanceof OAuthError && error.status === 413) return rpcError(413, -32000, 'the message is too large');
    throw error;
  }
}

function sessionNotFound(): Response {
  return rpcError(404, -32001, 'Session not found');
}

function sameBinding(a: Binding, b: Binding): boolean {
  return a.sub === b.sub && a.clientId === b.clientId && a.tenant === b.tenant;
}
