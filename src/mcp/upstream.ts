import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamConfig } from '../config/schema.js';
import { createDemoServer } from '../demo/server.js';
import { UpstreamTokens } from './upstream-oauth.js';

/** Makes the transport of a stdio upstream; only the Node runtime can, so it is injected. */
export type StdioTransportFactory = (upstream: Extract<UpstreamConfig, { transport: 'stdio' }>) => Transport;

export interface UpstreamDeps {
  createStdioTransport?: StdioTransportFactory;
}

export const GATEWAY_INFO: Implementation = { name: 'portcullis', version: '0.1.0' };

/**
 * Headers for an HTTP upstream: only what its configuration names. The client's Authorization header, cookies
 * and hop-by-hop headers never reach an upstream because nothing of the downstream request is copied here.
 */
function upstreamHeaders(upstream: HttpUpstream): Record<string, string> {
  return { ...upstream.headers };
}

type HttpUpstream = Extract<UpstreamConfig, { transport: 'streamable-http' | 'sse' }>;

// One token cache per configured upstream, shared by every session of this process.
const upstreamTokens = new WeakMap<HttpUpstream, UpstreamTokens>();

function httpOptions(upstream: HttpUpstream) {
  const requestInit = { headers: upstreamHeaders(upstream) };
  if (!upstream.oauth) return { requestInit };
  let tokens = upstreamTokens.get(upstream);
  if (!tokens) {
    tokens = new UpstreamTokens(upstream.oauth);
    upstreamTokens.set(upstream, tokens);
  }
  return { requestInit, fetch: tokens.fetch() };
}

function createTransport(upstream: UpstreamConfig, deps: UpstreamDeps): Transport {
  switch (upstream.transport) {
    case 'streamable-http':
      return new StreamableHTTPClientTransport(new URL(upstream.url), httpOptions(upstream));
    case 'sse':
      return new SSEClientTransport(new URL(upstream.url), httpOptions(upstream));
    case 'stdio':
      if (!deps.createStdioTransport) throw new Error(`upstream ${upstream.id}: stdio upstreams need the Node runtime`);
      return deps.createStdioTransport(upstream);
    case 'demo': {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      void createDemoServer().connect(serverSide);
      return clientSide;
    }
  }
}

/**
 * Opens a client session to one upstream. `capabilities` are the ones the downstream client declared, so an
 * upstream only asks for sampling, elicitation or roots when the client can answer.
 */
export async function connectUpstream(upstream: UpstreamConfig, capabilities: ClientCapabilities, deps: UpstreamDeps): Promise<Client> {
  const client = new Client(GATEWAY_INFO, { capabilities });
  await client.connect(createTransport(upstream, deps), { timeout: upstream.timeoutMs });
  return client;
}
