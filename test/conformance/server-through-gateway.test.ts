import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { createConformanceServer, JSON_SCHEMA_2020_12 } from '../fixtures/conformance-server.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import {
  ConformanceRunner,
  detailsOf,
  expectScenario,
  type Check,
  FIXTURE_PROMPTS,
  FIXTURE_RESOURCE_TEMPLATES,
  FIXTURE_RESOURCES,
  FIXTURE_TOOLS,
  readExpectedFailures,
  readResults,
  SCENARIOS,
  SUITE_TIMEOUT,
} from '../helpers/conformance.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { Exit } from '../helpers/node22.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// The official MCP conformance suite's `server` command (@modelcontextprotocol/conformance 0.2.0-alpha.12, on Node
// 22) run *through* the gateway: every 2025-11-25 server scenario, pending ones included, against the default
// tenant's /mcp, whose one upstream is the conformance fixture (test/fixtures/conformance-server.ts) over Streamable
// HTTP. The tenant configures that upstream without a prefix (`prefix: ''`, allowed only for a tenant's single
// upstream), so the suite finds `test_simple_text` and `test://static-text` under their own names.
//
// The suite cannot send a bearer token, and the gateway has no unauthenticated mode: the suite talks to a small
// loopback forwarder that relays every request as it is (method, path, headers but Host, streamed body) to the
// gateway with a token the test obtained through the gateway's own authorization code flow, and streams the answer
// back (SSE included). The forwarder changes nothing else: no name, no URI, no Origin.

const EXPECTED_FAILURES = fileURLToPath(new URL('./server-through-gateway-expected-failures.json', import.meta.url));

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), and Host, which names the forwarder. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** One request the forwarder relayed, and what the gateway answered. */
interface Relayed {
  method: string;
  path: string;
  /** Whether the request came with an Authorization header of its own (the forwarder replaces it). */
  hadAuthorization: boolean;
  /** The gateway's status code; undefined while no answer came (or none ever did). */
  status: number | undefined;
}

interface Forwarder {
  /** The MCP endpoint the suite is given: `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** `http://127.0.0.1:<port>`, the Origin a browser-like client of the forwarder sends. */
  origin: string;
  readonly relayed: readonly Relayed[];
  /** Where to relay (the gateway's origin) and the token to add. Requests before this get 503. */
  target(gatewayResource: string, accessToken: string): void;
  close(): Promise<void>;
}

/**
 * A reverse proxy on a free loopback port that adds `Authorization: Bearer <token>` and nothing else. Paths are kept,
 * so `<forwarder>/mcp` is the gateway's `/mcp`. Answers are streamed back as they arrive, and a client that goes away
 * ends the relayed request too, so the gateway sees every SSE stream close when the suite closes it.
 */
async function startForwarder(): Promise<Forwarder> {
  let gateway: URL | undefined;
  let token = '';
  const relayed: Relayed[] = [];
  const agent = new Agent({ keepAlive: false });
  const listener = createServer((req, res) => {
    const record: Relayed = { method: req.method ?? '', path: req.url ?? '', hadAuthorization: req.headers.authorization !== undefined, status: undefined };
    relayed.push(record);
    if (gateway === undefined) {
      res.writeHead(503).end();
      return;
    }
    const headers: OutgoingHttpHeaders = withoutHopByHop(req.headers);
    headers['authorization'] = `Bearer ${token}`;
    const outgoing = httpRequest(new URL(req.url ?? '/', gateway.origin), { method: req.method, headers, agent });
    outgoing.on('response', (answer) => {
      record.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
      // SSE: the headers go out now, not with the first event, so a GET stream opens at once.
      res.flushHeaders();
      answer.on('error', () => res.destroy());
      answer.pipe(res);
    });
    outgoing.on('error', () => {
      if (res.headersSent) return res.destroy();
      record.status = 502;
      res.writeHead(502).end();
    });
    res.on('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  return {
    url: `${origin}/mcp`,
    origin,
    relayed,
    target(gatewayResource, accessToken) {
      gateway = new URL(gatewayResource);
      token = accessToken;
    },
    async close() {
      listener.closeAllConnections();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      agent.destroy();
    },
  };
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

let upstream: ServedMcp;
let forwarder: Forwarder;
let gateway: TestGateway;
let token: string;
let scratch: string;
let conformance: ConformanceRunner;
const clients = new Set<Client>();

beforeAll(async () => {
  [upstream, forwarder, scratch] = await Promise.all([
    serveStreamableHttp(createConformanceServer),
    startForwarder(),
    mkdtemp(join(tmpdir(), 'portcullis-conformance-gateway-')),
  ]);
  conformance = new ConformanceRunner(scratch);
  gateway = await startTestGateway({
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    tenants: [
      {
        id: 'default',
        name: 'Default tenant',
        // The suite's dns-rebinding-protection scenario sends the Origin of the URL it was given (the forwarder's)
        // and expects it accepted, and a foreign one refused.
        allowedOrigins: [forwarder.origin],
        upstreams: [{ id: 'conformance', prefix: '', transport: 'streamable-http', url: upstream.url }],
      },
    ],
  });
  token = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
  forwarder.target(gateway.resource, token);
});

afterAll(async () => {
  await conformance?.killAll();
  await Promise.all([...clients].map((client) => client.close()));
  await gateway?.close();
  await forwarder?.close();
  await upstream?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'through-gateway-test', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  clients.add(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } });
const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('the loopback forwarder', () => {
  it('is what authenticates the suite: the gateway itself refuses the same request without a token', async () => {
    const direct = await fetch(gateway.resource, { method: 'POST', headers: POST_HEADERS, body: INITIALIZE });
    expect(direct.status).toBe(401);
    expect(direct.headers.get('www-authenticate')).toContain(`resource_metadata="${gateway.baseUrl}/.well-known/oauth-protected-resource/mcp"`);
    await direct.body?.cancel();

    const relayed = await fetch(forwarder.url, { method: 'POST', headers: POST_HEADERS, body: INITIALIZE });
    expect(relayed.status).toBe(200);
    expect(relayed.headers.get('mcp-session-id')).toMatch(/^[\w-]{20,}$/);
    expect(relayed.headers.get('content-type')).toBe('text/event-stream');
    expect(await relayed.text()).toContain('"serverInfo":{"name":"portcullis"');
  });
});

describe('what the suite calls exists through the gateway', () => {
  // The suite can report success on a tool that does not exist (a tool error with text content satisfies some
  // scenarios; see test/fixtures/conformance-server.test.ts), so the names are checked with a client of our own,
  // through the same forwarder.
  it('lists exactly the fixture’s tools, resources, templates and prompts, under their own names', async () => {
    const client = await connect(forwarder.url);
    expect(client.getServerVersion()).toEqual({ name: 'portcullis', version: '0.1.0' });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(FIXTURE_TOOLS);
    expect((await client.listResources()).resources.map((resource) => resource.uri)).toEqual(FIXTURE_RESOURCES);
    expect((await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate)).toEqual(FIXTURE_RESOURCE_TEMPLATES);
    expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(FIXTURE_PROMPTS);
    expect(client.getServerCapabilities()).toEqual({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      logging: {},
      completions: {},
    });
    const { tools } = await client.listTools();
    expect(tools.find((tool) => tool.name === 'json_schema_2020_12_tool')?.inputSchema).toEqual(JSON_SCHEMA_2020_12);
  });

  it('calls them, reads them and gets them with the upstream’s exact answers, and refuses a name the upstream lacks', async () => {
    const client = await connect(gateway.resource, { authorization: `Bearer ${token}` });
    expect(await client.callTool({ name: 'test_simple_text' })).toEqual({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] });
    expect((await client.readResource({ uri: 'test://static-text' })).contents).toEqual([
      { uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
    ]);
    expect((await client.readResource({ uri: 'test://template/42/data' })).contents).toEqual([
      { uri: 'test://template/42/data', mimeType: 'application/json', text: '{"id":"42","templateTest":true,"data":"Data for ID: 42"}' },
    ]);
    expect((await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'hello', arg2: 'world' } })).messages).toEqual([
      { role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='hello', arg2='world'" } },
    ]);
    // A missing tool is a JSON-RPC error through the gateway, never a result a scenario could mistake for success.
    const missing = await client.callTool({ name: 'test_nothing' }).then(
      () => expect.fail('expected a JSON-RPC error'),
      (error: unknown) => error as McpError,
    );
    expect(missing).toBeInstanceOf(McpError);
    expect(missing).toMatchObject({ code: ErrorCode.InvalidParams });
    expect(missing.message.endsWith('Unknown tool: test_nothing')).toBe(true);
  });
});

describe('the official MCP conformance suite (server command) through the gateway', () => {
  let failing: ReadonlySet<string>;
  let run: { exit: Exit; results: Record<string, Check[]>; stdout: string; relayed: readonly Relayed[] };

  // One run of every 2025-11-25 server scenario, pending ones included; the tests below read its results.
  beforeAll(async () => {
    failing = await readExpectedFailures(EXPECTED_FAILURES);
    const before = forwarder.relayed.length;
    const { exit, outputDir, suite } = await conformance.runServerSuite(forwarder.url, ['--suite', 'all', '--spec-version', '2025-11-25']);
    run = { exit, results: await readResults(outputDir), stdout: suite.stdout(), relayed: forwarder.relayed.slice(before) };
  }, SUITE_TIMEOUT);

  it('ran exactly the 2025-11-25 scenarios, and by the suite’s own count none failed', () => {
    expect(Object.keys(run.results).sort()).toEqual(Object.keys(SCENARIOS).sort());
    expect(run.stdout).toContain(`Running all suite (${Object.keys(SCENARIOS).length} scenarios) against ${forwarder.url}`);
    // The suite fails a run on FAILURE checks only; an expected failure would be a check that stayed INFO or WARNING.
    expect(run.stdout).toMatch(/\nTotal: \d+ passed, 0 failed\n/);
    expect(run.exit).toEqual({ code: 0, signal: null });
  });

  it.each(Object.keys(SCENARIOS))('%s passes every check, or is a listed expected failure', (scenario) => {
    expectScenario(scenario, run.results[scenario], failing.has(scenario));
  });

  it('relayed what the upstream sent: logs, progress, sampling, content', () => {
    expect(detailsOf(run.results['tools-call-with-logging'], 'tools-call-with-logging')).toMatchObject({
      logCount: 3,
      logs: [
        { level: 'info', data: 'Tool execution started' },
        { level: 'info', data: 'Tool processing data' },
        { level: 'info', data: 'Tool execution completed' },
      ],
    });
    expect(detailsOf(run.results['tools-call-with-progress'], 'tools-call-with-progress')).toMatchObject({ progressCount: 3 });
    expect(detailsOf(run.results['tools-call-sampling'], 'tools-call-sampling')).toMatchObject({
      samplingRequested: true,
      result: { content: [{ type: 'text', text: 'LLM response: This is a test response from the client' }] },
    });
    expect(detailsOf(run.results['tools-call-simple-text'], 'tools-call-simple-text')).toMatchObject({
      result: { content: [{ type: 'text', text: 'This is a simple text response for testing.' }] },
    });
    expect(detailsOf(run.results['dns-rebinding-protection'], 'localhost-host-rebinding-rejected')).toMatchObject({ hostHeader: 'evil.example.com', statusCode: 403 });
  });

  it('server-sse-polling: an upstream that closes its stream mid-call has the gateway close the client’s too', () => {
    // test_reconnection closes the upstream's stream mid-call (SEP-1699). The gateway's upstream client resumes it with
    // Last-Event-ID, and the gateway closes the suite's stream of the same call, so the suite resumes in turn and
    // gets the result from the gateway's event store.
    const polling = run.results['server-sse-polling'] ?? [];
    expect(polling.filter((check) => check.id.startsWith('server-sse-')).map((check) => [check.id, check.status])).toEqual([
      ['server-sse-priming-event', 'SUCCESS'],
      ['server-sse-retry-field', 'SUCCESS'],
      ['server-sse-disconnect-resume', 'SUCCESS'],
    ]);
    expect(detailsOf(polling, 'server-sse-disconnect-resume')).toMatchObject({ receivedToolResponse: true });
    expect(upstream.requests.some((request) => request.method === 'GET' && typeof request.headers['last-event-id'] === 'string')).toBe(true);
  });

  it('went through the forwarder’s token only: the suite sent none, the gateway refused none, the upstream saw none', () => {
    expect(run.relayed.length).toBeGreaterThan(100);
    expect(new Set(run.relayed.map((request) => request.path))).toEqual(new Set(['/mcp']));
    expect(run.relayed.filter((request) => request.hadAuthorization)).toEqual([]);
    // The gateway's only refusals are protocol answers (the foreign Origin's 403, the ended session's 404).
    expect(run.relayed.filter((request) => request.status === 401 || request.status === 502)).toEqual([]);
    expect(upstream.requests.filter((request) => request.headers.authorization !== undefined)).toEqual([]);
  });
});

describe('an unprefixed upstream', () => {
  it('is refused in a tenant with several upstreams, where its names could be mistaken for another’s', () => {
    const parse = () =>
      parseConfig({
        tenants: [
          {
            id: 'default',
            upstreams: [
              { id: 'first', prefix: '', transport: 'demo' },
              { id: 'second', transport: 'demo' },
            ],
          },
        ],
      });
    expect(parse).toThrow(ConfigError);
    expect(() => parse()).toThrow(/tenants\.0\.upstreams\.0\.prefix: may be empty only when the tenant has a single upstream/);
  });
});
