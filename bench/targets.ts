import { createAdaptorServer } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { randomToken } from '../oauth/crypto.js';
import { readBody } from '../oauth/http.js';
import { parseConfig, parseConfigText } from '../src/config/load.js';
import type { Config, ConfigInput } from '../src/config/schema.js';
import { startGateway } from '../src/runtime/serve.js';

/**
 * What a benchmark drives: a gateway on the memory or the Redis store, or an HTTP floor: a trivial Hono server
 * that reads the body with `c.req.text()` (`floor`), with the gateway's streaming body reader (`floor-stream`), or
 * with that reader behind the CORS middleware the gateway puts on /mcp (`floor-stream-cors`).
 */
export type TargetKind = 'floor' | 'floor-stream' | 'floor-stream-cors' | 'memory' | 'redis';

/** Everything a target needs that the benchmark makes up at run time (no secret is committed). */
/** Fresh options for one benchmark run: a service client, keys, and a Redis key prefix of its own (deleted after). */
export function freshTargetOptions(redisUrl: string): TargetOptions {
  return { clientId: 'bench-agent', clientSecret: randomToken(), encryptionKey: randomToken(), redisUrl, redisKeyPrefix: `portcullis-bench:${randomUUID()}:` };
}

export interface TargetOptions {
  clientId: string;
  clientSecret: string;
  /** Only for a gateway on Redis. */
  encryptionKey: string;
  redisUrl: string;
  redisKeyPrefix: string;
  /** The MCP server the tenant fronts; without one, /mcp answers every verified request with "no upstream". */
  upstream?: BenchUpstream;
  /** The tenant's quotas (docs/quotas.md); none by default. */
  quotas?: ConfigInput['tenants'][number]['quotas'];
  /** The tenant's guardrails (docs/guardrails.md); none by default. */
  guardrails?: ConfigInput['tenants'][number]['guardrails'];
  /** The admin API's tokens (docs/admin.md); none by default, so the admin API is refused. */
  admin?: ConfigInput['admin'];
  /** A file the gateway logs to at level info (the configuration's default), written synchronously like pino's stdout; by default it logs nothing. */
  logFile?: string;
  /**
   * A configuration file to start the gateway from instead of {@link benchConfig}, read and validated the way the
   * CLI does (`parseConfigText`); its store must be the target kind's. For configurations too large for an
   * environment variable (the tenants benchmark's thousands of tenants).
   */
  configFile?: string;
}

/** One entry of `tenants[].upstreams` in the configuration file. */
export type BenchUpstream = NonNullable<ConfigInput['tenants'][number]['upstreams']>[number];

export interface Target {
  /** The origin the target listens on, e.g. http://127.0.0.1:40123. */
  url: string;
  /** The process the target runs in (this one in-process), whose children are its stdio upstreams. */
  pid: number;
  /** The CPU time of the process the target runs in. */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  /** The memory of the process the target runs in, after a full garbage collection when Node runs with --expose-gc. */
  memoryUsage(): Promise<NodeJS.MemoryUsage>;
  /** Reads a key of the gateway's own store (`Store.get`), e.g. a quota counter; only for a gateway. */
  storeGet?(key: string): Promise<unknown>;
  /**
   * Milliseconds since the target's process started when its modules were loaded (`importedMs`), its configuration
   * read and validated (`configuredMs`) and it was ready to serve (`readyMs`); only for a target in a child process.
   */
  startup?: StartupMarks;
  close(): Promise<void>;
}

export interface StartupMarks {
  importedMs: number;
  configuredMs: number;
  readyMs: number;
}

/**
 * The gateway configuration of the benchmark: one tenant, fronting `options.upstream` when given, and one service
 * client allowed client_credentials.
 */
export function benchConfig(store: 'memory' | 'redis', options: TargetOptions): Config {
  return parseConfig({
    tenants: [
      {
        id: 'default',
        name: 'Bench tenant',
        ...(options.upstream !== undefined && { upstreams: [options.upstream] }),
        ...(options.quotas !== undefined && { quotas: options.quotas }),
        ...(options.guardrails !== undefined && { guardrails: options.guardrails }),
      },
    ],
    clients: [{ clientId: options.clientId, clientSecret: options.clientSecret, tenant: 'default' }],
    ...(options.admin !== undefined && { admin: options.admin }),
    server: { host: '127.0.0.1', port: 0 },
    ...(store === 'redis' ? { store: { type: 'redis', url: options.redisUrl, keyPrefix: options.redisKeyPrefix }, encryptionKey: options.encryptionKey } : { store: { type: 'memory' } }),
    logLevel: 'silent',
  });
}

/** This process's memory, after a full garbage collection when Node runs with --expose-gc. */
export async function ownMemory(): Promise<NodeJS.MemoryUsage> {
  globalThis.gc?.();
  return process.memoryUsage();
}

/**
 * Starts a target on a free loopback port. `onConfigured` is called once the gateway's configuration is read and
 * validated, before the gateway is built.
 */
export async function startTarget(kind: TargetKind, options: TargetOptions, onConfigured?: () => void): Promise<Target> {
  if (kind === 'floor' || kind === 'floor-stream' || kind === 'floor-stream-cors') return startFloor(kind);
  const config = options.configFile === undefined ? benchConfig(kind, options) : parseConfigText(await readFile(options.configFile, 'utf8'), process.env, options.configFile);
  if (config.store.type !== kind) throw new Error(`the configuration has a ${config.store.type} store, not ${kind}`);
  onConfigured?.();
  const logger = options.logFile === undefined ? pino({ level: 'silent' }) : pino({ level: 'info' }, pino.destination({ dest: options.logFile, sync: true }));
  const gateway = await startGateway({ config, source: options.configFile ?? 'bench', logger });
  return {
    url: gateway.listenUrl,
    pid: process.pid,
    cpuUsage: async () => process.cpuUsage(),
    memoryUsage: ownMemory,
    storeGet: (key) => gateway.store.get(key),
    close: () => gateway.close(),
  };
}

/**
 * Starts a target in a child process (bench/child.ts), so the server has an event loop and a CPU clock of its own
 * and the load generator in this process does not share them; or, with `inProcess`, in this process.
 * `execArgv` goes to the child's Node, e.g. `--cpu-prof`.
 */
export async function launchTarget(kind: TargetKind, options: TargetOptions, { inProcess = false, execArgv = [] as string[] } = {}): Promise<Target> {
  if (inProcess) return startTarget(kind, options);
  const child = fork(fileURLToPath(new URL('./child.js', import.meta.url)), [kind], {
    env: { ...process.env, BENCH_TARGET: JSON.stringify(options) },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url, startup } = await new Promise<{ url: string; startup: StartupMarks }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { url: string; startup: StartupMarks }));
    child.once('exit', (code) => reject(new Error(`the ${kind} target exited with code ${code} before listening`)));
    child.once('error', reject);
  });
  /** Sends `request` and resolves to the field `field` of the first answer that has it. */
  const ask = <T>(request: string | { get: string }, field: string) =>
    new Promise<T>((resolve) => {
      const listener = (message: unknown) => {
        if (typeof message !== 'object' || message === null || !(field in message)) return;
        child.off('message', listener);
        resolve((message as Record<string, T>)[field]!);
      };
      child.on('message', listener);
      child.send(request);
    });
  return {
    url,
    pid: child.pid!,
    startup,
    cpuUsage: () => ask<NodeJS.CpuUsage>('cpu', 'cpu'),
    memoryUsage: () => ask<NodeJS.MemoryUsage>('memory', 'memory'),
    // IPC drops an undefined field, so the child answers null for an absent key.
    storeGet: async (key) => (await ask<unknown>({ get: key }, 'stored')) ?? undefined,
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send('close');
      const timer = setTimeout(() => child.kill(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits for `child` to exit, asking with `stop` first and killing it (by its own pid) after 5 s. */
export async function stopChild(child: ChildProcess, stop: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  stop();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** The demo server over Streamable HTTP in its own process. */
export async function startHttpUpstream(): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./upstream.js', import.meta.url)), ['http'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the HTTP upstream exited with code ${code} before listening`)));
  });
  return { url, pid: child.pid!, close: () => stopChild(child, () => child.send('close')) };
}

/**
 * The `client_credentials` token request of the benchmark's service client (RFC 6749 §4.4, client_secret_basic):
 * its headers, and its body for the resource `<origin><mcpPath>` (the default tenant's `/mcp` unless given) with
 * the scope `mcp`.
 */
export function tokenRequest(options: TargetOptions): { headers: Record<string, string>; body: (origin: string, mcpPath?: string) => string } {
  const basic = Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64');
  return {
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: (origin, mcpPath = '/mcp') => new URLSearchParams({ grant_type: 'client_credentials', resource: `${origin}${mcpPath}`, scope: 'mcp' }).toString(),
  };
}

/**
 * The HTTP floor: the same adapter and framework as the gateway, a handler that reads and parses the JSON body and
 * answers a constant JSON-RPC error, with no token work at all.
 */
async function startFloor(kind: 'floor' | 'floor-stream' | 'floor-stream-cors'): Promise<Target> {
  const app = new Hono();
  if (kind === 'floor-stream-cors') {
    // The options of the gateway's /mcp CORS (src/app.ts) for a tenant with no allowed origins.
    const mcpCors: MiddlewareHandler = cors({
      origin: () => null,
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'MCP-Protocol-Version', 'Mcp-Session-Id', 'Last-Event-ID'],
      exposeHeaders: ['Mcp-Session-Id', 'WWW-Authenticate', 'MCP-Protocol-Version'],
      maxAge: 86400,
    });
    app.use('*', mcpCors);
  }
  app.post('*', async (c) => {
    JSON.parse(kind === 'floor' ? await c.req.text() : await readBody(c, 4 * 1024 * 1024));
    return c.json({ jsonrpc: '2.0', id: 1, error: { code: -32001, message: 'constant answer' } });
  });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pid: process.pid,
    cpuUsage: async () => process.cpuUsage(),
    memoryUsage: ownMemory,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
