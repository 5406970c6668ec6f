import type { GatewayConfig } from '../app.js';
import { ConfigError } from './load.js';
import type { Config } from './schema.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Whether a host name (as `URL.hostname` writes it, IPv6 in brackets) names this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);
}

/**
 * Fills in the URLs a configuration may leave out: publicUrl defaults to the bind address when that is a
 * loopback address (anything else needs an explicit public URL), and the issuer defaults to publicUrl.
 */
export function settleUrls(config: Config, source: string): GatewayConfig {
  let publicUrl = config.publicUrl;
  if (publicUrl === undefined) {
    const { host, port } = config.server;
    if (!LOOPBACK.has(host)) throw new ConfigError(source, [`publicUrl: is required when server.host (${host}) is not a loopback address`]);
    publicUrl = `http://${host === '::1' ? '[::1]' : host}:${port}`;
  }
  return { ...config, publicUrl, issuer: config.issuer ?? publicUrl };
}
