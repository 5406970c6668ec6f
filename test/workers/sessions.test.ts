import { exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { SERVICE_CLIENT, WORKER_URL } from './config.js';

// MCP sessions of the Worker (wrangler.toml, with the configuration of vitest.workers.config.ts) in their Durable
// Objects, inside workerd: the session lives in its object while used, and is closed once idle.
const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;

async function serviceToken(): Promise<string> {
  const response = await worker.fetch(
    new Request(`${WORKER_URL}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa(`${SERVICE_CLIENT.clientId}:${SERVICE_CLIENT.clientSecret}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${WORKER_URL}/mcp`, scope: 'mcp' }),
    }),
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

function mcp(token: string, message: object, sessionId?: string): Promise<Response> {
  return worker.fetch(
    new Request(`${WORKER_URL}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        ...(sessionId !== undefined && { 'mcp-session-id': sessionId }),
      },
      body: JSON.stringify(message),
    }),
  );
}

const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('holds a session in the Durable Object its id names while it is used, and closes it once idle', async () => {
  const token = await serviceToken();
  const initialized = await mcp(token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'workerd-test', version: '1' } } });
  expect(initialized.status).toBe(200);
  const sessionId = initialized.headers.get('mcp-session-id')!;
  expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await initialized.text();
  expect((await mcp(token, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId)).status).toBe(202);
  const listed = await mcp(token, listTools, sessionId);
  expect(listed.status).toBe(200);
  expect(await listed.text()).toContain('"name":"demo__echo"');

  // Used every 0.6 s, the session outlives its idle timeout (1 s here) several times over.
  for (let i = 0; i < 3; i++) {
    await sleep(600);
    const kept = await mcp(token, listTools, sessionId);
    expect(kept.status).toBe(200);
    await kept.text();
  }
  // Idle for longer, it is closed: its id is unknown from then on.
  await sleep(1300);
  const closed = await mcp(token, listTools, sessionId);
  expect(closed.status).toBe(404);
  expect(await closed.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' } });
});

it('answers 404 for a session id it never gave, and 400 for a request without one that is not initialize', async () => {
  const token = await serviceToken();
  const unknown = await mcp(token, listTools, 'a-session-id-nobody-was-given');
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toMatchObject({ error: { code: -32001 } });

  const refused = await mcp(token, listTools);
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ error: { code: -32000 } });
  for (const method of ['GET', 'DELETE']) {
    const withoutSession = await worker.fetch(new Request(`${WORKER_URL}/mcp`, { method, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }));
    expect(withoutSession.status).toBe(400);
    expect(await withoutSession.json()).toMatchObject({ error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' } });
  }
});
