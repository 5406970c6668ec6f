import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { MetadataFetch } from '../oauth/client-metadata-document.js';
import { randomToken } from '../oauth/crypto.js';
import { corsForBrowsers } from '../oauth/http.js';
import { createAuthorizationServer } from '../oauth/server.js';
import type { Logger } from '../oauth/types.js';
import type { Config } from './config/schema.js';
import { bearerAuth, type BearerVariables } from './mcp/bearer.js';
import { mcpEndpoint } from './mcp/endpoint.js';
import { ToolPins } from './guard/pins.js';
import { Metrics } from './observe/metrics.js';
import { abuseLimiter } from './quota/abuse.js';
import { readMessage, SessionRegistry } from './mcp/sessions.js';
import type { StdioTransportFactory } from './mcp/upstream.js';
import type { Bus } from './store/bus.js';
import type { Store } from './store/store.js';
import { Tenants, type Tenant } from './tenancy/resources.js';
import { TenantSync } from './tenancy/sync.js';
import { LocalUsers } from './tenancy/users.js';
import { adminApi } from './admin/app.js';

/** A configuration whose public URL and issuer are settled (see `settleUrls`). */
export type GatewayConfig = Config & { publicUrl: string; issuer: string };

/** What a runtime supplies; injected so that tests control time, the network and the log. */
export interface GatewayDeps {
  store: Store;
  /** Connects replicas that share the store, so any of them can serve any MCP session; omit for a single process. */
  bus?: Bus;
  logger: Logger;
  /** Fetches client ID metadata documents with the runtime's SSRF protection; omit to disable them. */
  fetchClientMetadata?: MetadataFetch;
  /** Starts stdio upstreams; only the Node runtime has one. */
  createStdioTransport?: StdioTransportFactory;
  /** The address of the peer that sent a request. */
  clientIp?: (c: Context) => string | undefined;
  /**
   * Serves MCP requests whose sessions live elsewhere: it gets each request to an MCP endpoint once the bearer check
   * passed, with the body of a POST read whole (on Workers: to the session's Durable Object, which runs a gateway of
   * its own). Omit to hold sessions here.
   */
  sessionHost?: (request: Request, body: string | undefined) => Promise<Response>;
  /** Names each new MCP session held here; random by default (on Workers: the name of the session's Durable Object). */
  sessionId?: (request: Request) => string;
  /** Keeps the SSE events of sessions held here for resumption; the store by default (see SessionRegistryOptions.events). */
  sessionEvents?: Store;
  /** JSON Schema validation as the runtime allows: Ajv on Node; one without code generation where `new Function` is refused (Workers). */
  jsonSchemaValidator: jsonSchemaValidator;
  now?: () => number;
}

type Env = { Variables: BearerVariables };

/**
 * The whole gateway as one Hono app: the authorization server, and each tenant's MCP endpoint behind CORS and
 * the bearer check. Runtime-neutral: no environment reads and no Node built-ins.
 */
export interface Gateway {
  app: Hono<Env>;
  /** Picks up tenants changed through the admin API on another replica (requests do too, every few seconds). */
  refresh(): Promise<void>;
  /** How many MCP sessions this gateway holds. */
  sessionCount(): number;
  /** Ends every MCP session and the upstream sessions (and stdio processes) behind them. */
  close(): Promise<void>;
}

export async function createGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const tenants = new Tenants(config, config.publicUrl);
  const metrics = new Metrics();
  const pins = new ToolPins(deps.store);
  const users = new LocalUsers(config.users, (tenant) => tenants.get(tenant)?.config.members);
  const as = await createAuthorizationServer({
    issuer: config.issuer,
    baseUrl: config.publicUrl,
    storage: deps.store,
    resources: tenants,
    users,
    serviceClients: config.clients.map((client) => ({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      name: client.name ?? client.clientId,
      tenant: client.tenant,
      scopes: client.scopes,
    })),
    // Only a store private to this process may use a key private to this process; the schema enforces that.
    encryptionKey: config.encryptionKey ?? randomToken(),
    tokens: config.tokens,
    registration: config.registration,
    limits: abuseLimiter(config.rateLimits, { store: deps.store, now: deps.now ?? Date.now, metrics }),
    ...(config.clientMetadataDocuments.enabled &&
      deps.fetchClientMetadata !== undefined && {
        metadataDocuments: {
          fetch: deps.fetchClientMetadata,
          timeoutMs: config.clientMetadataDocuments.timeoutMs,
          maxBytes: config.clientMetadataDocuments.maxBytes,
          cacheMaxSeconds: config.clientMetadataDocuments.cacheMaxSeconds,
        },
      }),
    clientIp: deps.clientIp ?? (() => undefined),
    logger: deps.logger,
    ...(deps.now !== undefined && { now: deps.now }),
  });

  const app = new Hono<Env>();
  const mcp = new Hono<Env>();
  // CORS on /mcp reflects only the tenant's allowed origins; the proxy's Origin check uses the same list.
  // Only the endpoint itself: sub-paths such as /mcp/x are not MCP endpoints and fall through to 404.
  mcp.use(
    '/',
    corsForBrowsers(cors({
      origin: (origin, c: Context<Env>) => (c.get('tenant').config.allowedOrigins.includes(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'MCP-Protocol-Version', 'Mcp-Session-Id', 'Last-Event-ID'],
      exposeHeaders: ['Mcp-Session-Id', 'WWW-Authenticate', 'MCP-Protocol-Version'],
      maxAge: 86400,
    }) as MiddlewareHandler),
  );
  // DNS-rebinding protection (MCP transports §security): a browser page from a foreign origin is refused, even
  // with a token; requests without an Origin come from non-browser clients and pass.
  mcp.use('/', async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !c.get('tenant').config.allowedOrigins.includes(origin)) {
      return c.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: this Origin may not use the MCP endpoint' }, id: null }, 403);
    }
    await next();
  });
  mcp.use('/', bearerAuth({ verify: as.verifyAccessToken, resourceMetadataUrl: as.resourceMetadataUrl }));
  const sessions = new SessionRegistry({
    store: deps.store,
    deps: { jsonSchemaValidator: deps.jsonSchemaValidator, ...(deps.createStdioTransport !== undefined && { createStdioTransport: deps.createStdioTransport }) },
    logger: deps.logger,
    now: deps.now ?? Date.now,
    idleTimeoutMs: config.mcp.sessionIdleTimeout * 1000,
    maxSessions: config.mcp.maxSessions,
    keepAliveMs: config.mcp.keepAliveMs,
    groupsOf: (sub) => users.groupsOf(sub),
    metrics,
    pins,
    validator: deps.jsonSchemaValidator,
    resourceMetadataUrl: as.resourceMetadataUrl,
    ...(deps.bus !== undefined && { bus: deps.bus }),
    ...(deps.sessionId !== undefined && { sessionId: deps.sessionId }),
    ...(deps.sessionEvents !== undefined && { events: deps.sessionEvents }),
  });
  await listenForReplicas(sessions, deps.logger);
  const sync = new TenantSync({
    store: deps.store,
    tenants,
    logger: deps.logger,
    now: deps.now ?? Date.now,
    onChange: (id, before, after) => sessions.tenantChanged(id, after, JSON.stringify(before?.config.policy) !== JSON.stringify(after?.config.policy)),
  });
  const refresh = () => sync.refresh().catch((error: unknown) => deps.logger.error({ err: error }, 'cannot read the tenants managed through the admin API; serving the ones known'));
  await refresh();
  app.use('*', async (_c, next) => {
    await refresh();
    await next();
  });
  mcp.on(['GET', 'POST', 'DELETE'], '/', async (c, next) => {
    const tenant = c.get('tenant');
    if (tenant.config.upstreams.length === 0) return next();
    if (deps.sessionHost) {
      const body = c.req.method === 'POST' ? await readMessage(c) : undefined;
      return body instanceof Response ? body : deps.sessionHost(c.req.raw, body);
    }
    return sessions.handle(c, tenant, c.get('auth'));
  });
  mcp.route('/', mcpEndpoint());

  const withTenant = (resolve: (c: Context) => Tenant | undefined) =>
    async function tenant(c: Context<Env>, next: () => Promise<void>) {
      const found = resolve(c);
      if (!found) return c.json({ error: 'not_found', error_description: 'no such tenant' }, 404);
      c.set('tenant', found);
      await next();
    };
  app.use(tenants.defaultTenant.path, withTenant(() => tenants.defaultTenant));
  app.use('/t/:tenant/mcp', withTenant((c) => {
    const found = tenants.get(c.req.param('tenant') ?? '');
    return found && found.path === c.req.path ? found : undefined;
  }));
  app.route(tenants.defaultTenant.path, mcp);
  app.route('/t/:tenant/mcp', mcp);
  app.route(
    '/admin/v1',
    adminApi({
      tokens: config.admin.tokens,
      tenants,
      sync,
      users: config.users,
      serviceClientIds: config.clients.map((client) => client.clientId),
      revoker: {
        revokeClient: as.revokeClient,
        revokeSubject: as.revokeSubject,
        findClient: as.findClient,
        registeredClients: as.registeredClients,
        endSessionsOf: (revoked) => sessions.endSessionsOf(revoked),
      },
      logger: deps.logger,
      metrics,
      pins,
      toolsApproved: (tenant) => sessions.toolsApproved(tenant),
    }),
  );
  app.route('/', as.app);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.notFound((c) => c.json({ error: 'not_found', error_description: 'no such endpoint' }, 404));
  app.onError((error, c) => {
    deps.logger.error({ err: error, path: c.req.path }, 'unexpected error');
    return c.json({ error: 'server_error', error_description: 'the server could not complete the request' }, 500);
  });
  return { app, refresh, sessionCount: () => sessions.size, close: () => sessions.closeAll() };
}

/** How long start-up waits for the bus; a store that is down must not keep the gateway from starting. */
const BUS_START_TIMEOUT_MS = 2000;

async function listenForReplicas(sessions: SessionRegistry, logger: Logger): Promise<void> {
  let timer!: ReturnType<typeof setTimeout>;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), BUS_START_TIMEOUT_MS);
  });
  const started = sessions.start().then(
    () => 'started' as const,
    (error: unknown) => {
      logger.error({ err: error }, 'cannot listen for other replicas; MCP sessions are served by the replica that holds them only');
      return 'failed' as const;
    },
  );
  if ((await Promise.race([started, timeout])) === 'timeout') {
    logger.warn({}, 'the bus is not reachable yet; other replicas cannot relay MCP requests here until it is');
  }
  clearTimeout(timer);
}
