import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConformanceServer } from '../fixtures/conformance-server.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { spawnGateway, type GatewayProcess } from '../helpers/gateway.js';
import { obtainTokens, registerClient, type GatewayUrls } from '../helpers/oauth.js';
import { startReplicas, type Replicas } from '../helpers/replicas.js';
import { readEvents } from '../helpers/sse.js';

// Two gateway processes on one Redis behind a "load balancer" without sticky sessions: the test's fetch sends each
// request to whichever replica it likes, and everything an MCP session does must work wherever a request lands.
let replicas: Replicas;
let conformance: ServedMcp;
let control: ServedMcp;
let a: GatewayProcess;
let b: GatewayProcess;
let urls: GatewayUrls;
let token: string;

/** What the control upstream saw: calls of `wait` that were cancelled. */
const cancelled: string[] = [];
let started: (() => void) | undefined;
const controlServers: McpServer[] = [];

/** An upstream whose tools let the test cancel a call and make the upstream announce a changed tool list. */
function createControlServer(): McpServer {
  const server = new McpServer({ name: 'control', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  server.registerTool('wait', { description: 'Waits until cancelled' }, async (extra) => {
    started?.();
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
    cancelled.push(String(extra.requestId));
    return { content: [{ type: 'text', text: 'cancelled' }] };
  });
  server.registerTool('announce', { description: 'Tells its client that the tool list changed' }, async () => {
    server.sendToolListChanged();
    return { content: [{ type: 'text', text: 'announced' }] };
  });
  controlServers.push(server);
  return server;
}

beforeAll(async () => {
  conformance = await serveStreamableHttp(() => createConformanceServer());
  control = await serveStreamableHttp(() => createControlServer());
  replicas = await startReplicas({
    tenants: [
      {
        id: 'default',
        upstreams: [
          { id: 'conf', transport: 'streamable-http', url: conformance.url },
          { id: 'control', transport: 'streamable-http', url: control.url },
        ],
      },
    ],
  });
  ({ a, b, urls } = replicas);
  token = (await obtainTokens(urls, await registerClient(urls), { resource: urls.resource })).access_token;
}, 60_000);

afterAll(async () => {
  await replicas?.close();
  await Promise.all([conformance?.close(), control?.close()]);
});

/** Requests per replica and method, in the order they were sent, with the status once answered. */
interface Balancer {
  fetch: typeof fetch;
  landed: Array<{ replica: 'a' | 'b'; method: string; status?: number }>;
}

/**
 * Sends POSTs and DELETEs to the replicas in turn and every GET (the server-to-client stream, and resumptions) to
 * `getTo`, so a test can put the stream on the replica that does not hold the session.
 */
function roundRobin(getTo: 'a' | 'b'): Balancer {
  const landed: Balancer['landed'] = [];
  let turn = 0;
  const balanced = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? 'GET';
    const replica = method === 'GET' ? getTo : turn++ % 2 === 0 ? 'a' : 'b';
    const entry: Balancer['landed'][number] = { replica, method };
    landed.push(entry);
    const url = new URL(input instanceof Request ? input.url : input);
    const response = await fetch(new URL(url.pathname + url.search, replica === 'a' ? a.url : b.url), init);
    entry.status = response.status;
    return response;
  };
  return { fetch: balanced as typeof fetch, landed };
}

async function connect(balancer: Balancer, accessToken = token): Promise<{ mcp: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(urls.resource), { fetch: balancer.fetch, requestInit: { headers: { authorization: `Bearer ${accessToken}` } } });
  const mcp = new Client({ name: 'replica-test', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
  mcp.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const prompt = request.params.messages[0]?.content;
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `echo of ${prompt && 'text' in prompt ? prompt.text : '?'}` } };
  });
  mcp.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }));
  await mcp.connect(transport);
  return { mcp, transport };
}

describe('one MCP session, two gateway processes, requests alternating between them', () => {
  it('lists and calls tools, with progress, sampling and elicitation, whichever replica each request reaches', async () => {
    const balancer = roundRobin('b');
    const { mcp } = await connect(balancer);
    try {
      const tools = (await mcp.listTools()).tools.map((tool) => tool.name);
      expect(tools).toEqual(expect.arrayContaining(['conf__test_tool_with_progress', 'conf__test_sampling', 'conf__test_elicitation', 'control__wait']));

      for (let round = 0; round < 2; round++) {
        const progress: number[] = [];
        const result = await mcp.callTool({ name: 'conf__test_tool_with_progress', arguments: {} }, undefined, { onprogress: (update) => progress.push(update.progress) });
        expect(result.content).toEqual([{ type: 'text', text: 'Tool with progress executed successfully' }]);
        expect(progress).toEqual([0, 50, 100]);

        const sampled = await mcp.callTool({ name: 'conf__test_sampling', arguments: { prompt: `round ${round}` } });
        expect(sampled.content).toEqual([{ type: 'text', text: `LLM response: echo of round ${round}` }]);

        const elicited = await mcp.callTool({ name: 'conf__test_elicitation', arguments: { message: 'Who are you?' } });
        expect(elicited.content).toEqual([{ type: 'text', text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}' }]);
      }
      // Both replicas really took part: the POSTs alternated, and the sampling and elicitation answers were POSTed too.
      const posts = balancer.landed.filter((request) => request.method === 'POST');
      expect(posts.filter((request) => request.replica === 'a').length).toBeGreaterThanOrEqual(6);
      expect(posts.filter((request) => request.replica === 'b').length).toBeGreaterThanOrEqual(6);
    } finally {
      await mcp.close();
    }
  });

  it('delivers upstream notifications on a GET stream held open by the replica that does not own the session', async () => {
    // The initialize POST is the first request, so replica a owns the session, and every GET goes to b.
    const balancer = roundRobin('b');
    const { mcp } = await connect(balancer);
    try {
      const changed = new Promise<void>((resolve) => mcp.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
      await expect.poll(() => balancer.landed.some((request) => request.method === 'GET')).toBe(true);
      const announced = await mcp.callTool({ name: 'control__announce', arguments: {} });
      expect(announced.content).toEqual([{ type: 'text', text: 'announced' }]);
      await changed;
    } finally {
      await mcp.close();
    }
  });

  it('cancels an upstream call when the cancellation reaches the other replica', async () => {
    const balancer = roundRobin('a');
    const { mcp } = await connect(balancer);
    try {
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const abort = new AbortController();
      const call = mcp.callTool({ name: 'control__wait', arguments: {} }, undefined, { signal: abort.signal });
      await running;
      const before = cancelled.length;
      const sentBy = balancer.landed.at(-1)!.replica;
      abort.abort('the user gave up');
      await expect(call).rejects.toThrow();
      await expect.poll(() => cancelled.length).toBe(before + 1);
      const cancellation = balancer.landed.at(-1)!;
      expect(cancellation.method).toBe('POST');
      expect(cancellation.replica).not.toBe(sentBy);
    } finally {
      await mcp.close();
    }
  });

  it('resumes a stream cut on one replica from the other with Last-Event-ID, getting exactly the missed events', async () => {
    const balancer = roundRobin('a');
    const { mcp, transport } = await connect(balancer);
    try {
      const headers = {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': transport.sessionId!,
        'mcp-protocol-version': transport.protocolVersion ?? '2025-11-25',
      };
      // The call goes to b, which relays it to a; the client reads the first events and drops the connection.
      const call = await fetch(`${b.url}/mcp`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 'p1', method: 'tools/call', params: { name: 'conf__test_tool_with_progress', arguments: {}, _meta: { progressToken: 'tok' } } }),
      });
      expect(call.status).toBe(200);
      const seen = await readEvents(call, (events) => events.length === 1);
      expect(JSON.parse(seen[0]!.data)).toMatchObject({ method: 'notifications/progress', params: { progress: 0 } });
      const lastId = seen[0]!.id!;

      // The rest of the call happens while no one listens; then the client resumes on a. Until the owner has seen the
      // cut relayed from b it still counts the stream as open and answers 409; a client waits the stream's retry
      // interval (1 s) before resuming, this one tries again every 100 ms.
      const resume = () => fetch(`${a.url}/mcp`, { method: 'GET', headers: { ...headers, 'last-event-id': lastId } });
      let resumed = await resume();
      for (let attempt = 0; resumed.status === 409 && attempt < 20; attempt++) {
        await resumed.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 100));
        resumed = await resume();
      }
      expect(resumed.status).toBe(200);
      const missed = await readEvents(resumed, (events) => events.some((event) => JSON.parse(event.data).id === 'p1'));
      const messages = missed.map((event) => JSON.parse(event.data) as { params?: { progress?: number }; id?: string });
      expect(messages.map((message) => message.params?.progress ?? message.id)).toEqual([50, 100, 'p1']);
      expect(missed.at(-1)!.data).toContain('Tool with progress executed successfully');
      expect(new Set(missed.map((event) => event.id)).size).toBe(missed.length);
    } finally {
      await mcp.close();
    }
  });

  it('refuses the session id with another client’s token on the replica that does not hold it', async () => {
    const { mcp, transport } = await connect(roundRobin('a'));
    try {
      const other = (await obtainTokens(urls, await registerClient(urls), { resource: urls.resource })).access_token;
      for (const replica of [a, b]) {
        const response = await fetch(`${replica.url}/mcp`, {
          method: 'POST',
          headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        expect(response.status).toBe(404);
      }
      expect((await mcp.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await mcp.close();
    }
  });

  it('ends the session, and its upstream sessions, when DELETE reaches the replica that does not hold it', async () => {
    const balancer = roundRobin('a');
    const { mcp, transport } = await connect(balancer);
    const sessionId = transport.sessionId!;
    // The next POST is b's turn, so is the DELETE when the client makes one request first: a listing, which opens
    // the session's upstream sessions.
    await mcp.listTools();
    const upstreamSessions = control.sessions();
    expect(balancer.landed.at(-1)!.replica).toBe('a');
    await transport.terminateSession();
    expect(balancer.landed.at(-1)).toEqual({ replica: 'b', method: 'DELETE', status: 200 });
    await expect.poll(() => control.sessions()).toBe(upstreamSessions - 1);
    for (const replica of [a, b]) {
      const response = await fetch(`${replica.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(response.status).toBe(404);
    }
    await mcp.close();
  });

  it('frees the one GET stream on the owner when the client drops it on the other replica', async () => {
    const balancer = roundRobin('a');
    const { mcp, transport } = await connect(balancer);
    try {
      const headers = { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' };
      // The SDK client holds the session's one GET stream on a, so b, relaying, is refused one too...
      await expect.poll(() => balancer.landed.some((request) => request.method === 'GET' && request.status === 200)).toBe(true);
      const conflict = await fetch(`${b.url}/mcp`, { headers });
      expect(conflict.status).toBe(409);
      await conflict.body?.cancel();
      // ...until the client drops it. Then the stream is opened through b and dropped there, and b's cancel reaches
      // a: a new stream is allowed each time.
      await mcp.close();
      for (let attempt = 0; attempt < 3; attempt++) {
        let stream: Response | undefined;
        await expect.poll(async () => {
          stream = await fetch(`${b.url}/mcp`, { headers });
          if (stream.status !== 200) await stream.body?.cancel();
          return stream.status;
        }).toBe(200);
        await stream!.body!.cancel();
        await expect.poll(async () => {
          const probe = await fetch(`${a.url}/mcp`, { headers });
          await probe.body?.cancel();
          return probe.status;
        }).toBe(200);
      }
    } finally {
      await mcp.close();
    }
  });

  it('stops streaming to a replica that died, freeing the stream it relayed', async () => {
    const c = await spawnGateway(['start', '--config', replicas.configFile], { HOST: '127.0.0.1', PORT: '0' });
    const balancer = roundRobin('a');
    const { mcp, transport } = await connect(balancer);
    const headers = { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' };
    try {
      // Free the SDK client's own GET stream, then hold the session's one stream open through c.
      await mcp.close();
      await expect.poll(async () => {
        const probe = await fetch(`${c.url}/mcp`, { headers });
        if (probe.status !== 200) await probe.body?.cancel();
        return probe.status;
      }).toBe(200);
      await c.stop('SIGKILL');
      // The next message a sends on that stream (the upstream's list_changed) finds no listener, and a closes the stream.
      const announce = await fetch(`${a.url}/mcp`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'announce', method: 'tools/call', params: { name: 'control__announce', arguments: {} } }),
      });
      expect(await announce.text()).toContain('announced');
      await expect.poll(async () => {
        const probe = await fetch(`${a.url}/mcp`, { headers });
        await probe.body?.cancel();
        return probe.status;
      }).toBe(200);
    } finally {
      await c.stop('SIGKILL');
    }
  });

  it('answers 404 for the sessions of a replica that died, so the client starts a new session elsewhere', async () => {
    const { mcp, transport } = await connect(roundRobin('a'));
    const sessionId = transport.sessionId!;
    await a.stop('SIGKILL');
    const response = await fetch(`${b.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    await mcp.close().catch(() => undefined);

    const survivor: Balancer = { fetch: ((input: string | URL | Request, init?: RequestInit) => fetch(new URL(new URL(input instanceof Request ? input.url : input).pathname, b.url), init)) as typeof fetch, landed: [] };
    const fresh = await connect(survivor);
    expect((await fresh.mcp.callTool({ name: 'conf__test_simple_text', arguments: {} })).content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
    await fresh.mcp.close();
  });
});
