import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createGateway, type Gateway, type GatewayConfig } from '../app.js';
import { assertRuntimeSupports } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { settleUrls } from '../config/settle.js';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { clientAddressResolver } from './client-address.js';
import { createGuardedFetch } from './guarded-fetch.js';
import { createStdioTransportFactory } from './stdio.js';

const TENANT_REFRESH_MS = 2000;

export interface RunningGateway {
  config: GatewayConfig;
  /** The address the server listens on, e.g. http://127.0.0.1:8787. */
  listenUrl: string;
  server: Server;
  store: Store;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  /** Where the configuration came from, for error messages. */
  source: string;
  logger?: Logger;
  /** Trust anchors for fetching client metadata documents (tests); system roots by default. */
  clientMetadataCa?: string;
  now?: () => number;
}

/**
 * Starts a gateway on Node. The socket is bound first, so port 0 works: the public URL (when not configured)
 * is the address actually bound.
 */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  assertRuntimeSupports(options.config, 'node', options.source);
  const logger = options.logger ?? pino({ level: options.config.logLevel });
  let handler: ((request: Request, env: object) => Response | Promise<Response>) | undefined;
  const server = createAdaptorServer({
    fetch: (request, env) => (handler ? handler(request, env) : new Response('starting', { status: 503 })),
  }) as Server;
  const { host, port } = options.config.server;
  const clientAddress = clientAddressResolver(options.config.server.trustedProxies);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const hostForUrl = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const config = settleUrls({ ...options.config, server: { ...options.config.server, port: bound.port } }, options.source);

  let gateway: Gateway | undefined;
  // Redis is both the shared store and the bus between replicas; a memory store belongs to one process. ioredis is
  // loaded only for Redis: merely loading it (it subclasses String) makes V8's string scanning several times slower
  // process-wide, which the guardrails' detectors feel (bench/RESULTS.md, "Guardrails").
  const redis = config.store.type === 'redis' ? new (await import('../store/redis.js')).RedisStore({ url: config.store.url, keyPrefix: config.store.keyPrefix }) : undefined;
  const store: Store = redis ?? new MemoryStore(options.now !== undefined ? { now: options.now } : {});
  try {
    gateway = await createGateway(config, {
      store,
      jsonSchemaValidator: new AjvJsonSchemaValidator(),
      ...(redis !== undefined && { bus: redis }),
      logger,
      fetchClientMetadata: createGuardedFetch({
        allowLoopback: config.clientMetadataDocuments.allowLoopback,
        ...(options.clientMetadataCa !== undefined && { ca: options.clientMetadataCa }),
      }),
      createStdioTransport: createStdioTransportFactory(process.env, logger),
      clientIp: (c) => clientAddress({ socketAddress: (c.env as HttpBindings | undefined)?.incoming.socket.remoteAddress, forwardedFor: c.req.header('x-forwarded-for') }),
      ...(options.now !== undefined && { now: options.now }),
    });
    const { app } = gateway;
    handler = (request, env) => app.fetch(request, env);
  } catch (error) {
    server.close();
    await store.close();
    throw error;
  }

  // Tenants changed on another replica reach this one's live sessions (list_changed) even while no request arrives.
  const refreshing = setInterval(() => void gateway?.refresh(), TENANT_REFRESH_MS);
  refreshing.unref();
  return {
    config,
    listenUrl: `http://${hostForUrl}:${bound.port}`,
    server,
    store,
    async close() {
      clearInterval(refreshing);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway?.close();
      await store.close();
    },
  };
}
