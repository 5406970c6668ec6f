import { DurableObject } from 'cloudflare:workers';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { randomToken } from '../../oauth/crypto.js';
import type { Logger } from '../../oauth/types.js';
import { createGateway, type Gateway, type GatewayConfig, type GatewayDeps } from '../app.js';
import { ConfigError, parseConfigText } from '../config/load.js';
import { assertRuntimeSupports } from '../config/runtime.js';
import { isLoopbackHost, settleUrls } from '../config/settle.js';
import { DurableObjectStore, type StoreObject } from '../store/durable-object.js';
import { MemoryStore } from '../store/memory.js';
import { createWorkersMetadataFetch } from './worker-fetch.js';

export { StoreObject } from '../store/durable-object.js';

/** The Worker's bindings (wrangler.toml): two Durable Object namespaces, the configuration and its secrets. */
export interface Env {
  STORE: DurableObjectNamespace<StoreObject>;
  SESSIONS: DurableObjectNamespace<SessionObject>;
  /** The configuration, YAML or JSON. `${NAME}` in it reads the Worker's other text bindings (secrets, vars). */
  PORTCULLIS_CONFIG: string;
}

/** Names the session a request is for, from the front Worker to the session's object; never taken from a client. */
const SESSION_HEADER = 'portcullis-session';
const CONFIG_SOURCE = 'PORTCULLIS_CONFIG';

interface Started {
  config: GatewayConfig;
  gateway: Gateway;
  /** The publicUrl is on this machine: a configuration for `wrangler dev` (see `developmentOnly`). */
  local: boolean;
}

/** The text bindings, for `${NAME}` references; Durable Object namespaces and other bindings are not text. */
function textBindings(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function loadConfig(env: Env): GatewayConfig {
  if (typeof env.PORTCULLIS_CONFIG !== 'string') throw new ConfigError(CONFIG_SOURCE, ['(root): the Worker has no PORTCULLIS_CONFIG variable']);
  const config = parseConfigText(env.PORTCULLIS_CONFIG, textBindings(env), CONFIG_SOURCE);
  assertRuntimeSupports(config, 'workers', CONFIG_SOURCE);
  return settleUrls(config, CONFIG_SOURCE);
}

async function start(env: Env, deps: Pick<GatewayDeps, 'sessionHost' | 'sessionId' | 'sessionEvents'>): Promise<Started> {
  const config = loadConfig(env);
  const logger = consoleLogger(config.logLevel);
  const gateway = await createGateway(config, {
    store: new DurableObjectStore(env.STORE),
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    logger,
    fetchClientMetadata: createWorkersMetadataFetch({ allowLoopback: config.clientMetadataDocuments.allowLoopback }),
    clientIp: (c) => c.req.header('cf-connecting-ip'),
    ...deps,
  });
  return { config, gateway, local: isLoopbackHost(new URL(config.publicUrl).hostname) };
}

/** Starts a gateway once per isolate (or object); a failed start is retried by the next request, not kept. */
class Lazy {
  #started: Promise<Started> | undefined;

  constructor(private readonly begin: () => Promise<Started>) {}

  /** Whether a gateway is started or starting. */
  get started(): boolean {
    return this.#started !== undefined;
  }

  async get(): Promise<Started> {
    this.#started ??= this.begin();
    try {
      return await this.#started;
    } catch (error) {
      this.#started = undefined;
      throw error;
    }
  }

  /** The gateway if one started, and forgets it. */
  async take(): Promise<Started | undefined> {
    const started = this.#started;
    this.#started = undefined;
    return started?.catch(() => undefined);
  }
}

/** The started gateway, or, when it cannot start (a configuration error, say), a 503 and the reason in the log. */
async function startedOr503(lazy: Lazy): Promise<Started | Response> {
  try {
    return await lazy.get();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: 'the gateway cannot start', err: describeError(error) }));
    return Response.json({ error: 'temporarily_unavailable', error_description: 'the gateway cannot start; its log says why' }, { status: 503 });
  }
}

/**
 * An MCP request that passed the bearer check goes to its session's Durable Object; a new session (no
 * Mcp-Session-Id) gets a random id here, which names the object that will hold it. The body goes read whole: an
 * object may answer (404 for an unknown session) without reading it, and a stream still flowing would then fail.
 */
async function toSessionObject(env: Env, request: Request, body: string | undefined): Promise<Response> {
  // Only a POST (initialize) may come without a session: the answer for any other is known here, as on Node.
  if (!request.headers.has('mcp-session-id') && request.method !== 'POST') {
    return Response.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' }, id: null }, { status: 400 });
  }
  const sessionId = request.headers.get('mcp-session-id') ?? randomToken();
  const headers = new Headers(request.headers);
  headers.set(SESSION_HEADER, sessionId);
  const forwarded = new Request(request.url, { method: request.method, headers, ...(body !== undefined && { body }) });
  const response = await env.SESSIONS.get(env.SESSIONS.idFromName(sessionId)).fetch(forwarded);
  // A response from another object has immutable headers; the front's middleware (CORS) adds to them.
  return new Response(response.body, response);
}

/**
 * A configuration whose publicUrl is on this machine is for `wrangler dev`, like the one in wrangler.toml (with the
 * user demo/demo): deployed as it is, it would serve that login to the internet under a wrong issuer. It serves
 * requests addressed to a loopback host only.
 */
function developmentOnly(started: Started, request: Request): Response | undefined {
  if (!started.local || isLoopbackHost(new URL(request.url).hostname)) return undefined;
  console.error(JSON.stringify({ level: 'error', msg: 'publicUrl is a loopback address: set it to the URL clients use', publicUrl: started.config.publicUrl }));
  return Response.json({ error: 'temporarily_unavailable', error_description: 'this gateway is configured for local development only' }, { status: 503 });
}

let front: Lazy | undefined;

export default {
  async fetch(request, env) {
    front ??= new Lazy(() => start(env, { sessionHost: (mcpRequest, body) => toSessionObject(env, mcpRequest, body) }));
    const started = await startedOr503(front);
    if (started instanceof Response) return started;
    return developmentOnly(started, request) ?? started.gateway.app.fetch(request);
  },
} satisfies ExportedHandler<Env>;

/**
 * One MCP session and the upstream sessions behind it, in a Durable Object named by the session id: every request
 * of the session reaches this object wherever it entered Cloudflare's network, and the object runs a gateway of
 * its own that verifies the token again and holds the session in memory.
 *
 * A timer pending until the session's idle deadline keeps the object in memory while the session may still be used
 * (an idle object without one is hibernated within seconds, losing the session; a pending timer keeps a Durable
 * Object running since the 2026-10-01 compatibility date), and at the deadline closes the session, as the Node
 * runtime's idle sweep does. An object that was evicted anyway (a deploy, a restart) has lost its session and
 * answers 404, upon which the client starts a new one (MCP 2025-11-25 basic/transports, session management).
 */
export class SessionObject extends DurableObject<Env> {
  readonly #lazy: Lazy;
  #sessionId: string | undefined;
  #lastUsed = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Every request of the session reaches this object, so its SSE events (for Last-Event-ID) stay in its memory:
    // a Durable Object per event in the shared store would cost a round trip and a new object per message.
    this.#lazy = new Lazy(() => start(env, { sessionId: () => this.#sessionId ?? randomToken(), sessionEvents: new MemoryStore() }));
  }

  override async fetch(request: Request): Promise<Response> {
    const sessionId = request.headers.get(SESSION_HEADER);
    if (sessionId === null) return Response.json({ error: 'not_found', error_description: 'no such endpoint' }, { status: 404 });
    // Only initialize starts a gateway here: a request for a session this object does not hold (a made-up id, or one
    // lost with an eviction) is answered at once, however many of them come.
    if (!this.#lazy.started && request.headers.has('mcp-session-id')) {
      return Response.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }, { status: 404 });
    }
    this.#sessionId = sessionId;
    this.#lastUsed = Date.now();
    const headers = new Headers(request.headers);
    headers.delete(SESSION_HEADER);
    const started = await startedOr503(this.#lazy);
    if (started instanceof Response) return started;
    const response = await started.gateway.app.fetch(new Request(request, { headers }));
    // An initialize that was refused, or a DELETE, leaves no session: nothing stays running for it.
    if (started.gateway.sessionCount() === 0) await this.#end();
    else this.#keepUntilIdle(started.config.mcp.sessionIdleTimeout * 1000);
    return response;
  }

  #keepUntilIdle(idleMs: number): void {
    if (this.#idleTimer !== undefined) return;
    const check = () => {
      const left = this.#lastUsed + idleMs - Date.now();
      if (left > 0) this.#idleTimer = setTimeout(check, left);
      else void this.#end();
    };
    this.#idleTimer = setTimeout(check, idleMs);
  }

  /** Closes the session and its upstream sessions, and lets the object go. */
  async #end(): Promise<void> {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    await (await this.#lazy.take())?.gateway.close();
  }
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/** JSON lines on the console, which Workers Logs and `wrangler tail` collect; `err` is written out as an error. */
function consoleLogger(level: keyof typeof LEVELS): Logger {
  const write = (name: 'info' | 'warn' | 'error', details: object, msg: string) => {
    if (LEVELS[name] < LEVELS[level]) return;
    const { err, ...rest } = details as { err?: unknown };
    console[name === 'info' ? 'log' : name](JSON.stringify({ level: name, msg, ...rest, ...(err !== undefined && { err: describeError(err) }) }));
  };
  return {
    info: (details, msg) => write('info', details, msg),
    warn: (details, msg) => write('warn', details, msg),
    error: (details, msg) => write('error', details, msg),
  };
}

function describeError(error: unknown): object {
  return error instanceof Error ? { type: error.name, message: error.message, ...(error.stack !== undefined && { stack: error.stack }) } : { message: String(error) };
}
