import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { randomToken, tokenHash } from '../../oauth/crypto.js';
import { hashPassword } from '../../oauth/password.js';
import { createDemoServer } from '../demo/server.js';
import { embeddedDefaultConfig } from '../config/default.js';
import { ConfigError, parseConfig, parseConfigText } from '../config/load.js';
import { assertRuntimeSupports } from '../config/runtime.js';
import type { Config } from '../config/schema.js';
import { settleUrls } from '../config/settle.js';
import { POLICY_USAGE, policyTest, UsageError } from './policy-cli.js';
import { startGateway } from './serve.js';

const USAGE = `Usage:
  portcullis [start] [--config FILE]   run the gateway (or set PORTCULLIS_CONFIG; PORT and HOST override the bind address)
  portcullis check-config FILE [--workers]
                                       validate a configuration file (for Cloudflare Workers with --workers) and exit
  portcullis hash-password             read a password on stdin, print its hash for users[].passwordHash
  portcullis admin-token               make a new admin API token; print it, and its hash for admin.tokens[].tokenHash
  portcullis demo-upstream             serve the demo MCP server on stdio (an upstream for trying stdio)
${POLICY_USAGE.replace('Usage:\n', '')}`;

async function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv): Promise<{ config: Config; source: string; embedded: boolean }> {
  if (file === undefined) return { config: parseConfig(await embeddedDefaultConfig(), 'the embedded default'), source: 'the embedded default', embedded: true };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`(root): cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return { config: parseConfigText(text, env, file), source: file, embedded: false };
}

/** PORT and HOST override the configured bind address, as most platforms expect. */
function withEnvOverrides(config: Config, env: NodeJS.ProcessEnv, source: string): Config {
  const server = { ...config.server };
  if (env.HOST) server.host = env.HOST;
  if (env.PORT) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(source, [`PORT: must be a port number, got "${env.PORT}"`]);
    server.port = port;
  }
  return { ...config, server };
}

async function readAll(input: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function policy(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const file = parseArgs({ args: argv, strict: false, allowPositionals: true, options: { config: { type: 'string' } } }).values.config;
  if (argv[0] !== 'test' || typeof file !== 'string') {
    io.stderr.write(POLICY_USAGE);
    return 2;
  }
  const { config } = await loadConfig(file, env);
  try {
    io.stdout.write(policyTest(argv.slice(1), config));
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    io.stderr.write(`policy test: ${error.message}\n${POLICY_USAGE}`);
    return 2;
  }
}

export interface CliIo {
  stdin: AsyncIterable<unknown>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * The `portcullis` command. Resolves to the exit code, or to undefined when the gateway was started and keeps
 * the process alive.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number | undefined> {
  try {
    return await dispatch(argv, env, io);
  } catch (error) {
    io.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `portcullis: ${(error as Error).message}\n`);
    return 1;
  }
}

async function dispatch(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number | undefined> {
  if (argv[0] === 'policy') return policy(argv.slice(1), env, io);
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string' }, workers: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  const [command = 'start', ...rest] = positionals;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  switch (command) {
    case 'check-config': {
      const file = rest[0] ?? values.config;
      if (file === undefined) {
        io.stderr.write(USAGE);
        return 2;
      }
      const { config, source } = await loadConfig(file, env);
      const runtime = values.workers === true ? 'workers' : 'node';
      assertRuntimeSupports(config, runtime, source);
      settleUrls(config, source);
      io.stdout.write(`${file}: configuration is valid${runtime === 'workers' ? ' for Workers' : ''} (${config.tenants.length} tenant${config.tenants.length === 1 ? '' : 's'})\n`);
      return 0;
    }
    case 'hash-password': {
      const password = await readAll(io.stdin);
      if (password.length === 0) {
        io.stderr.write('hash-password: no password on stdin\n');
        return 2;
      }
      io.stdout.write(`${await hashPassword(password)}\n`);
      return 0;
    }
    case 'admin-token': {
      const token = randomToken();
      io.stdout.write(`token: ${token}\ntokenHash: ${await tokenHash(token)}\n`);
      return 0;
    }
    case 'start': {
      const loaded = await loadConfig(values.config ?? (env.PORTCULLIS_CONFIG || undefined), env);
      const config = withEnvOverrides(loaded.config, env, loaded.source);
      const logger = pino({ level: config.logLevel });
      const gateway = await startGateway({ config, source: loaded.source, logger });
      if (loaded.embedded) {
        logger.warn(
          { user: 'demo', password: 'demo', store: 'memory' },
          'DEVELOPMENT ONLY: running the embedded default configuration with the local user demo/demo and an in-memory store. ' +
            'Do not expose this gateway; pass --config FILE for real use.',
        );
      }
      const { publicUrl, issuer } = gateway.config;
      logger.info({ listen: gateway.listenUrl, publicUrl, issuer, source: loaded.source }, `Portcullis is listening; MCP endpoint ${gateway.config.publicUrl}/mcp`);
      const stop = () => {
        logger.info({}, 'shutting down');
        gateway.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return undefined;
    }
    case 'demo-upstream': {
      await createDemoServer().connect(new StdioServerTransport());
      return undefined;
    }
    default:
      io.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}
