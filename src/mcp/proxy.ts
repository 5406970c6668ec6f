import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageRequestSchema,
  CreateMessageResultSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsRequestSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ClientCapabilities,
  type Notification,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../oauth/types.js';
import type { UpstreamConfig } from '../config/schema.js';
import { namespacedName, namespacedUri, splitName, splitUri } from './names.js';
import { connectUpstream, GATEWAY_INFO, type UpstreamDeps } from './upstream.js';

/** One upstream as a downstream session sees it. */
interface Connected {
  config: UpstreamConfig;
  prefix: string;
  client: Client;
}

type Extra = { signal: AbortSignal; _meta?: { progressToken?: string | number }; sendNotification: (n: never) => Promise<void>; sendRequest: Server['request'] };

const MAX_PAGES = 100;

/**
 * The MCP server one downstream session talks to: an SDK `Server` whose handlers fan out to, or route to, the
 * session's upstream clients. Each side negotiates its own protocol version; names are namespaced per upstream.
 */
export class ProxySession {
  readonly server: Server;
  readonly #upstreams: ReadonlyMap<string, Connected>;
  readonly #logger: Logger;
  /** Downstream requests in flight per upstream, so an upstream's own requests travel on the right stream. */
  readonly #inFlight = new Map<string, Extra[]>();

  private constructor(upstreams: Connected[], clientCapabilities: ClientCapabilities, logger: Logger) {
    this.#upstreams = new Map(upstreams.map((upstream) => [upstream.prefix, upstream]));
    this.#logger = logger;
    const capabilities = unionCapabilities(upstreams.map((upstream) => upstream.client.getServerCapabilities() ?? {}));
    this.server = new Server(GATEWAY_INFO, { capabilities });
    this.#registerHandlers(capabilities);
    for (const upstream of upstreams) this.#relayFromUpstream(upstream, clientCapabilities);
  }

  /** Connects to every upstream of the tenant; one that cannot be reached is left out (and logged), not fatal. */
  static async open(upstreams: readonly UpstreamConfig[], clientCapabilities: ClientCapabilities, deps: UpstreamDeps, logger: Logger): Promise<ProxySession> {
    const forwarded: ClientCapabilities = {
      ...(clientCapabilities.sampling && { sampling: clientCapabilities.sampling }),
      ...(clientCapabilities.elicitation && { elicitation: clientCapabilities.elicitation }),
      ...(clientCapabilities.roots && { roots: clientCapabilities.roots }),
    };
    const settled = await Promise.allSettled(upstreams.map((config) => connectUpstream(config, forwarded, deps)));
    const connected: Connected[] = [];
    settled.forEach((result, index) => {
      const config = upstreams[index]!;
      if (result.status === 'fulfilled') connected.push({ config, prefix: config.prefix ?? config.id, client: result.value });
      else logger.warn({ upstream: config.id, err: result.reason }, 'upstream unavailable; its tools are left out of this session');
    });
    return new ProxySession(connected, forwarded, logger);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#upstreams.values()].map((upstream) => upstream.client.close()));
    await this.server.close();
  }

  #upstream(prefix: string): Connected | undefined {
    return this.#upstreams.get(prefix);
  }

  /** Runs a request against one upstream on behalf of a downstream request: timeout, progress and cancellation pass through. */
  async #forward<T>(upstream: Connected, extra: Extra, call: (options: RequestOptions) => Promise<T>): Promise<T> {
    const progressToken = extra._meta?.progressToken;
    const options: RequestOptions = {
      signal: extra.signal,
      timeout: upstream.config.timeoutMs,
      resetTimeoutOnProgress: true,
      ...(progressToken !== undefined && {
        onprogress: (progress) => void extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } } as never),
      }),
    };
    const stack = this.#inFlight.get(upstream.prefix) ?? [];
    this.#inFlight.set(upstream.prefix, [...stack, extra]);
    try {
      return await call(options);
    } catch (error) {
      // Relay an upstream's JSON-RPC error as it was sent, not wrapped in the SDK's "MCP error <code>:" prefix.
      if (error instanceof McpError) throw protocolError(error.code, error.message.replace(/^MCP error -?\d+: /, ''), error.data);
      throw error;
    } finally {
      this.#inFlight.set(upstream.prefix, (this.#inFlight.get(upstream.prefix) ?? []).filter((entry) => entry !== extra));
    }
  }

  /** Every page of one list from every upstream, namespaced; an upstream that fails is logged and skipped. */
  async #listAll<T>(capability: keyof ServerCapabilities, extra: Extra, list: (client: Client, cursor: string | undefined, options: RequestOptions) => Promise<{ items: T[]; nextCursor?: string | undefined }>, rename: (prefix: string, item: T) => T): Promise<T[]> {
    const lists = await Promise.all(
      [...this.#upstreams.values()]
        .filter((upstream) => upstream.client.getServerCapabilities()?.[capability] !== undefined)
        .map(async (upstream) => {
          try {
            const items: T[] = [];
            let cursor: string | undefined;
            for (let page = 0; page < MAX_PAGES; page++) {
              const result = await this.#forward(upstream, extra, (options) => list(upstream.client, cursor, options));
              items.push(...result.items.map((item) => rename(upstream.prefix, item)));
              cursor = result.nextCursor;
              if (!cursor) break;
            }
            return items;
          } catch (error) {
            this.#logger.warn({ upstream: upstream.config.id, err: error, capability }, 'listing from an upstream failed');
            return [];
          }
        }),
    );
    return lists.flat();
  }

  #registerHandlers(caps: ServerCapabilities): void {
    const { server } = this;
    const byName = (name: string, kind: 'tool' | 'prompt') => {
      const split = splitName(name);
      const upstream = split && this.#upstream(split.prefix);
      // The same answer as for a name that never existed (MCP 2025-11-25 server/tools: "Unknown tool").
      if (!split || !upstream) throw protocolError(ErrorCode.InvalidParams, `Unknown ${kind}: ${name}`);
      return { upstream, name: split.name };
    };
    const byUri = (uri: string) => {
      const split = splitUri(uri);
      const upstream = split && this.#upstream(split.prefix);
      if (!split || !upstream) throw protocolError(ErrorCode.InvalidParams, `Unknown resource: ${uri}`);
      return { upstream, uri: split.uri };
    };

    if (caps.tools) {
      server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => ({
        tools: await this.#listAll('tools', extra as Extra, async (client, cursor, options) => {
          const result = await client.listTools(cursor ? { cursor } : {}, options);
          return { items: result.tools, nextCursor: result.nextCursor };
        }, (prefix, tool) => ({ ...tool, name: namespacedName(prefix, tool.name) })),
      }));
      server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
        const target = byName(request.params.name, 'tool');
        return this.#forward(target.upstream, extra as Extra, (options) =>
          target.upstream.client.callTool({ ...request.params, name: target.name }, undefined, options),
        );
      });
    }
    if (caps.prompts) {
      server.setRequestHandler(ListPromptsRequestSchema, async (_request, extra) => ({
        prompts: await this.#listAll('prompts', extra as Extra, async (client, cursor, options) => {
          const result = await client.listPrompts(cursor ? { cursor } : {}, options);
          return { items: result.prompts, nextCursor: result.nextCursor };
        }, (prefix, prompt) => ({ ...prompt, name: namespacedName(prefix, prompt.name) })),
      }));
      server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
        const target = byName(request.params.name, 'prompt');
        return this.#forward(target.upstream, extra as Extra, (options) => target.upstream.client.getPrompt({ ...request.params, name: target.name }, options));
      });
    }
    if (caps.resources) {
      server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => ({
        resources: await this.#listAll('resources', extra as Extra, async (client, cursor, options) => {
          const result = await client.listResources(cursor ? { cursor } : {}, options);
          return { items: result.resources, nextCursor: result.nextCursor };
        }, (prefix, resource) => ({ ...resource, uri: namespacedUri(prefix, resource.uri) })),
      }));
      server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_request, extra) => ({
        resourceTemplates: await this.#listAll('resources', extra as Extra, async (client, cursor, options) => {
          const result = await client.listResourceTemplates(cursor ? { cursor } : {}, options);
          return { items: result.resourceTemplates, nextCursor: result.nextCursor };
        }, (prefix, template) => ({ ...template, uriTemplate: namespacedUri(prefix, template.uriTemplate) })),
      }));
      server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
        const target = byUri(request.params.uri);
        const result = await this.#forward(target.upstream, extra as Extra, (options) => target.upstream.client.readResource({ ...request.params, uri: target.uri }, options));
        return { ...result, contents: result.contents.map((content) => ({ ...content, uri: namespacedUri(target.upstream.prefix, content.uri) })) };
      });
      if (caps.resources.subscribe) {
        server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
          const target = byUri(request.params.uri);
          return this.#forward(target.upstream, extra as Extra, (options) => target.upstream.client.subscribeResource({ ...request.params, uri: target.uri }, options));
        });
        server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
          const target = byUri(request.params.uri);
          return this.#forward(target.upstream, extra as Extra, (options) => target.upstream.client.unsubscribeResource({ ...request.params, uri: target.uri }, options));
        });
      }
    }
    if (caps.completions) {
      server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
        const { ref } = request.params;
        if (ref.type === 'ref/prompt') {
          const target = byName(ref.name, 'prompt');
          return this.#forward(target.upstream, extra as Extra, (options) => target.upstream.client.complete({ ...request.params, ref: { ...ref, name: target.name } }, options));
        }
        const target = byUri(ref.uri);
        return this.#forward(target.upstream, extra as Extra, (options) => target.upstream.client.complete({ ...request.params, ref: { ...ref, uri: target.uri } }, options));
      });
    }
    if (caps.logging) {
      server.setRequestHandler(SetLevelRequestSchema, async (request, extra) => {
        await Promise.all(
          [...this.#upstreams.values()]
            .filter((upstream) => upstream.client.getServerCapabilities()?.logging)
            .map((upstream) => this.#forward(upstream, extra as Extra, (options) => upstream.client.setLoggingLevel(request.params.level, options))),
        );
        return {};
      });
    }
  }

  /** Upstream-initiated traffic: requests for the client (sampling, elicitation, roots) and notifications. */
  #relayFromUpstream(upstream: Connected, clientCapabilities: ClientCapabilities): void {
    const { client } = upstream;
    const toClient = <T>(request: { method: string; params?: unknown }, schema: T, signal: AbortSignal) => {
      const extra = this.#inFlight.get(upstream.prefix)?.at(-1);
      // On the stream of the downstream request that caused it, when there is one; else on the GET stream.
      return extra ? extra.sendRequest(request as never, schema as never, { signal }) : this.server.request(request as never, schema as never, { signal });
    };
    if (clientCapabilities.sampling) client.setRequestHandler(CreateMessageRequestSchema, (request, extra) => toClient(request, CreateMessageResultSchema, extra.signal) as never);
    if (clientCapabilities.elicitation) client.setRequestHandler(ElicitRequestSchema, (request, extra) => toClient(request, ElicitResultSchema, extra.signal) as never);
    if (clientCapabilities.roots) client.setRequestHandler(ListRootsRequestSchema, (request, extra) => toClient(request, ListRootsResultSchema, extra.signal) as never);
    client.fallbackNotificationHandler = async (notification: Notification) => {
      const params = notification.params as Record<string, unknown> | undefined;
      switch (notification.method) {
        case 'notifications/tools/list_changed':
        case 'notifications/prompts/list_changed':
        case 'notifications/resources/list_changed':
        case 'notifications/message':
          await this.server.notification(notification as never);
          return;
        case 'notifications/resources/updated':
          await this.server.notification({ method: notification.method, params: { ...params, uri: namespacedUri(upstream.prefix, String(params?.uri ?? '')) } } as never);
          return;
        default:
          this.#logger.info({ upstream: upstream.config.id, method: notification.method }, 'dropped an upstream notification the gateway does not relay');
      }
    };
  }
}

/** An error the SDK sends as a JSON-RPC error with exactly this code, message and data. */
function protocolError(code: number, message: string, data?: unknown): Error {
  return Object.assign(new Error(message), { code, ...(data !== undefined && { data }) });
}

/** What the gateway offers downstream: the union of what its upstreams offer. */
function unionCapabilities(all: ServerCapabilities[]): ServerCapabilities {
  const has = (key: keyof ServerCapabilities) => all.some((capabilities) => capabilities[key] !== undefined);
  return {
    ...(has('tools') && { tools: { listChanged: true } }),
    ...(has('prompts') && { prompts: { listChanged: true } }),
    ...(has('resources') && { resources: { listChanged: true, subscribe: all.some((capabilities) => capabilities.resources?.subscribe === true) } }),
    ...(has('logging') && { logging: {} }),
    ...(has('completions') && { completions: {} }),
  };
}
