import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Logger } from '../../oauth/types.js';
import type { StdioTransportFactory } from '../mcp/upstream.js';

/**
 * Starts stdio upstreams: programs named in the configuration file only. A child gets no environment but the
 * variables its entry sets and the ones it names in `inheritEnv`, and no upstream runs more than its
 * `maxProcesses` children at once (one per downstream session).
 */
export function createStdioTransportFactory(env: NodeJS.ProcessEnv, logger: Logger): StdioTransportFactory {
  const running = new Map<string, number>();
  return (upstream) => {
    const count = running.get(upstream.id) ?? 0;
    if (count >= upstream.maxProcesses) throw new Error(`upstream ${upstream.id} already runs its maximum of ${upstream.maxProcesses} processes`);
    const inherited = upstream.inheritEnv.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]] as const]));
    const transport = new StdioClientTransport({
      command: upstream.command,
      args: upstream.args,
      env: { ...Object.fromEntries(inherited), ...upstream.env },
      stderr: 'pipe',
      ...(upstream.cwd !== undefined && { cwd: upstream.cwd }),
    });
    running.set(upstream.id, count + 1);
    let released = false;
    // The SDK client chains this handler with its own when it connects.
    transport.onclose = () => {
      if (released) return;
      released = true;
      running.set(upstream.id, (running.get(upstream.id) ?? 1) - 1);
    };
    transport.stderr?.on('data', (chunk: Buffer) => logger.info({ upstream: upstream.id, stderr: chunk.toString('utf8').trimEnd() }, 'upstream stderr'));
    return transport;
  };
}
