import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Context } from 'hono';
import type { AccessTokenClaims } from '../../oauth/access-tokens.js';
import { randomToken } from '../../oauth/crypto.js';
import { OAuthError } from '../../oauth/errors.js';
import { readBody } from '../../oauth/http.js';
import type { Logger } from '../../oauth/types.js';
import type { Tenant } from '../tenancy/resources.js';
import type { Store } from '../store/store.js';
import { StoreEventStore } from './event-store.js';
import { ProxySession } from './proxy.js';
import type { UpstreamDeps } from './upstream.js';

/** Who a session belongs to: the same session id with another subject's, client's or tenant's token is unknown. */
interface Binding {
  sub: string;
  clientId: string;
  tenant: string;
}

interface LiveSession {
  binding: Binding;
  proxy: ProxySession;
  transport: WebStandardStreamableHTTPServerTransport;
  lastUsed: number;
}

export interface SessionRegistryOptions {
  deps: UpstreamDeps;
  /** Keeps each session's SSE events for resumption with Last-Event-ID. */
  store: Store;
  logger: Logger;
  now: () => number;
  /** A session unused this long is closed, with its upstream sessions. */
  idleTimeoutMs?: number;
  /** Most live sessions this process holds. */
  maxSessions?: number;
}

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const IDLE_SWEEP_INTERVAL_MS = 60_000;
/**
 * The SSE `retry` field of each stream's priming event (MCP 2025-11-25 basic/transports, resumability): how long a
 * client whose stream dropped (a network cut, a replica that went away) waits before it resumes with Last-Event-ID.
 */
const SSE_RETRY_MS = 1000;

function rpcError(status: 400 | 403 | 404 | 413 | 503, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'content-type': 'application/json' } });
}

/**
 * The downstream MCP sessions of this process (Streamable HTTP, MCP 2025-11-25 §transports). The SDK's
 * web-standard transport speaks the protocol (JSON or SSE per Accept, the GET stream, DELETE, protocol version
 * header); this registry creates sessions on `initialize`, binds them to the token's subject, client and
 * tenant, and closes idle ones.
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, LiveSession>();
  #lastSweep = 0;
  readonly #o: Required<SessionRegistryOptions>;

  constructor(options: SessionRegistryOptions) {
    this.#o = { idleTimeoutMs: 30 * 60_000, maxSessions: 10_000, ...options };
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
    if (!session || !sameBinding(session.binding, binding)) return rpcError(404, -32001, 'Session not found');
    session.lastUsed = this.#o.now();
    return session.transport.handleRequest(c.req.raw, { authInfo });
  }

  /** A POST without a session id must be an initialize request; it opens the session and its upstream sessions. */
  async #initialize(c: Context, tenant: Tenant, binding: Binding, authInfo: AuthInfo): Promise<Response> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(c, MAX_MESSAGE_BYTES));
    } catch (error) {
      if (error instanceof OAuthError && error.status === 413) return rpcError(413, -32000, 'the message is too large');
      return rpcError(400, -32700, 'Parse error: the body is not valid JSON');
    }
    const initialize = Array.isArray(body) ? undefined : body;
    if (!isInitializeRequest(initialize)) return rpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    if (this.#sessions.size >= this.#o.maxSessions) return rpcError(503, -32000, 'too many sessions; try again later');

    const capabilities: ClientCapabilities = initialize.params.capabilities;
    const proxy = await ProxySession.open(tenant.config.upstreams, capabilities, this.#o.deps, this.#o.logger);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomToken(),
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { binding, proxy, transport, lastUsed: this.#o.now() });
      },
      onsessionclosed: (id) => this.#close(id),
      eventStore: new StoreEventStore(this.#o.store),
      retryInterval: SSE_RETRY_MS,
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) void this.#close(transport.sessionId);
    };
    await proxy.server.connect(transport);
    const response = await transport.handleRequest(c.req.raw, { parsedBody: initialize, authInfo });
    if (transport.sessionId === undefined || !this.#sessions.has(transport.sessionId)) await proxy.close();
    return response;
  }

  async #close(id: string): Promise<void> {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    await session.proxy.close().catch((error: unknown) => this.#o.logger.warn({ err: error }, 'closing a session failed'));
  }

  #closeIdle(): void {
    // A sweep walks every session, so it runs at most once a minute rather than on every request.
    if (this.#o.now() - this.#lastSweep < IDLE_SWEEP_INTERVAL_MS) return;
    this.#lastSweep = this.#o.now();
    const cutoff = this.#o.now() - this.#o.idleTimeoutMs;
    for (const [id, session] of this.#sessions) if (session.lastUsed < cutoff) void this.#close(id);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#sessions.keys()].map((id) => this.#close(id)));
  }
}

function sameBinding(a: Binding, b: Binding): boolean {
  return a.sub === b.sub && a.clientId === b.clientId && a.tenant === b.tenant;
}
