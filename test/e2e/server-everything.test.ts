import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListRootsRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ReadResourceRequestSchema,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
  type CreateMessageRequest,
  type CreateMessageResult,
  type ElicitRequest,
  type ElicitResult,
  type LoggingMessageNotification,
  type Progress,
  type Resource,
  type Root,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// Test 1 of issue 3 for @modelcontextprotocol/server-everything, and the upstream-to-client half of the proxy:
// sampling, elicitation, roots, progress, logging, resource updates and cancellation routed through the gateway to
// the right downstream session and back. One tenant fronts server-everything (Streamable HTTP, prefix
// `everything`), the built-in demo, and a small fixture whose lists come in several pages (server-everything
// 2026.8.31 answers every list in one page, so it cannot show that the gateway follows cursors).
//
// "Intact through the gateway" is stated by comparison: wherever server-everything's answer is deterministic, a
// client connected straight to it (same capabilities, same handlers) must see exactly what the gateway's client
// sees, modulo the `everything__` / `everything+` namespacing.

const PREFIX = 'everything';
const CANNED_REPLY = 'Canned answer from the test client: 42.';
const ACCEPTED = { name: 'Ada Lovelace', check: true, email: 'ada@example.com', integer: 7, number: 2.5 };
const FIRST_ROOT: Root = { uri: 'file:///srv/project-alpha', name: 'Project Alpha' };
const SECOND_ROOT: Root = { uri: 'file:///srv/project-beta', name: 'Project Beta' };
const FEATURES_DOC = 'demo://resource/static/document/features.md';
const STARTUP_DOC = 'demo://resource/static/document/startup.md';
/** How long a test waits for a notification or an upstream-initiated request before failing. */
const WAIT_MS = 8_000;

/** `everything__<name>` and `everything+<uri>`, as the gateway names server-everything's offer. */
const tool = (name: string) => `${PREFIX}__${name}`;
const uri = (raw: string) => `${PREFIX}+${raw}`;

// ---------------------------------------------------------------------------------------------------------------
// server-everything as a child process

interface RunningEverything {
  /** Its Streamable HTTP endpoint on loopback. */
  url: string;
  /** Everything it printed so far (stdout and stderr, bounded). */
  output(): string;
  stop(): Promise<void>;
}

const EVERYTHING_ENTRY = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')), 'dist/index.js');
const MAX_OUTPUT_CHARS = 1_000_000;

/** A port that was free on 127.0.0.1 a moment ago (server-everything takes a port number, not port 0). */
async function freeLoopbackPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Starts `server-everything streamableHttp` on the machine's Node (it supports Node 18+) with only `PORT` in its
 * environment. It listens on every interface, so the port is one picked on loopback; if another process takes the
 * port in between, it exits with EADDRINUSE and we try another.
 */
async function startEverything(): Promise<RunningEverything> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const child = spawn(process.execPath, [EVERYTHING_ENTRY, 'streamableHttp'], { env: { PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const outcome = await new Promise<'listening' | 'exited' | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 15_000);
      const onData = () => {
        if (output.includes(`listening on port ${port}`)) {
          clearTimeout(timer);
          resolve('listening');
        }
      };
      child.stderr?.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve('exited');
      });
    });
    if (outcome === 'listening') {
      return { url: `http://127.0.0.1:${port}/mcp`, output: () => output, stop: () => stopChild(child) };
    }
    await stopChild(child);
    if (outcome === 'timeout' || attempt >= 3 || !output.includes('already in use')) {
      throw new Error(`server-everything did not start (${outcome}):\n${output}`);
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------------------
// An upstream whose tools and resources come in pages of three

const PAGE_SIZE = 3;
const PAGED_TOOLS: Tool[] = [
  ...Array.from({ length: 7 }, (_, index): Tool => ({ name: `tool-${index + 1}`, description: `Paged tool ${index + 1}`, inputSchema: { type: 'object' } })),
  { name: 'wait', description: 'Waits until cancelled (at most 5 s)', inputSchema: { type: 'object' } },
];
/** What the fixture's `wait` tool saw: calls that started, and the reasons of those that were cancelled. */
const waits = { started: 0, cancelled: [] as string[] };
const PAGED_RESOURCES: Resource[] = Array.from({ length: 8 }, (_, index) => ({ uri: `paged://item/${index + 1}`, name: `item-${index + 1}`, mimeType: 'text/plain' }));

function onePage<T>(items: readonly T[], cursor: string | undefined): { items: T[]; nextCursor?: string } {
  const start = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isInteger(start) || start < 0 || start >= items.length) throw new McpError(ErrorCode.InvalidParams, `Invalid cursor: ${cursor}`);
  const end = start + PAGE_SIZE;
  return { items: items.slice(start, end), ...(end < items.length && { nextCursor: String(end) }) };
}

function createPagedServer(): Server {
  const server = new Server({ name: 'paged-fixture', version: '1.0.0' }, { capabilities: { tools: {}, resources: {} } });
  server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const { items, ...rest } = onePage(PAGED_TOOLS, request.params?.cursor);
    return { tools: items, ...rest };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    if (request.params.name === 'wait') {
      waits.started++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          waits.cancelled.push(String(extra.signal.reason));
          resolve();
        }, { once: true });
      });
    }
    return { content: [{ type: 'text', text: `called ${request.params.name}` }] };
  });
  server.setRequestHandler(ListResourcesRequestSchema, (request) => {
    const { items, ...rest } = onePage(PAGED_RESOURCES, request.params?.cursor);
    return { resources: items, ...rest };
  });
  server.setRequestHandler(ReadResourceRequestSchema, (request) => ({ contents: [{ uri: request.params.uri, mimeType: 'text/plain', text: `content of ${request.params.uri}` }] }));
  return server;
}

// ---------------------------------------------------------------------------------------------------------------
// Clients: one through the gateway, one straight to server-everything, both declaring and answering the same things

/** What a client saw of the server's own initiative. */
interface Seen {
  sampling: CreateMessageRequest['params'][];
  elicitations: ElicitRequest['params'][];
  rootsRequests: number;
  logs: LoggingMessageNotification['params'][];
  updated: string[];
  errors: Error[];
}

interface Connected {
  mcp: Client;
  transport: StreamableHTTPClientTransport;
  seen: Seen;
  /** The roots the client answers `roots/list` with; tests change them and send `roots/list_changed`. */
  roots: Root[];
}

async function connectTo(url: string, headers: Record<string, string>): Promise<Connected> {
  const seen: Seen = { sampling: [], elicitations: [], rootsRequests: 0, logs: [], updated: [], errors: [] };
  const roots: Root[] = [FIRST_ROOT];
  const mcp = new Client({ name: 'server-everything-e2e', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } });
  mcp.setRequestHandler(CreateMessageRequestSchema, (request): CreateMessageResult => {
    seen.sampling.push(request.params);
    return { role: 'assistant', content: { type: 'text', text: CANNED_REPLY }, model: 'canned-model', stopReason: 'endTurn' };
  });
  mcp.setRequestHandler(ElicitRequestSchema, (request): ElicitResult => {
    seen.elicitations.push(request.params);
    return { action: 'accept', content: { ...ACCEPTED } };
  });
  mcp.setRequestHandler(ListRootsRequestSchema, () => {
    seen.rootsRequests++;
    return { roots: [...roots] };
  });
  mcp.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    seen.logs.push(notification.params);
  });
  mcp.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
    seen.updated.push(notification.params.uri);
  });
  mcp.onerror = (error) => {
    seen.errors.push(error);
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await mcp.connect(transport);
  return { mcp, transport, seen, roots };
}

let everything: RunningEverything | undefined;
let paged: ServedMcp | undefined;
let gateway: TestGateway | undefined;
let token: string;

const viaGateway = () => connectTo(gateway!.resource, { authorization: `Bearer ${token}` });
const direct = () => connectTo(everything!.url, {});

/** Runs `body` with a fresh session through the gateway and one straight to server-everything, closing both. */
async function withBoth(body: (gw: Connected, straight: Connected) => Promise<void>): Promise<void> {
  const [gw, straight] = await Promise.all([viaGateway(), direct()]);
  try {
    await body(gw, straight);
  } finally {
    await Promise.allSettled([gw.mcp.close(), straight.mcp.close()]);
  }
}

async function withGateway(body: (gw: Connected) => Promise<void>): Promise<void> {
  const gw = await viaGateway();
  try {
    await body(gw);
  } finally {
    await gw.mcp.close();
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every page of a list, following `nextCursor` the way a client must (MCP 2025-11-25 server/utilities/pagination). */
async function allPages<T>(list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(cursor);
    pages++;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages < 100);
  return { items, pages };
}

const allTools = (mcp: Client) => allPages(async (cursor) => {
  const page = await mcp.listTools(cursor === undefined ? {} : { cursor });
  return { items: page.tools, nextCursor: page.nextCursor };
});
const allResources = (mcp: Client) => allPages(async (cursor) => {
  const page = await mcp.listResources(cursor === undefined ? {} : { cursor });
  return { items: page.resources, nextCursor: page.nextCursor };
});

/** The text blocks of a tool result. */
function texts(result: object): string[] {
  return ((result as CallToolResult).content ?? []).flatMap((block) => (block.type === 'text' ? [block.text] : []));
}

beforeAll(async () => {
  [everything, paged] = await Promise.all([startEverything(), serveStreamableHttp(() => createPagedServer())]);
  gateway = await startTestGateway({
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    tenants: [
      {
        id: 'default',
        upstreams: [
          { id: 'server-everything', prefix: PREFIX, transport: 'streamable-http', url: everything.url, timeoutMs: 15_000 },
          { id: 'demo', transport: 'demo' },
          { id: 'paged', transport: 'streamable-http', url: paged.url },
        ],
      },
    ],
  });
  const client = await registerClient(gateway);
  token = (await obtainTokens(gateway, client)).access_token;
});

afterAll(async () => {
  await gateway?.close();
  await paged?.close();
  await everything?.stop();
});

// ---------------------------------------------------------------------------------------------------------------

describe('server-everything behind the gateway: tools, resources, prompts, completion', () => {
  it('lists every tool of every upstream across all pages, server-everything exactly as a direct client sees it', async () => {
    await withBoth(async (gw, straight) => {
      const { items: tools } = await allTools(gw.mcp);
      const { items: directTools, pages: directPages } = await allTools(straight.mcp);
      expect(directPages).toBe(1);
      // The tools that exist only because the client declared sampling, elicitation and roots are there too.
      expect(directTools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation', 'trigger-sampling-request', 'trigger-elicitation-request', 'get-roots-list']));
      const forwarded = tools.filter((t) => t.name.startsWith(`${PREFIX}__`));
      // Same definitions (schemas, annotations, titles, output schemas), only the name is namespaced.
      expect(forwarded).toEqual(directTools.map((t) => ({ ...t, name: tool(t.name) })));
      // The paged upstream's seven tools arrive in three pages upstream and all of them reach the client.
      expect(tools.filter((t) => t.name.startsWith('paged__')).map((t) => t.name)).toEqual(PAGED_TOOLS.map((t) => `paged__${t.name}`));
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['demo__echo', 'demo__add']));
      expect(new Set(tools.map((t) => t.name)).size).toBe(tools.length);
    });
  });

  it('calls server-everything tools with the results a direct client gets', async () => {
    await withBoth(async (gw, straight) => {
      // The SDK client validates structured content against the output schema it listed.
      await Promise.all([gw.mcp.listTools(), straight.mcp.listTools()]);
      const calls: Array<[string, Record<string, unknown>]> = [
        ['echo', { message: 'hello through the gateway' }],
        ['get-sum', { a: 2, b: 3 }],
        ['get-tiny-image', {}],
        ['get-structured-content', { location: 'Chicago' }],
        ['get-annotated-message', { messageType: 'error', includeImage: false }],
      ];
      for (const [name, args] of calls) {
        const [through, straightResult] = await Promise.all([gw.mcp.callTool({ name: tool(name), arguments: args }), straight.mcp.callTool({ name, arguments: args })]);
        expect(through, name).toEqual(straightResult);
      }
      expect(texts(await gw.mcp.callTool({ name: tool('echo'), arguments: { message: 'hi' } }))).toEqual(['Echo: hi']);
      expect(texts(await gw.mcp.callTool({ name: tool('get-sum'), arguments: { a: 2, b: 3 } }))).toEqual(['The sum of 2 and 3 is 5.']);
      expect((await gw.mcp.callTool({ name: tool('get-structured-content'), arguments: { location: 'Chicago' } })).structuredContent).toEqual({ temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 });
      // A tool's own validation error comes back as the upstream sent it.
      const invalid = await gw.mcp.callTool({ name: tool('get-sum'), arguments: { a: 'two', b: 3 } });
      const invalidDirect = await straight.mcp.callTool({ name: 'get-sum', arguments: { a: 'two', b: 3 } });
      expect(invalid.isError).toBe(true);
      expect(invalid).toEqual(invalidDirect);
      // The other upstreams answer beside it.
      expect((await gw.mcp.callTool({ name: 'demo__add', arguments: { a: 2, b: 3 } })).structuredContent).toEqual({ sum: 5 });
      expect(texts(await gw.mcp.callTool({ name: 'paged__tool-7', arguments: {} }))).toEqual(['called tool-7']);
    });
  });

  it('lists resources of every upstream across all pages and reads them through namespaced URIs', async () => {
    await withBoth(async (gw, straight) => {
      const { items: resources } = await allResources(gw.mcp);
      const { items: directResources, pages: directPages } = await allResources(straight.mcp);
      expect(directPages).toBe(1);
      expect(directResources.map((r) => r.uri)).toContain(FEATURES_DOC);
      expect(resources.filter((r) => r.uri.startsWith(`${PREFIX}+`))).toEqual(directResources.map((r) => ({ ...r, uri: uri(r.uri) })));
      // Eight resources, three pages upstream: all merged, in order.
      expect(resources.filter((r) => r.uri.startsWith('paged+')).map((r) => r.uri)).toEqual(PAGED_RESOURCES.map((r) => `paged+${r.uri}`));
      expect(resources.map((r) => r.uri)).toContain('demo+demo://notes');

      const read = await gw.mcp.readResource({ uri: uri(FEATURES_DOC) });
      const readDirect = await straight.mcp.readResource({ uri: FEATURES_DOC });
      expect(read.contents).toEqual(readDirect.contents.map((content) => ({ ...content, uri: uri(content.uri) })));
      expect((await gw.mcp.readResource({ uri: 'paged+paged://item/8' })).contents).toEqual([{ uri: 'paged+paged://item/8', mimeType: 'text/plain', text: 'content of paged://item/8' }]);

      const templates = (await gw.mcp.listResourceTemplates()).resourceTemplates;
      const directTemplates = (await straight.mcp.listResourceTemplates()).resourceTemplates;
      expect(templates.filter((t) => t.uriTemplate.startsWith(`${PREFIX}+`))).toEqual(directTemplates.map((t) => ({ ...t, uriTemplate: uri(t.uriTemplate) })));
      const text = await gw.mcp.readResource({ uri: uri('demo://resource/dynamic/text/7') });
      expect(text.contents).toEqual([{ uri: uri('demo://resource/dynamic/text/7'), mimeType: 'text/plain', text: expect.stringMatching(/^Resource 7: This is a plaintext resource created at /) }]);
      const blob = await gw.mcp.readResource({ uri: uri('demo://resource/dynamic/blob/8') });
      const [blobContent] = blob.contents;
      expect(blobContent?.uri).toBe(uri('demo://resource/dynamic/blob/8'));
      expect(Buffer.from(String((blobContent as { blob?: string }).blob), 'base64').toString('utf8')).toMatch(/^Resource 8: This is a base64 blob created at /);

      // An unknown resource is refused by the upstream and that error reaches the client.
      await expect(gw.mcp.readResource({ uri: uri('demo://resource/static/document/nope.md') })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    });
  });

  it('lists and gets prompts, with and without arguments, as a direct client does', async () => {
    await withBoth(async (gw, straight) => {
      const prompts = (await gw.mcp.listPrompts()).prompts;
      const directPrompts = (await straight.mcp.listPrompts()).prompts;
      expect(directPrompts.map((p) => p.name)).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt', 'completable-prompt', 'resource-prompt']));
      expect(prompts.filter((p) => p.name.startsWith(`${PREFIX}__`))).toEqual(directPrompts.map((p) => ({ ...p, name: tool(p.name) })));

      const simple = await gw.mcp.getPrompt({ name: tool('simple-prompt') });
      expect(simple).toEqual(await straight.mcp.getPrompt({ name: 'simple-prompt' }));
      expect(simple.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } }]);

      const args = await gw.mcp.getPrompt({ name: tool('args-prompt'), arguments: { city: 'Paris', state: 'Texas' } });
      expect(args).toEqual(await straight.mcp.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'Texas' } }));
      expect(args.messages).toEqual([{ role: 'user', content: { type: 'text', text: "What's weather in Paris, Texas?" } }]);

      // A missing required argument is the upstream's InvalidParams error, relayed.
      await expect(gw.mcp.getPrompt({ name: tool('args-prompt'), arguments: {} })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    });
  });

  it('routes completion requests for prompt arguments and resource template variables', async () => {
    await withBoth(async (gw, straight) => {
      expect(gw.mcp.getServerCapabilities()?.completions).toBeDefined();
      const department = { ref: { type: 'ref/prompt' as const, name: 'completable-prompt' }, argument: { name: 'department', value: 'Eng' } };
      const member = { ref: { type: 'ref/prompt' as const, name: 'completable-prompt' }, argument: { name: 'name', value: '' }, context: { arguments: { department: 'Sales' } } };
      const template = { ref: { type: 'ref/resource' as const, uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '12' } };

      const viaDepartment = await gw.mcp.complete({ ...department, ref: { ...department.ref, name: tool('completable-prompt') } });
      expect(viaDepartment.completion.values).toEqual(['Engineering']);
      expect(viaDepartment).toEqual(await straight.mcp.complete(department));

      const viaMember = await gw.mcp.complete({ ...member, ref: { ...member.ref, name: tool('completable-prompt') } });
      expect(viaMember.completion.values).toEqual(['David', 'Eve', 'Frank']);
      expect(viaMember).toEqual(await straight.mcp.complete(member));

      const viaTemplate = await gw.mcp.complete({ ...template, ref: { ...template.ref, uri: uri(template.ref.uri) } });
      expect(viaTemplate.completion.values).toEqual(['12']);
      expect(viaTemplate).toEqual(await straight.mcp.complete(template));
    });
  });

  it('namespaces resource links in tool results so the client can read them back through the gateway', async () => {
    await withGateway(async (gw) => {
      const result = await gw.mcp.callTool({ name: tool('get-resource-links'), arguments: { count: 2 } });
      const links = (result.content as CallToolResult['content']).flatMap((block) => (block.type === 'resource_link' ? [block.uri] : []));
      expect(links).toEqual([uri('demo://resource/dynamic/blob/1'), uri('demo://resource/dynamic/text/2')]);
      for (const link of links) expect((await gw.mcp.readResource({ uri: link })).contents[0]?.uri).toBe(link);
    });
  });

  it('namespaces resources embedded in prompt messages so they round-trip', async () => {
    await withGateway(async (gw) => {
      const prompt = await gw.mcp.getPrompt({ name: tool('resource-prompt'), arguments: { resourceType: 'Text', resourceId: '3' } });
      const embedded = prompt.messages.flatMap((message) => (message.content.type === 'resource' ? [message.content.resource.uri] : []));
      expect(embedded).toEqual([uri('demo://resource/dynamic/text/3')]);
      expect((await gw.mcp.readResource({ uri: embedded[0]! })).contents[0]?.uri).toBe(embedded[0]);
    });
  });
});

describe('server-initiated traffic through the gateway', () => {
  it('relays progress notifications of a long-running tool to the caller', async () => {
    await withBoth(async (gw, straight) => {
      const progress: Progress[] = [];
      const directProgress: Progress[] = [];
      const args = { duration: 1, steps: 4 };
      const [result, directResult] = await Promise.all([
        gw.mcp.callTool({ name: tool('trigger-long-running-operation'), arguments: args }, undefined, { onprogress: (p) => void progress.push(p), timeout: 10_000 }),
        straight.mcp.callTool({ name: 'trigger-long-running-operation', arguments: args }, undefined, { onprogress: (p) => void directProgress.push(p), timeout: 10_000 }),
      ]);
      expect(directProgress).toEqual([1, 2, 3, 4].map((step) => ({ progress: step, total: 4 })));
      expect(progress).toEqual(directProgress);
      expect(texts(result)).toEqual(['Long running operation completed. Duration: 1 seconds, Steps: 4.']);
      expect(result).toEqual(directResult);
      expect(gw.seen.errors).toEqual([]);
    });
  });

  it('routes a sampling request from server-everything to the calling client and its answer back', async () => {
    await withBoth(async (gw, straight) => {
      const args = { prompt: 'Say something canned', maxTokens: 64 };
      const result = await gw.mcp.callTool({ name: tool('trigger-sampling-request'), arguments: args });
      const directResult = await straight.mcp.callTool({ name: 'trigger-sampling-request', arguments: args });
      // The client's handler got the request exactly as server-everything sent it.
      expect(gw.seen.sampling).toHaveLength(1);
      expect(gw.seen.sampling[0]).toMatchObject({
        messages: [{ role: 'user', content: { type: 'text', text: 'Resource trigger-sampling-request context: Say something canned' } }],
        systemPrompt: 'You are a helpful test server.',
        maxTokens: 64,
        temperature: 0.7,
      });
      expect(gw.seen.sampling).toEqual(straight.seen.sampling);
      // And the tool result carries the client's canned completion.
      expect(result.isError).toBeFalsy();
      expect(texts(result).join('\n')).toContain(CANNED_REPLY);
      expect(result).toEqual(directResult);
    });
  });

  it('routes an elicitation request to the calling client and the accepted content back', async () => {
    await withBoth(async (gw, straight) => {
      const result = await gw.mcp.callTool({ name: tool('trigger-elicitation-request'), arguments: {} });
      const directResult = await straight.mcp.callTool({ name: 'trigger-elicitation-request', arguments: {} });
      expect(gw.seen.elicitations).toHaveLength(1);
      expect(gw.seen.elicitations[0]).toMatchObject({ message: 'Please provide inputs for the following fields:', requestedSchema: { type: 'object', required: ['name'] } });
      expect(gw.seen.elicitations).toEqual(straight.seen.elicitations);
      const text = texts(result).join('\n');
      expect(text).toContain('✅ User provided the requested information!');
      for (const line of ['- Name: Ada Lovelace', '- Agreed to terms: true', '- Email: ada@example.com', '- Favorite Integer: 7', '- Favorite Number: 2.5']) expect(text).toContain(line);
      expect(result).toEqual(directResult);
    });
  });

  it('answers server-everything’s roots/list with the client’s roots', async () => {
    await withBoth(async (gw, straight) => {
      // server-everything asks for the roots on its own 350 ms after initialization (on the GET stream: no request is
      // in flight then), and from get-roots-list if it has none yet. Either way only this client can answer.
      const result = await gw.mcp.callTool({ name: tool('get-roots-list'), arguments: {} });
      const text = texts(result).join('\n');
      expect(text).toContain('Current MCP Roots (1 total):');
      expect(text).toContain(`1. ${FIRST_ROOT.name}\n   URI: ${FIRST_ROOT.uri}`);
      expect(gw.seen.rootsRequests).toBeGreaterThanOrEqual(1);
      expect(result).toEqual(await straight.mcp.callTool({ name: 'get-roots-list', arguments: {} }));
      // It confirms with a log message, which the gateway relays too.
      await waitFor('server-everything to log the roots it received', () => gw.seen.logs.some((log) => log.data === 'Roots updated: 1 root(s) received from client'));
    });
  });

  it('passes the client’s roots/list_changed on, so server-everything fetches the new roots', async () => {
    await withBoth(async (gw, straight) => {
      // What a direct client sees: server-everything asks again and logs the new count.
      for (const connected of [straight, gw]) {
        const where = connected === gw ? 'through the gateway' : 'directly';
        // get-roots-list makes sure server-everything has the first roots (and listens for changes) before they change.
        expect(texts(await connected.mcp.callTool({ name: connected === gw ? tool('get-roots-list') : 'get-roots-list', arguments: {} })).join('\n')).toContain('Current MCP Roots (1 total):');
        connected.roots.push(SECOND_ROOT);
        const before = connected.seen.rootsRequests;
        await connected.mcp.sendRootsListChanged();
        await waitFor(`server-everything to ask for the roots again (${where})`, () => connected.seen.rootsRequests > before);
        await waitFor(`server-everything to log the new roots (${where})`, () => connected.seen.logs.some((log) => log.data === 'Roots updated: 2 root(s) received from client'));
      }
      const text = texts(await gw.mcp.callTool({ name: tool('get-roots-list'), arguments: {} })).join('\n');
      expect(text).toContain('Current MCP Roots (2 total):');
      expect(text).toContain(`2. ${SECOND_ROOT.name}\n   URI: ${SECOND_ROOT.uri}`);
    });
  });

  it('routes logging/setLevel to server-everything and relays its log messages at that level', async () => {
    await withGateway(async (gw) => {
      expect(gw.mcp.getServerCapabilities()?.logging).toBeDefined();
      // Subscribing makes server-everything log at "info". At "emergency" that message is filtered upstream; at
      // "info" it arrives. Both travel on the same ordered upstream stream, so once the second has arrived, the
      // first would have too.
      await gw.mcp.setLoggingLevel('emergency');
      await gw.mcp.subscribeResource({ uri: uri(STARTUP_DOC) });
      await gw.mcp.setLoggingLevel('info');
      await gw.mcp.subscribeResource({ uri: uri(FEATURES_DOC) });
      await waitFor('the info-level log of the second subscription', () => gw.seen.logs.some((log) => String(log.data).includes(`for URI: ${FEATURES_DOC}`)));
      expect(gw.seen.logs.filter((log) => String(log.data).includes(STARTUP_DOC))).toEqual([]);
      expect(gw.seen.logs.find((log) => String(log.data).includes(FEATURES_DOC))).toMatchObject({ level: 'info' });

      // Simulated logging sends one message at once (then one every 5 s until toggled off).
      await gw.mcp.setLoggingLevel('debug');
      const started = texts(await gw.mcp.callTool({ name: tool('toggle-simulated-logging'), arguments: {} })).join('');
      expect(started).toMatch(/^Started simulated, random-leveled logging for session /);
      try {
        await waitFor('a simulated log message', () => gw.seen.logs.some((log) => /level[- ]message - SessionId /.test(String(log.data))));
      } finally {
        expect(texts(await gw.mcp.callTool({ name: tool('toggle-simulated-logging'), arguments: {} })).join('')).toMatch(/^Stopped simulated logging/);
      }
      await gw.mcp.unsubscribeResource({ uri: uri(STARTUP_DOC) });
      await gw.mcp.unsubscribeResource({ uri: uri(FEATURES_DOC) });
    });
  });

  it('routes resource subscriptions and relays notifications/resources/updated with the namespaced URI', async () => {
    await withBoth(async (gw, straight) => {
      expect(gw.mcp.getServerCapabilities()?.resources?.subscribe).toBe(true);
      await gw.mcp.subscribeResource({ uri: uri(FEATURES_DOC) });
      await straight.mcp.subscribeResource({ uri: FEATURES_DOC });
      // Toggling simulated updates on sends one notifications/resources/updated per subscribed URI at once.
      const toggles = [gw.mcp.callTool({ name: tool('toggle-subscriber-updates'), arguments: {} }), straight.mcp.callTool({ name: 'toggle-subscriber-updates', arguments: {} })];
      for (const toggled of await Promise.all(toggles)) expect(texts(toggled).join('')).toMatch(/^Started simulated resource updated notifications/);
      try {
        await waitFor('notifications/resources/updated through the gateway', () => gw.seen.updated.length > 0);
        await waitFor('notifications/resources/updated on the direct connection', () => straight.seen.updated.length > 0);
        expect(straight.seen.updated[0]).toBe(FEATURES_DOC);
        expect(gw.seen.updated[0]).toBe(uri(FEATURES_DOC));
        // The URI in the notification is one the client can read through the gateway.
        expect((await gw.mcp.readResource({ uri: gw.seen.updated[0]! })).contents[0]?.uri).toBe(uri(FEATURES_DOC));
      } finally {
        await gw.mcp.callTool({ name: tool('toggle-subscriber-updates'), arguments: {} });
        await straight.mcp.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      }
      await gw.mcp.unsubscribeResource({ uri: uri(FEATURES_DOC) });
      expect(new Set(gw.seen.updated)).toEqual(new Set([uri(FEATURES_DOC)]));
    });
  });

  it('cancels a long-running call when the client aborts it, and keeps serving the session', async () => {
    await withGateway(async (gw) => {
      const controller = new AbortController();
      const progress: Progress[] = [];
      const started = Date.now();
      // Two seconds in four steps; the client gives up after the first progress notification.
      const call = gw.mcp.callTool({ name: tool('trigger-long-running-operation'), arguments: { duration: 2, steps: 4 } }, undefined, {
        signal: controller.signal,
        timeout: 10_000,
        onprogress: (p) => {
          progress.push(p);
          controller.abort('the user pressed stop');
        },
      });
      await expect(call).rejects.toMatchObject({ code: ErrorCode.RequestTimeout, message: 'MCP error -32001: the user pressed stop' });
      expect(progress).toEqual([{ progress: 1, total: 4 }]);
      // Wait past the moment server-everything would have finished: nothing more of the cancelled call may reach
      // the client (a late progress notification or result would surface as an error about an unknown id).
      await sleep(Math.max(0, started + 2_600 - Date.now()));
      expect(progress).toHaveLength(1);
      expect(gw.seen.errors).toEqual([]);
      // The upstream is told too (notifications/cancelled with the client's reason): the fixture's handler is aborted.
      const stop = new AbortController();
      const startedBefore = waits.started;
      const waiting = gw.mcp.callTool({ name: 'paged__wait', arguments: {} }, undefined, { signal: stop.signal, timeout: 10_000 });
      await waitFor('the upstream to start the call', () => waits.started > startedBefore);
      stop.abort('no longer needed');
      await expect(waiting).rejects.toMatchObject({ code: ErrorCode.RequestTimeout, message: 'MCP error -32001: no longer needed' });
      await waitFor('the upstream to see the cancellation', () => waits.cancelled.includes('no longer needed'));

      // The session, and the upstream session behind it, keep working.
      expect(texts(await gw.mcp.callTool({ name: tool('echo'), arguments: { message: 'still here' } }))).toEqual(['Echo: still here']);
      const again: Progress[] = [];
      await gw.mcp.callTool({ name: tool('trigger-long-running-operation'), arguments: { duration: 0.4, steps: 2 } }, undefined, { onprogress: (p) => void again.push(p), timeout: 10_000 });
      expect(again).toEqual([{ progress: 1, total: 2 }, { progress: 2, total: 2 }]);
    });
  });

  it('keeps concurrent sessions apart: each client gets only its own sampling requests and notifications', async () => {
    const [first, second] = await Promise.all([viaGateway(), viaGateway()]);
    try {
      await Promise.all([
        first.mcp.callTool({ name: tool('trigger-sampling-request'), arguments: { prompt: 'first', maxTokens: 8 } }),
        second.mcp.callTool({ name: tool('trigger-elicitation-request'), arguments: {} }),
      ]);
      expect(first.seen.sampling.map((request) => request.messages[0]?.content)).toEqual([{ type: 'text', text: 'Resource trigger-sampling-request context: first' }]);
      expect(first.seen.elicitations).toEqual([]);
      expect(second.seen.sampling).toEqual([]);
      expect(second.seen.elicitations).toHaveLength(1);
    } finally {
      await Promise.allSettled([first.mcp.close(), second.mcp.close()]);
    }
  });

  it('ends the upstream session at server-everything when the client ends its session', async () => {
    const gw = await viaGateway();
    try {
      const on = texts(await gw.mcp.callTool({ name: tool('toggle-simulated-logging'), arguments: {} })).join('');
      const upstreamSession = /for session ([0-9a-f-]{36})/.exec(on)?.[1];
      expect(upstreamSession).toBeDefined();
      await gw.mcp.callTool({ name: tool('toggle-simulated-logging'), arguments: {} });
      await gw.transport.terminateSession();
      // server-everything prints this when it receives the DELETE that ends a session (MCP transports §session management).
      await waitFor('server-everything to see its session ended', () => everything!.output().includes(`Received session termination request for session ${upstreamSession}`), 5_000);
    } finally {
      await gw.mcp.close();
    }
  });
});
