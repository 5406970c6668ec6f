import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// An idle SSE stream carries keep-alive comments, so that proxies and load balancers in between do not cut it.
let gateway: TestGateway;
let headers: Record<string, string>;

beforeAll(async () => {
  gateway = await startTestGateway({ mcp: { keepAliveMs: 200 }, tenants: [{ id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }] }] });
  const token = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
  headers = { authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
});

afterAll(async () => {
  await gateway?.close();
});

test('the GET stream of an idle session carries a keep-alive comment every mcp.keepAliveMs', async () => {
  const initialized = await fetch(gateway.resource, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'idle', version: '1' } } }),
  });
  const sessionId = initialized.headers.get('mcp-session-id')!;
  await initialized.body?.cancel();

  const stream = await fetch(gateway.resource, { headers: { ...headers, accept: 'text/event-stream', 'mcp-session-id': sessionId } });
  expect(stream.status).toBe(200);
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  const started = Date.now();
  let received = '';
  while (received.split(': keepalive\n\n').length - 1 < 3) received += (await reader.read()).value ?? '';
  const elapsed = Date.now() - started;
  await reader.cancel();
  // Three comments and nothing else (the stream is idle), no sooner than the interval allows.
  expect(received.replace(/^id: .*\n(retry: \d+\n)?data: \n\n/, '')).toBe(': keepalive\n\n'.repeat(3));
  expect(elapsed).toBeGreaterThanOrEqual(3 * 200 - 50);
});
