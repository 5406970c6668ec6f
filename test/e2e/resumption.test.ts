import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { z } from 'zod';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';
import { readEvents } from '../helpers/sse.js';

// Test 3 of issue 3, resumption: a client that loses the SSE stream of a tool call reconnects with Last-Event-ID
// and receives exactly the events it missed, from the gateway's store-backed event log.

function slowServer(): McpServer {
  const server = new McpServer({ name: 'slow', version: '1.0.0' });
  server.registerTool('count', { description: 'Counts to three, slowly, reporting progress', inputSchema: { delayMs: z.number() } }, async ({ delayMs }, extra) => {
    for (let step = 1; step <= 3; step++) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const progressToken = extra._meta?.progressToken;
      if (progressToken !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: step, total: 3 } });
    }
    return { content: [{ type: 'text', text: 'counted to 3' }] };
  });
  return server;
}

let upstream: ServedMcp;
let gateway: TestGateway;
let headers: Record<string, string>;

beforeAll(async () => {
  upstream = await serveStreamableHttp(slowServer);
  gateway = await startTestGateway({ tenants: [{ id: 'default', upstreams: [{ id: 'slow', transport: 'streamable-http', url: upstream.url }] }] });
  const token = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
  headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

async function post(body: unknown, sessionId?: string): Promise<Response> {
  return fetch(gateway.resource, { method: 'POST', headers: { ...headers, ...(sessionId && { 'mcp-session-id': sessionId }) }, body: JSON.stringify(body) });
}

test('Last-Event-ID replays exactly the missed events of that stream, and no other session can replay them', async () => {
  const initialized = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'resumer', version: '1' } } });
  expect(initialized.status).toBe(200);
  const sessionId = initialized.headers.get('mcp-session-id')!;
  await initialized.body?.cancel();
  expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId)).status).toBe(202);

  const call = await post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow__count', arguments: { delayMs: 150 }, _meta: { progressToken: 'p' } } }, sessionId);
  expect(call.headers.get('content-type')).toContain('text/event-stream');
  // The connection drops after the first progress notification.
  const [first] = await readEvents(call, (events) => events.length >= 1);
  expect(JSON.parse(first!.data)).toMatchObject({ method: 'notifications/progress', params: { progress: 1 } });
  expect(first!.id).toBeTruthy();

  // Someone else's session cannot replay this stream.
  const other = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'other', version: '1' } } });
  const otherSession = other.headers.get('mcp-session-id')!;
  await other.body?.cancel();
  const stolen = await fetch(gateway.resource, { headers: { ...headers, 'mcp-session-id': otherSession, 'last-event-id': first!.id! } });
  expect(stolen.status).toBe(400);
  await stolen.body?.cancel();

  const resumed = await fetch(gateway.resource, { headers: { ...headers, 'mcp-session-id': sessionId, 'last-event-id': first!.id! } });
  expect(resumed.status).toBe(200);
  const missed = await readEvents(resumed, (events) => events.some((event) => JSON.parse(event.data).id === 7));
  const messages = missed.map((event) => JSON.parse(event.data) as { method?: string; params?: { progress?: number }; id?: number; result?: unknown });
  expect(messages.map((message) => message.params?.progress ?? message.id)).toEqual([2, 3, 7]);
  expect(messages.at(-1)).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'counted to 3' }] } });
  expect(new Set(missed.map((event) => event.id)).size).toBe(missed.length);
});
