import { DurableObject } from 'cloudflare:workers';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { randomToken } from '../../oauth/crypto.js';
import type { Logger } from '../../oauth/types.js';
import { createGateway, type Gateway, type GatewayConfig, type GatewayDeps } from '../app.js';
import { ConfigError, parseConfigText } from '../config/load.js';
import { assertRuntimeSupports } from '../config/runtime.js';
import { settleUrls } from '../config/settle.js';
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
  return { config, gateway };
}

/** Starts a gateway once per isolate (or object); a failed start is retried by the next request, not kept. */
class Lazy {
  #started: Promise<Started> | undefined;

  constructor(private readonly begin: () => Promise<Started>) {}

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

/** A gateway that could not start answers every request with a 503 and logs why (a configuration error, say). */
async function serve(lazy: Lazy, request: Request): Promise<Response> {
  let started: Started;
  try {
    started = await lazy.get();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: 'the gateway cannot start', err: describeError(error) }));
    return Response.json({ error: 'temporarily_unavailable', error_description: 'the gateway cannot start; its log says why' }, { status: 503 });
  }
  return started.gateway.app.fetch(request);
}

/**
 * An MCP request that passed the bearer check goes to its session's Durable Object; a new session (no
 * Mcp-Session-Id) gets a random id here, which names the object that will hold it. The body goes read whole: an
 * object may answer (404 for an unknown session) without reading it, and a stream still flowing would then fail.
 */
async function toSessionObject(env: Env, request: Request, body: string | undefined): Promise<Response> {
  const sessionId = request.headers.get('mcp-session-id') ?? randomToken();
  const headers = new Headers(request.headers);
  headers.set(SESSION_HEADER, sessionId);
  const forwarded = new Request(request.url, { method: request.method, headers, ...(body !== undefined && { body }) });
  const response = await env.SESSIONS.get(env.SESSIONS.idFromName(sessionId)).fetch(forwarded);
  // A response from another object has immutable headers; the front's middleware (CORS) adds to them.
  return new Response(response.body, response);
}

let front: Lazy | undefined;

export default {
  fetch(request, env) {
    front ??= new Lazy(() => start(env, { sessionHost: (mcpRequest, body) => toSessionObject(env, mcpRequest, body) }));
    return serve(front, request);
  },
} satisfies ExportedHandler<Env>;

/**
 * One MCP session and the upstream sessions behind it, in a Durable Object named by the session id: every request
 * of the session reaches this object wherever it entered Cloudflare's network, and the object runs a gateway of
 * its own that verifies the token again and holds the session in memory. An alarm takes the place of the Node
 * runtime's idle sweep. An object that was evicted has lost its session and answers 404, upon which the client
 * starts a new one (MCP 2025-11-25 basic/transports, session management).
 */
export class SessionObject extends DurableObject<Env> {
  readonly #lazy: Lazy;
  #sessionId: string | undefined;
  #lastUsed = 0;
  #alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Every request of the session reaches this object, so its SSE events (for Last-Event-ID) stay in its memory:
    // a Durable Object per event in the shared store would cost a round trip and a new object per message.
    this.#lazy = new Lazy(() => start(env, { sessionId: () => this.#sessionId ?? randomToken(), sessionEvents: new MemoryStore() }));
  }

  override async fetch(request: Request): Promise<Response> {
    const sessionId = request.headers.get(SESSION_HEADER);
    if (sessionId === null) return Response.json({ error: 'not_found', error_description: 'no such endpoint' }, { status: 404 });
    this.#sessionId = sessionId;
    this.#lastUsed = Date.now();
    const headers = new Headers(request.headers);
    headers.delete(SESSION_HEADER);
    const response = await serve(this.#lazy, new Request(request, { headers }));
    if (!this.#alarmSet) {
      this.#alarmSet = true;
      await this.ctx.storage.setAlarm(this.#lastUsed + (await this.#idleMs()));
    }
    return response;
  }

  /** Closes the session once it has been idle for the configured time, as the Node runtime's sweep does. */
  override async alarm(): Promise<void> {
    const idleMs = await this.#idleMs();
    if (Date.now() - this.#lastUsed < idleMs) {
      await this.ctx.storage.setAlarm(this.#lastUsed + idleMs);
      return;
    }
    this.#alarmSet = false;
    await (await this.#lazy.take())?.gateway.close();
  }

  async #idleMs(): Promise<number> {
    try {
      return (await this.#lazy.get()).config.mcp.sessionIdleTimeout * 1000;
    } catch {
      return 0;
    }
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
