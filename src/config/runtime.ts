import { ConfigError } from './load.js';
import type { Config } from './schema.js';

/** Where a gateway runs: what a configuration may use differs. */
export type Runtime = 'node' | 'workers';

/**
 * Refuses what the runtime cannot do, by path, before anything starts: a Durable Object store outside Workers;
 * on Workers, any other store (memory would be private to one isolate, Redis needs TCP), stdio upstreams (there are
 * no processes to start) and a missing `publicUrl` (there is no bind address to derive it from).
 */
export function assertRuntimeSupports(config: Config, runtime: Runtime, source: string): void {
  const issues: string[] = [];
  if (runtime === 'node') {
    if (config.store.type === 'durable-objects') issues.push('store.type: durable-objects is the store of Cloudflare Workers; on Node use memory or redis');
  } else {
    if (config.store.type !== 'durable-objects') {
      issues.push(`store.type: must be durable-objects on Workers (the STORE binding of wrangler.toml), not ${config.store.type}`);
    }
    if (config.publicUrl === undefined) issues.push('publicUrl: is required on Workers, e.g. https://gateway.example.com');
    config.tenants.forEach((tenant, t) =>
      tenant.upstreams.forEach((upstream, u) => {
        if (upstream.transport === 'stdio') {
          issues.push(`tenants.${t}.upstreams.${u}.transport: stdio upstreams start programs and need the Node runtime; on Workers use streamable-http or sse`);
        }
      }),
    );
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
}
