import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { UpstreamConfig } from '../config/schema.js';
import { createDemoServer } from '../demo/server.js';
import { UpstreamTokens } from './upstream-oauth.js';

/** Makes the transport of a stdio upstream; only the Node runtime can, so it is injected. */
export type StdioTransportFactory = (upstream: Extract<UpstreamConfig, { transport: 'stdio' }>) => Transport;

export interface UpstreamDeps {
  createStdioTransport?: StdioTransportFactory;
  /** Validates structured tool results against output schemas, as the runtime allows (no code generation on Workers). */
  jsonSchemaValidator: jsonSchemaValidator;
}

/** What a session wants to hear about one upstream connection. */
export interface UpstreamHooks {
  /**
   * A Streamable HTTP upstream ended the SSE stream of a request before answering it, after sending the event with
   * this id: it closed the stream on purpose, to be polled (MCP 2025-11-25 basic/transports, resumability; SEP-1699).
   * The SDK client resumes it by itself; the session can close its own client's stream the same way.
   */
  onStreamClosedEarly?: (lastEventId: string) => void;
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

function httpOptions(upstream: HttpUpstream, hooks: UpstreamHooks = {}) {
  const requestInit = { headers: upstreamHeaders(upstream) };
  let send: typeof fetch = (input, init) => fetch(input, init);
  if (upstream.oauth) {
    let tokens = upstreamTokens.get(upstream);
    if (!tokens) {
      tokens = new UpstreamTokens(upstream.oauth);
      upstreamTokens.set(upstream, tokens);
    }
    send = tokens.fetch();
  }
  if (hooks.onStreamClosedEarly) send = watchingRequestStreams(send, hooks.onStreamClosedEarly);
  return { requestInit, fetch: send };
}

/**
 * A fetch that reads along the SSE stream answering each POST and reports one that ends cleanly, after at least one
 * event id, without a JSON-RPC response: the upstream closed it mid-call to be polled. A stream that fails (a cut
 * connection) is not reported.
 */
function watchingRequestStreams(send: typeof fetch, onClosedEarly: (lastEventId: string) => void): typeof fetch {
  return async (input, init) => {
    const response = await send(input, init);
    if (init?.method !== 'POST' || !response.body || !response.headers.get('content-type')?.includes('text/event-stream')) return response;
    const decoder = new TextDecoder();
    let pending = '';
    let lastEventId: string | undefined;
    let answered = false;
    const watched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          controller.enqueue(chunk);
          pending += decoder.decode(chunk, { stream: true });
          for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
            const line = pending.slice(0, end).replace(/\r$/, '');
            pending = pending.slice(end + 1);
            if (line.startsWith('id:')) lastEventId = line.slice(3).trim();
            else if (line.startsWith('data:') && isResponse(line.slice(5))) answered = true;
          }
        },
        flush() {
          if (!answered && lastEventId !== undefined) onClosedEarly(lastEventId);
        },
      }),
    );
    return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function isResponse(data: string): boolean {
  try {
    const message: unknown = JSON.parse(data);
    return typeof message === 'object' && message !== null && 'id' in message && ('result' in message || 'error' in message);
  } catch {
    return false;
  }
}

function createTransport(upstream: UpstreamConfig, deps: UpstreamDeps, hooks: UpstreamHooks): Transport {
  switch (upstream.transport) {
    case 'streamable-http':
      return new StreamableHTTPClientTransport(new URL(upstream.url), httpOptions(upstream, hooks));
    case 'sse':
      return new SSEClientTransport(new URL(upstream.url), httpOptions(upstream));
    case 'stdio':
      if (!deps.createStdioTransport) throw new Error(`upstream ${upstream.id}: stdio upstreams need the Node runtime`);
      return deps.createStdioTransport(upstream);
    case 'demo': {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      void createDemoServer({ jsonSchemaValidator: deps.jsonSchemaValidator }).connect(serverSide);
      return clientSide;
    }
  }
}

/**
 * Opens a client session to one upstream. `capabilities` are the ones the downstream client declared, so an
 * upstream only asks for sampling, elicitation or roots when the client can answer.
 */
export async function connectUpstream(upstream: UpstreamConfig, capabilities: ClientCapabilities, deps: UpstreamDeps, hooks: UpstreamHooks = {}): Promise<Client> {
  const client = new Client(GATEWAY_INFO, { capabilities, jsonSchemaValidator: deps.jsonSchemaValidator });
  await client.connect(createTransport(upstream, deps, hooks), { timeout: upstream.timeoutMs });
  return client;
}
