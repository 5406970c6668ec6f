import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { hashPassword } from '../../oauth/password.js';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { startGateway, type RunningGateway } from '../../src/runtime/serve.js';

export interface TestGateway extends RunningGateway {
  /** The public base URL (also the issuer unless the config sets another). */
  baseUrl: string;
  /** The default tenant's MCP resource. */
  resource: string;
}

let demoHash: Promise<string> | undefined;

/** The hash of the password "demo", computed once per test file (PBKDF2 is slow on purpose). */
export function demoPasswordHash(): Promise<string> {
  demoHash ??= hashPassword('demo', 1000);
  return demoHash;
}

/**
 * Starts a real gateway on a free loopback port with the given configuration merged over a test default:
 * tenant `default`, user `demo`/`demo`, memory store, silent log.
 */
export async function startTestGateway(overrides: Partial<ConfigInput> = {}, options: { clientMetadataCa?: string; now?: () => number } = {}): Promise<TestGateway> {
  const config = parseConfig({
    tenants: [{ id: 'default', name: 'Default tenant' }],
    users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'] }],
    server: { host: '127.0.0.1', port: 0 },
    logLevel: 'silent',
    ...overrides,
  });
  const gateway = await startGateway({
    config,
    source: 'test',
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.clientMetadataCa !== undefined && { clientMetadataCa: options.clientMetadataCa }),
    ...(options.now !== undefined && { now: options.now }),
  });
  return { ...gateway, baseUrl: gateway.config.publicUrl, resource: `${gateway.config.publicUrl}/mcp` };
}

/** A gateway running as its own process: the built `bin/portcullis.js`, as a user starts it. */
export interface GatewayProcess {
  /** The address it listens on. */
  url: string;
  /** Every JSON log line it printed so far. */
  readonly logs: ReadonlyArray<{ msg: string; level: number; listen?: string }>;
  /** Ends the process (SIGTERM, or SIGKILL for a crash) and waits for it to exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** Starts `bin/portcullis.js` with the given arguments and environment and waits until it listens. Needs `npm run build`. */
export async function spawnGateway(args: string[], env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['bin/portcullis.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<{ msg: string; level: number; listen?: string }> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, newline)) as { msg: string; level: number; listen?: string };
        buffered = buffered.slice(newline + 1);
        logs.push(line);
        if (line.listen) resolve(line.listen);
      }
    });
    void exited.then(() => reject(new Error(`the gateway exited before listening: ${stderr}`)));
  });
  return {
    url,
    logs,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
