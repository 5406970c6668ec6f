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
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ClientCapabilities,
  type Notification,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Logger } from '../../oauth/types.js';
import type { JsonSchemaType, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { Access } from '../gate/access.js';
import type { ReviewedTool } from '../gate/tool-review.js';
import type { Decision, Target, TargetKind } from '../policy/engine.js';
import type { UpstreamConfig } from '../config/schema.js';
import { namespacedName, namespacedUri, splitName, splitUri } from './names.js';
import type { UpstreamCatalog } from './catalog.js';
import { GATEWAY_INFO, type UpstreamDeps } from './upstream.js';
import { protocolError } from './upstream-errors.js';
import { UpstreamPool, type Extra, type Upstream } from './upstream-pool.js';

const MAX_PAGES = 100;

/**
 * The MCP server one downstream session talks to: an SDK `Server` whose handlers fan out to, or route to, the
 * session's upstream clients. Each side negotiates its own protocol version; names are namespaced per upstream.
 */
export class ProxySession {
  readonly server: Server;
  readonly #pool: UpstreamPool;
  readonly #logger: Logger;
  readonly #access: Access;
  /** What this session offers its client (fixed at initialize). */
  readonly #capabilities: ServerCapabilities;
  /** The tools clients may see, by `<prefix> <upstream name>`, from the latest reviewed listings (pinned definitions for policy). */
  readonly #tools = new Map<string, ReviewedTool>();
  /** The client capabilities declared to upstreams (what the gateway relays back to its own client). */
  readonly #clientCapabilities: ClientCapabilities;

  private constructor(pool: UpstreamPool, clientCapabilities: ClientCapabilities, access: Access, logger: Logger, jsonSchemaValidator: jsonSchemaValidator) {
    this.#pool = pool;
    this.#logger = logger;
    this.#access = access;
    this.#clientCapabilities = clientCapabilities;
    const upstreams = [...pool.values()];
    const capabilities = unionCapabilities(upstreams.map((upstream) => upstream.capabilities));
    this.#capabilities = capabilities;
    this.server = new Server(GATEWAY_INFO, { capabilities, jsonSchemaValidator });
    this.#registerHandlers(capabilities);
    for (const upstream of upstreams) if (upstream.client) this.#relayFromUpstream(upstream, upstream.client);
    pool.onConnected = (upstream, client) => this.#relayFromUpstream(upstream, client);
    if (clientCapabilities.roots?.listChanged) {
      // The client's roots changed: every upstream session hears it and may ask again (MCP 2025-11-25 client/roots).
      this.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
        await Promise.allSettled([...this.#pool.values()].map((upstream) => upstream.client?.sendRootsListChanged()));
      });
    }
  }

  /** Opens a session over the tenant's upstreams (see {@link UpstreamPool.open}); only client capabilities an upstream can use are declared to it. */
  static async open(upstreams: readonly UpstreamConfig[], clientCapabilities: ClientCapabilities, deps: UpstreamDeps, catalog: UpstreamCatalog, access: Access, logger: Logger): Promise<ProxySession> {
    const forwarded: ClientCapabilities = {
      ...(clientCapabilities.sampling && { sampling: clientCapabilities.sampling }),
      ...(clientCapabilities.elicitation && { elicitation: clientCapabilities.elicitation }),
      ...(clientCapabilities.roots && { roots: clientCapabilities.roots }),
    };
    return new ProxySession(await UpstreamPool.open(upstreams, forwarded, deps, catalog, logger), forwarded, access, logger, deps.jsonSchemaValidator);
  }

  /** Ends the upstream sessions (a Streamable HTTP upstream is told so with DELETE; a stdio child is stopped) and the server. */
  async close(): Promise<void> {
    await this.#pool.close();
    await this.server.close();
  }

  /** Tells the client that what it may list may have changed (after a policy change), on its GET stream. */
  async notifyListsChanged(): Promise<void> {
    const caps = this.#capabilities;
    await Promise.all([
      caps.tools && this.server.sendToolListChanged(),
      caps.prompts && this.server.sendPromptListChanged(),
      caps.resources && this.server.sendResourceListChanged(),
    ]);
  }

  /** Every page of one list of one upstream. */
  async #listOne<T>(upstream: Upstream, extra: Extra | undefined, list: Lister<T>): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.#pool.forward(upstream, extra, (client, options) => list(client, cursor, options));
      items.push(...result.items);
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return items;
  }

  /**
   * Every item of one list from every upstream (`list` gets all pages of one), without what policy denies the caller,
   * namespaced; an upstream that fails is logged and skipped.
   */
  async #listAll<T, R>(kind: TargetKind, capability: keyof ServerCapabilities, extra: Extra, list: (upstream: Upstream) => Promise<T[]>, describe: (item: T) => { name: string; annotations?: Tool['annotations'] }, rename: (prefix: string, item: T) => R): Promise<R[]> {
    const lists = await Promise.all(
      [...this.#pool.values()]
        .filter((upstream) => upstream.capabilities[capability] !== undefined)
        .map(async (upstream) => {
          try {
            const items = await list(upstream);
            return items
              .filter((item) => this.#access.decide(extra.authInfo, { kind, upstream: upstream.config.id, ...describe(item) }).effect !== 'deny')
              .map((item) => rename(upstream.prefix, item));
          } catch (error) {
            this.#logger.warn({ upstream: upstream.config.id, err: error, capability }, 'listing from an upstream failed');
            return [];
          }
        }),
    );
    return lists.flat();
  }

  /** The upstream and its own name of what a client names; a name that fits no upstream is unknown. */
  #resolve(kind: TargetKind, name: string): { upstream: Upstream; name: string } {
    // An unprefixed upstream is the tenant's only one (the config enforces it), so every name and URI is its own.
    const split = this.#pool.get('') !== undefined ? { prefix: '', name } : kind === 'resource' ? renamed(splitUri(name)) : splitName(name);
    const upstream = split && this.#pool.get(split.prefix);
    if (!split || !upstream) throw unknown(kind, name);
    return { upstream, name: split.name };
  }

  /** One upstream's tools a client may see after the review of their definitions (pinning, poisoning), remembered. */
  async #reviewedTools(upstream: Upstream, extra: Extra | undefined): Promise<ReviewedTool[]> {
    const reviewed = await this.#access.reviewTools(upstream.config.id, await this.#listOne(upstream, extra, listTools));
    for (const key of this.#tools.keys()) if (key.startsWith(`${upstream.prefix} `)) this.#tools.delete(key);
    for (const item of reviewed) this.#tools.set(`${upstream.prefix} ${item.tool.name}`, item);
    return reviewed;
  }

  /** A tool a client may see, listing the upstream's tools if not yet known; undefined for a tool not listed or hidden. */
  async #tool(upstream: Upstream, name: string, extra: Extra | undefined): Promise<ReviewedTool | undefined> {
    const known = this.#tools.get(`${upstream.prefix} ${name}`);
    if (known || upstream.capabilities.tools === undefined) return known;
    await this.#reviewedTools(upstream, extra);
    return this.#tools.get(`${upstream.prefix} ${name}`);
  }

  /**
   * The policy decision on a call; `args` are the call's (tool or prompt arguments), `{}` for other requests. Policy
   * reads a tool's pinned annotations; a tool that is not listed, or hidden by its review, is denied (so unknown).
   */
  async #decide(kind: TargetKind, resolved: { upstream: Upstream; name: string }, authInfo: AuthInfo | undefined, args: Record<string, unknown>, extra: Extra | undefined): Promise<Decision> {
    const tool = kind === 'tool' ? await this.#tool(resolved.upstream, resolved.name, extra) : undefined;
    if (kind === 'tool' && !tool) return { effect: 'deny', reason: 'the upstream lists no such tool, or its definition is hidden until an admin approves it' };
    const target: Target = { kind, upstream: resolved.upstream.config.id, name: resolved.name, annotations: tool?.pinned.annotations };
    return this.#access.decide(authInfo, target, args);
  }

  /** Resolves what a client names and lets it through policy: denied is unknown, exactly like a name that never existed. */
  async #admit(kind: TargetKind, name: string, args: Record<string, unknown> | undefined, extra: Extra): Promise<{ upstream: Upstream; name: string }> {
    const resolved = this.#resolve(kind, name);
    const decision = await this.#decide(kind, resolved, extra.authInfo, args ?? {}, extra);
    if (decision.effect === 'deny') throw unknown(kind, name);
    if (decision.effect === 'step-up') throw protocolError(INSUFFICIENT_SCOPE, `insufficient scope: ${decision.missingScopes.join(' ')} required`, { missingScopes: decision.missingScopes });
    return resolved;
  }

  /**
   * The scopes the caller lacks for the calls in a POST body, when policy would allow them with those scopes: the
   * endpoint answers 403 insufficient_scope before the calls reach the session (MCP 2025-11-25 authorization, scope
   * challenge handling). Every call of a batch is checked. Requests that cannot be resolved are left to the session.
   */
  async missingScopes(body: unknown, authInfo: AuthInfo): Promise<string[]> {
    const missing = new Set<string>();
    for (const message of Array.isArray(body) ? body : [body]) {
      const call = callOf(message);
      if (!call) continue;
      try {
        const decision = await this.#decide(call.kind, this.#resolve(call.kind, call.name), authInfo, call.args, undefined);
        if (decision.effect === 'step-up') for (const scope of decision.missingScopes) missing.add(scope);
      } catch {
        // Unknown names and failing upstreams get their answers from the session's handlers.
      }
    }
    return [...missing];
  }

  #registerHandlers(caps: ServerCapabilities): void {
    const { server } = this;
    if (caps.tools) {
      server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => ({
        tools: await this.#listAll('tool', 'tools', extra as Extra, (upstream) => this.#reviewedTools(upstream, extra as Extra), ({ pinned }) => pinned, (prefix, { tool }) => ({ ...tool, name: namespacedName(prefix, tool.name) })),
      }));
      server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
        const target = await this.#admit('tool', request.params.name, request.params.arguments, extra as Extra);
        const upstream = target.upstream.config.id;
        const release = await this.#access.admitToolCall(upstream, target.name);
        try {
          const args = await this.#access.guard({ direction: 'in', kind: 'tool', upstream, name: target.name }, request.params.arguments);
          const result = await this.#pool.forward(target.upstream, extra as Extra, (client, options) => client.callTool({ ...request.params, name: target.name, ...(args !== undefined && { arguments: args }) }, undefined, options));
          const outputSchema = this.#tools.get(`${target.upstream.prefix} ${target.name}`)?.tool.outputSchema as JsonSchemaType | undefined;
          const guarded = await this.#access.guard({ direction: 'out', kind: 'tool', upstream, name: target.name, outputSchema }, result);
          if (!Array.isArray(guarded.content)) return guarded;
          return { ...guarded, content: guarded.content.map((block) => namespacedContent(target.upstream.prefix, block)) };
        } finally {
          await release();
        }
      });
    }
    if (caps.prompts) {
      server.setRequestHandler(ListPromptsRequestSchema, async (_request, extra) => ({
        prompts: await this.#listAll('prompt', 'prompts', extra as Extra, (upstream) => this.#listOne(upstream, extra as Extra, async (client, cursor, options) => {
          const result = await client.listPrompts(cursor ? { cursor } : {}, options);
          return { items: result.prompts, nextCursor: result.nextCursor };
        }), (prompt) => prompt, (prefix, prompt) => ({ ...prompt, name: namespacedName(prefix, prompt.name) })),
      }));
      server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
        const target = await this.#admit('prompt', request.params.name, request.params.arguments, extra as Extra);
        const where = { kind: 'other', upstream: target.upstream.config.id, name: target.name } as const;
        const args = await this.#access.guard({ direction: 'in', ...where }, request.params.arguments);
        const result = await this.#pool.forward(target.upstream, extra as Extra, (client, options) => client.getPrompt({ ...request.params, name: target.name, ...(args !== undefined && { arguments: args }) }, options));
        const guarded = await this.#access.guard({ direction: 'out', ...where }, result);
        return { ...guarded, messages: guarded.messages.map((message) => ({ ...message, content: namespacedContent(target.upstream.prefix, message.content) })) };
      });
    }
    if (caps.resources) {
      server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => ({
        resources: await this.#listAll('resource', 'resources', extra as Extra, (upstream) => this.#listOne(upstream, extra as Extra, async (client, cursor, options) => {
          const result = await client.listResources(cursor ? { cursor } : {}, options);
          return { items: result.resources, nextCursor: result.nextCursor };
        }), (resource) => ({ name: resource.uri }), (prefix, resource) => ({ ...resource, uri: namespacedUri(prefix, resource.uri) })),
      }));
      server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_request, extra) => ({
        resourceTemplates: await this.#listAll('resource', 'resources', extra as Extra, (upstream) => this.#listOne(upstream, extra as Extra, async (client, cursor, options) => {
          const result = await client.listResourceTemplates(cursor ? { cursor } : {}, options);
          return { items: result.resourceTemplates, nextCursor: result.nextCursor };
        }), (template) => ({ name: template.uriTemplate }), (prefix, template) => ({ ...template, uriTemplate: namespacedUri(prefix, template.uriTemplate) })),
      }));
      server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
        const target = await this.#admit('resource', request.params.uri, undefined, extra as Extra);
        const result = await this.#pool.forward(target.upstream, extra as Extra, (client, options) => client.readResource({ ...request.params, uri: target.name }, options));
        const guarded = await this.#access.guard({ direction: 'out', kind: 'other', upstream: target.upstream.config.id, name: target.name }, result);
        return { ...guarded, contents: guarded.contents.map((content) => ({ ...content, uri: namespacedUri(target.upstream.prefix, content.uri) })) };
      });
      if (caps.resources.subscribe) {
        server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
          const target = await this.#admit('resource', request.params.uri, undefined, extra as Extra);
          return this.#pool.forward(target.upstream, extra as Extra, (client, options) => client.subscribeResource({ ...request.params, uri: target.name }, options));
        });
        server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
          const target = this.#resolve('resource', request.params.uri);
          return this.#pool.forward(target.upstream, extra as Extra, (client, options) => client.unsubscribeResource({ ...request.params, uri: target.name }, options));
        });
      }
    }
    if (caps.completions) {
      server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
        const { ref } = request.params;
        if (ref.type === 'ref/prompt') {
          const target = await this.#admit('prompt', ref.name, undefined, extra as Extra);
          return this.#pool.forward(target.upstream, extra as Extra, (client, options) => client.complete({ ...request.params, ref: { ...ref, name: target.name } }, options));
        }
        const target = await this.#admit('resource', ref.uri, undefined, extra as Extra);
        return this.#pool.forward(target.upstream, extra as Extra, (client, options) => client.complete({ ...request.params, ref: { ...ref, uri: target.name } }, options));
      });
    }
    if (caps.logging) {
      server.setRequestHandler(SetLevelRequestSchema, async (request, extra) => {
        await Promise.all(
          [...this.#pool.values()]
            .filter((upstream) => upstream.capabilities.logging)
            .map((upstream) => this.#pool.forward(upstream, extra as Extra, (client, options) => client.setLoggingLevel(request.params.level, options))),
        );
        return {};
      });
    }
  }

  /** Upstream-initiated traffic: requests for the client (sampling, elicitation, roots) and notifications. */
  #relayFromUpstream(upstream: Upstream, client: Client): void {
    const clientCapabilities = this.#clientCapabilities;
    const toClient = async <T>(request: { method: string; params?: unknown }, schema: T, signal: AbortSignal) => {
      const extra = this.#pool.latestRequest(upstream.prefix);
      // What an upstream asks the client's model or user (sampling, elicitation) is upstream content too: guard out.
      const guarded = request.method === 'roots/list' ? request : await this.#access.guard({ direction: 'out', kind: 'other', upstream: upstream.config.id, name: request.method }, request);
      // On the stream of the downstream request that caused it, when there is one; else on the GET stream.
      return extra ? extra.sendRequest(guarded as never, schema as never, { signal }) : this.server.request(guarded as never, schema as never, { signal });
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

type Lister<T> = (client: Client, cursor: string | undefined, options: RequestOptions) => Promise<{ items: T[]; nextCursor?: string | undefined }>;

const listTools: Lister<Tool> = async (client, cursor, options) => {
  const result = await client.listTools(cursor ? { cursor } : {}, options);
  return { items: result.tools, nextCursor: result.nextCursor };
};

/** JSON-RPC code of a call policy would allow with scopes the token lacks (normally answered with HTTP 403 first). */
export const INSUFFICIENT_SCOPE = -32012;

/** The same answer as for a name that never existed (MCP 2025-11-25 server/tools: "Unknown tool: <name>"). */
function unknown(kind: TargetKind, name: string): Error {
  return protocolError(ErrorCode.InvalidParams, `Unknown ${kind}: ${name}`);
}

function renamed(split: { prefix: string; uri: string } | undefined): { prefix: string; name: string } | undefined {
  return split && { prefix: split.prefix, name: split.uri };
}

/** The target of a request policy decides on: a tool call, a prompt, or a resource read, with its arguments. */
function callOf(message: unknown): { kind: TargetKind; name: string; args: Record<string, unknown> } | undefined {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown; uri?: unknown; arguments?: unknown } };
  const args = typeof params?.arguments === 'object' && params.arguments !== null ? (params.arguments as Record<string, unknown>) : {};
  if (method === 'tools/call' && typeof params?.name === 'string') return { kind: 'tool', name: params.name, args };
  if (method === 'prompts/get' && typeof params?.name === 'string') return { kind: 'prompt', name: params.name, args };
  if (method === 'resources/read' && typeof params?.uri === 'string') return { kind: 'resource', name: params.uri, args: {} };
  return undefined;
}

/**
 * A content block with the upstream's resource URIs namespaced (a `resource_link`, or an embedded `resource`), so a
 * client can read what a tool result or a prompt points to through the gateway, like a listed resource.
 */
function namespacedContent<T>(prefix: string, block: T): T {
  const content = block as { type?: unknown; uri?: unknown; resource?: { uri?: unknown } };
  if (content.type === 'resource_link' && typeof content.uri === 'string') return { ...block, uri: namespacedUri(prefix, content.uri) };
  if (content.type === 'resource' && typeof content.resource?.uri === 'string') return { ...block, resource: { ...content.resource, uri: namespacedUri(prefix, content.resource.uri) } };
  return block;
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
